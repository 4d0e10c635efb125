"""Labelled evaluation of slot choice: Convene's fair ranking against the
Rallly-style baseline ``(yes + ifneedbe) * 1000 + yes``.

Each case is a small scheduling problem with the acceptable answer set by the
principle it tests (not by running either ranker): a required person (the
lead or chair) must be able to come; a member weighs more than an observer;
with equal attendance the region that had the night last time is spared;
more people who can come wins; firm yes breaks a tie; a slot that keeps every
organisation in the room beats one that loses some. 150 cases, seeded.

    .venv/bin/python bench/workshop_slots.py
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.workshops.scoring import (
    Candidate,
    Ledger,
    Respondent,
    rallly_rank,
    score_slots,
)

OBSERVER_WEIGHT = 0.5


@dataclass
class Case:
    family: str
    slots: list[Candidate]
    people: list[Respondent]
    ledger: Ledger
    acceptable: set[int]
    why: str


def _slot(i: int, day: int, hour: int) -> Candidate:
    return Candidate(i, datetime(2027, 5, 10, tzinfo=UTC) + timedelta(days=day, hours=hour))


def _filler(rng: random.Random, n: int, slots: list[Candidate], start: int,
            zone: str = "Europe/Paris") -> list[Respondent]:
    """``n`` members who can come to every slot (so they change no ranking)."""
    return [Respondent(start + k, zone, {s.slot_id: rng.choice(["yes", "ifneedbe"])
                                         for s in slots}, organisation=f"f{k % 3}")
            for k in range(n)]


def required(rng: random.Random) -> Case:
    slots = [_slot(1, 0, 13), _slot(2, 1, 13)]
    extra = rng.randint(1, 5)
    people = [Respondent(1, "Australia/Sydney", {1: "no", 2: "yes"}, required=True,
                         name="chair")]
    people += [Respondent(10 + k, "Europe/Paris", {1: "yes", 2: "no"}) for k in range(extra)]
    people += _filler(rng, rng.randint(0, 6), slots, 100)
    return Case("required person", slots, people, Ledger(), {2},
                "the chair can only come to slot 2")


def members_over_observers(rng: random.Random) -> Case:
    slots = [_slot(1, 0, 13), _slot(2, 1, 13)]
    m = rng.randint(2, 5)
    o = rng.randint(m + 1, 2 * m - 1) if m > 2 else 3
    o = min(o, int(m / OBSERVER_WEIGHT) - 1)
    people = [Respondent(10 + k, "Europe/Paris", {1: "yes", 2: "no"}) for k in range(m)]
    people += [Respondent(50 + k, "Europe/Berlin", {1: "no", 2: "yes"}, weight=OBSERVER_WEIGHT,
                          member=False) for k in range(max(o, m + 1))]
    return Case("members weigh more", slots, people, Ledger(), {1},
                f"{m} members against {max(o, m + 1)} observers (observers advise)")


def spare_last_night(rng: random.Random) -> Case:
    # 14:00 UTC is 00:00/01:00 in Sydney; 05:00 UTC is 22:00 in Los Angeles (edge) and
    # daytime in Sydney; both slots: equal attendance.
    slots = [_slot(1, 0, 14), _slot(2, 1, 5)]
    rng.shuffle(slots)
    n = rng.randint(1, 4)
    people = [Respondent(k, "Australia/Sydney", {1: "ifneedbe", 2: "yes"}) for k in range(n)]
    people += [Respondent(20 + k, "America/Los_Angeles", {1: "yes", 2: "ifneedbe"})
               for k in range(n)]
    people += _filler(rng, rng.randint(0, 4), slots, 100, zone="Asia/Kolkata")
    last = {k: 3.0 for k in range(n)}
    return Case("rotate the night", slots, people, Ledger(total=dict(last), last=last), {2},
                "Sydney had the night last quarter; slot 2 spares them")


def more_can_come(rng: random.Random) -> Case:
    k = rng.randint(3, 6)
    slots = [_slot(i, i, 13) for i in range(1, k + 1)]
    best = rng.randint(1, k)
    people = []
    for p in range(rng.randint(6, 20)):
        ans = {s.slot_id: rng.choice(["yes", "no", "no", "ifneedbe"]) for s in slots}
        people.append(Respondent(p, "Europe/Paris", ans))
    for p in range(3):  # three more can come to ``best`` only
        people.append(Respondent(500 + p, "Europe/Paris",
                                 {s.slot_id: "yes" if s.slot_id == best else "no"
                                  for s in slots}))
    counts = {s.slot_id: sum(p.answers.get(s.slot_id) in ("yes", "ifneedbe") for p in people)
              for s in slots}
    top = max(counts.values())
    return Case("more can come", slots, people, Ledger(),
                {s for s, c in counts.items() if c == top}, "most people can come")


def firm_yes(rng: random.Random) -> Case:
    slots = [_slot(1, 0, 13), _slot(2, 1, 13)]
    rng.shuffle(slots)
    n = rng.randint(3, 8)
    people = [Respondent(k, "Europe/Paris", {1: "ifneedbe", 2: "yes"}) for k in range(n)]
    return Case("firm yes", slots, people, Ledger(), {2}, "same attendance, more firm yes")


def organisations(rng: random.Random) -> Case:
    slots = [_slot(1, 0, 13), _slot(2, 1, 13)]
    n = rng.randint(2, 4)
    people = [Respondent(k, "Europe/Paris", {1: "yes", 2: "no"}, organisation="big")
              for k in range(n)]
    people += [Respondent(100 + k, "Europe/Paris", {1: "no", 2: "yes"},
                          organisation=f"org{k}") for k in range(n)]
    # slot 1 is earlier and has the same heads: the baseline keeps it
    return Case("every organisation", slots, people, Ledger(), {2},
                f"slot 2 has {n} organisations, slot 1 one")


FAMILIES = [(required, 30), (members_over_observers, 25), (spare_last_night, 30),
            (more_can_come, 30), (firm_yes, 15), (organisations, 20)]


def cases(seed: int = 20261201) -> list[Case]:
    rng = random.Random(seed)
    return [make(rng) for make, n in FAMILIES for _ in range(n)]


def main() -> None:
    all_cases = cases()
    per: dict[str, list[tuple[bool, bool]]] = {}
    for c in all_cases:
        ours = score_slots(c.slots, c.people, ledger=c.ledger)[0].slot_id
        base = rallly_rank(c.slots, c.people)[0]
        per.setdefault(c.family, []).append((ours in c.acceptable, base in c.acceptable))
    print(f"{len(all_cases)} labelled scheduling cases")
    print(f"{'family':22} {'n':>4} {'Convene':>8} {'Rallly':>8}")
    for fam, rows in per.items():
        print(f"{fam:22} {len(rows):4d} {sum(a for a, _ in rows) / len(rows):8.0%} "
              f"{sum(b for _, b in rows) / len(rows):8.0%}")
    flat = [r for rows in per.values() for r in rows]
    print(f"{'all':22} {len(flat):4d} {sum(a for a, _ in flat) / len(flat):8.0%} "
          f"{sum(b for _, b in flat) / len(flat):8.0%}")


if __name__ == "__main__":
    main()
