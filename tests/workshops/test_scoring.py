"""The fair recommendation: a 30-person roster over six regions for eight
quarters with the same candidate slots rotates the night; required people,
observers' weight and the quorum; the Paris anchor across daylight saving."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.workshops.scoring import (
    NIGHT,
    Candidate,
    Ledger,
    Respondent,
    clock_shifts,
    explain,
    rallly_rank,
    score_slots,
    span_burden,
)

REGIONS = ["Australia/Sydney", "Asia/Tokyo", "Africa/Nairobi", "Europe/Paris",
           "America/Sao_Paulo", "America/Los_Angeles"]
#: the same four candidate UTC hours every quarter
HOURS = [0, 6, 14, 21]


def quarter_slots(q: int) -> list[Candidate]:
    day = date(2027, 1, 14) + timedelta(weeks=13 * q)
    return [Candidate(i, datetime(day.year, day.month, day.day, h, tzinfo=UTC))
            for i, h in enumerate(HOURS)]


def roster(slots: list[Candidate]) -> list[Respondent]:
    # everyone can come to every slot, if need be: attendance is equal and
    # only fairness decides
    return [Respondent(person_id=k * 6 + r, zone=z, answers={c.slot_id: "ifneedbe"
                                                             for c in slots},
                       organisation=f"org{k}")
            for r, z in enumerate(REGIONS) for k in range(5)]


def burdens(slot: Candidate, people: list[Respondent]) -> dict[int, float]:
    return {p.person_id: span_burden(slot.starts_at, 90, p.zone)[0] for p in people}


def test_eight_quarters_rotate_the_night_fairly() -> None:
    total: dict[int, float] = {}
    last: dict[int, float] = {}
    chosen = []
    for q in range(8):
        slots = quarter_slots(q)
        people = roster(slots)
        ranked = score_slots(slots, people, ledger=Ledger(dict(total), dict(last)))
        best = ranked[0]
        # no region gets the night twice in a row when an equal slot would spare it
        if best.repeat_nights:
            assert all(s.repeat_nights for s in ranked), (q, best)
        b = burdens(next(s for s in slots if s.slot_id == best.slot_id), people)
        for pid, v in b.items():
            total[pid] = total.get(pid, 0.0) + v
        last = b
        chosen.append(best.slot_id)
    worst = max(total.values())
    # the fairest possible rotation, by brute force over every 4^8 choice
    # (people of one region carry the same burden: one of each is enough)
    reps = [p for p in roster(quarter_slots(0)) if p.person_id < 6]
    per_slot = [[[burdens(c, reps)[p.person_id] for p in reps] for c in quarter_slots(q)]
                for q in range(8)]
    best_possible = min(
        max(sum(col) for col in zip(*(per_slot[q][pick[q]] for q in range(8)), strict=True))
        for pick in itertools.product(range(len(HOURS)), repeat=8))
    assert worst <= best_possible + NIGHT, (worst, best_possible, chosen)
    assert len(set(chosen)) > 1  # it rotates


def test_rallly_baseline_never_rotates() -> None:
    picks = {rallly_rank(quarter_slots(q), roster(quarter_slots(q)))[0] for q in range(8)}
    assert picks == {0}


def test_required_people_quorum_and_weights() -> None:
    slots = [Candidate(1, datetime(2027, 3, 11, 14, tzinfo=UTC)),
             Candidate(2, datetime(2027, 3, 12, 14, tzinfo=UTC))]
    people = [Respondent(1, "Europe/Paris", {1: "yes", 2: "yes"}),
              Respondent(2, "Europe/Paris", {1: "yes", 2: "no"}),
              Respondent(3, "Europe/Paris", {1: "no", 2: "yes"}, required=True, name="Chair"),
              Respondent(4, "Europe/Paris", {1: "yes", 2: "no"}, weight=0.5, member=False)]
    ranked = score_slots(slots, people, quorum=2)
    assert ranked[0].slot_id == 2  # the chair can come only then, although fewer can
    assert ranked[1].required_missing == ("Chair",)
    texts = [r.msgid for r in explain(ranked)]
    assert any("required" in t for t in texts)
    # observers weigh less: 2 members beat 3 observers
    obs = [Respondent(10 + i, "Europe/Paris", {1: "yes", 2: "no"}, weight=0.3, member=False)
           for i in range(3)]
    mem = [Respondent(20 + i, "Europe/Paris", {1: "no", 2: "yes"}) for i in range(2)]
    assert score_slots(slots, obs + mem, quorum=1)[0].slot_id == 2
    assert rallly_rank(slots, obs + mem)[0] == 1  # the baseline counts heads


def test_paris_anchor_keeps_15h_across_dst_and_shows_the_shift() -> None:
    paris = ZoneInfo("Europe/Paris")
    q1 = datetime(2027, 3, 11, 15, tzinfo=paris).astimezone(UTC)   # CET; Sydney AEDT
    q2 = datetime(2027, 6, 10, 15, tzinfo=paris).astimezone(UTC)   # CEST; Sydney AEST
    assert (q1.hour, q2.hour) == (14, 13)
    assert q1.astimezone(ZoneInfo("Australia/Sydney")).strftime("%H:%M %Z") == "01:00 AEDT"
    assert q2.astimezone(ZoneInfo("Australia/Sydney")).strftime("%H:%M %Z") == "23:00 AEST"
    assert q1.astimezone(ZoneInfo("America/Los_Angeles")).strftime("%H:%M %Z") == "06:00 PST"
    shifts = dict((z, (a, b)) for z, a, b in clock_shifts(
        q1, q2, ["Australia/Sydney", "America/Los_Angeles", "Europe/Paris"],
        anchor_zone="Europe/Paris"))
    assert shifts == {"Australia/Sydney": (1.0, 23.0)}  # LA moved with Paris; Sydney did not
