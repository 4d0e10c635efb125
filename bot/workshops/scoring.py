"""Fair slot choice: who can come, then whose night it is, explained.

Pure functions over plain values (no database), so the recommendation, the
benchmark (bench/workshops.py) and the labelled evaluation
(bench/workshop_slots.py) run the same code.

The order of concerns, each a tie-breaker for the one before:

1. every *required* person (the lead, the chair) can come;
2. the slot reaches the quorum of the group's members;
3. weighted attendance: members 1, observers ``observer_weight``; ``yes`` and
   ``ifneedbe`` both count as "can come" (Rallly's first term), and people who
   have not answered are not counted;
4. organisations represented (a slot that loses a whole organisation is worse);
5. no region has the night slot twice in a row (the burden ledger's last entry);
6. the worst cumulative burden after this workshop (the burden ledger plus this
   slot's burden), so inconvenient hours rotate across regions over quarters;
7. the total burden of this slot, then more firm ``yes``, then the earlier slot.

Burden of a local hour (the worst hour the meeting covers): 00:00-06:00 is
night (:data:`NIGHT`), 06:00-08:00 and 21:00-24:00 are early/late (:data:`EDGE`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

from bot.errors import N_

NIGHT = 3.0
EDGE = 1.0
ANSWERS = ("yes", "ifneedbe", "no")


def hour_burden(hour: float) -> float:
    """The burden of attending at local ``hour`` (0 <= hour < 24)."""
    if hour < 6:
        return NIGHT
    if hour < 8 or hour >= 21:
        return EDGE
    return 0.0


@lru_cache(maxsize=65536)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_hour(moment: datetime, zone: str) -> float:
    """``moment`` (aware) as a local hour of day in ``zone`` (e.g. 15.5)."""
    local = moment.astimezone(_zone(zone))
    return local.hour + local.minute / 60


def span_burden(start: datetime, minutes: int, zone: str) -> tuple[float, float]:
    """``(burden, local start hour)`` of a meeting from ``start`` lasting
    ``minutes`` in ``zone``: the worst burden of any half hour it covers."""
    worst = 0.0
    step = 0
    while step < max(minutes, 1):
        worst = max(worst, hour_burden(local_hour(start + timedelta(minutes=step), zone)))
        step += 30
    return worst, local_hour(start, zone)


@dataclass(frozen=True, slots=True)
class Respondent:
    """An invitee: ``answers`` maps slot id to ``yes``/``ifneedbe``/``no``
    (a missing slot: not answered); ``weight`` 1 for a member, less for an
    observer; ``member`` counts towards the quorum; ``required`` must come."""

    person_id: int
    zone: str
    answers: Mapping[int, str]
    weight: float = 1.0
    member: bool = True
    required: bool = False
    organisation: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate slot: ``starts_at`` aware (UTC)."""

    slot_id: int
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class SlotScore:
    """How one slot fares. ``region_burden`` maps zone to the burden its people
    would carry (max over them); ``repeat_nights`` the zones that had the night
    last time and would again; ``worst_cumulative`` the highest ledger total
    after this slot."""

    slot_id: int
    starts_at: datetime
    can_come: float
    yes: float
    members_can: int
    quorum_met: bool
    required_missing: tuple[str, ...]
    organisations: int
    repeat_nights: tuple[str, ...]
    worst_cumulative: float
    total_burden: float
    region_burden: Mapping[str, float] = field(default_factory=dict)
    night_zones: tuple[str, ...] = ()

    def key(self) -> tuple[float | int | datetime, ...]:
        """The sort key (lower is better): see the module doc for the order."""
        return (len(self.required_missing), 0 if self.quorum_met else 1,
                -round(self.can_come, 6), -self.organisations, len(self.repeat_nights),
                round(self.worst_cumulative, 6), round(self.total_burden, 6),
                -round(self.yes, 6), self.starts_at)


@dataclass(frozen=True, slots=True)
class Ledger:
    """The burden ledger of a series: ``total`` per person (sum so far) and
    ``last`` per person (their burden at the previous workshop)."""

    total: Mapping[int, float] = field(default_factory=dict)
    last: Mapping[int, float] = field(default_factory=dict)


def score_slots(candidates: Sequence[Candidate], respondents: Sequence[Respondent], *,
                ledger: Ledger | None = None, minutes: int = 90,
                quorum: int = 0) -> list[SlotScore]:
    """Score and rank ``candidates`` (best first).

    ``quorum``: how many members must be able to come; ``ledger``: the
    series' burden so far; ``minutes``: the meeting length. People who
    answered ``no`` carry no burden (they will not come); everyone else
    invited does. Cost: one zone conversion per (zone, slot).
    """
    ledger = ledger or Ledger()
    zones = sorted({r.zone for r in respondents})
    out: list[SlotScore] = []
    for cand in candidates:
        burden_by_zone = {z: span_burden(cand.starts_at, minutes, z)[0] for z in zones}
        can = yes = 0.0
        members = 0
        orgs: set[str] = set()
        missing: list[str] = []
        region: dict[str, float] = {}
        repeat: set[str] = set()
        worst = total = 0.0
        for r in respondents:
            answer = r.answers.get(cand.slot_id)
            if answer in ("yes", "ifneedbe"):
                can += r.weight
                members += r.member
                if answer == "yes":
                    yes += r.weight
                if r.organisation:
                    orgs.add(r.organisation)
            elif r.required:
                missing.append(r.name or str(r.person_id))
            if answer == "no":
                continue
            b = burden_by_zone[r.zone]
            total += b
            region[r.zone] = max(region.get(r.zone, 0.0), b)
            if b >= NIGHT and ledger.last.get(r.person_id, 0.0) >= NIGHT:
                repeat.add(r.zone)
            worst = max(worst, ledger.total.get(r.person_id, 0.0) + b)
        out.append(SlotScore(
            slot_id=cand.slot_id, starts_at=cand.starts_at, can_come=can, yes=yes,
            members_can=members, quorum_met=members >= quorum,
            required_missing=tuple(missing), organisations=len(orgs),
            repeat_nights=tuple(sorted(repeat)), worst_cumulative=worst, total_burden=total,
            region_burden=region,
            night_zones=tuple(z for z, b in sorted(region.items()) if b >= NIGHT)))
    out.sort(key=SlotScore.key)
    return out


def rallly_rank(candidates: Sequence[Candidate],
                respondents: Sequence[Respondent]) -> list[int]:
    """The baseline: Rallly's ``(yes + ifneedbe) * 1000 + yes`` per slot,
    unweighted, ties to the earlier slot. Returns slot ids, best first."""
    scored = []
    for c in candidates:
        yes = sum(r.answers.get(c.slot_id) == "yes" for r in respondents)
        maybe = sum(r.answers.get(c.slot_id) == "ifneedbe" for r in respondents)
        scored.append((-((yes + maybe) * 1000 + yes), c.starts_at, c.slot_id))
    return [s for _k, _t, s in sorted(scored)]


@dataclass(frozen=True, slots=True)
class Reason:
    """One line of an explanation: a gettext ``msgid`` and its ``params``."""

    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)


def explain(ranked: Sequence[SlotScore], *, ledger: Ledger | None = None,
            respondents: Sequence[Respondent] = ()) -> list[Reason]:
    """Why the first of ``ranked`` is recommended, compared with the runner-up."""
    if not ranked:
        return [Reason(N_("There are no candidate slots yet."))]
    best = ranked[0]
    out = [Reason(N_("{can} can come (weighted), {members} of them members; {orgs} "
                     "organisations."), {"can": _num(best.can_come),
                                         "members": best.members_can,
                                         "orgs": best.organisations})]
    if best.required_missing:
        out.append(Reason(N_("No slot suits everyone required: {names} cannot come."),
                          {"names": ", ".join(best.required_missing)}))
    if not best.quorum_met:
        out.append(Reason(N_("Below the quorum of members: the group cannot decide at "
                             "this workshop.")))
    if best.night_zones:
        out.append(Reason(N_("At night for: {zones}."), {"zones": ", ".join(best.night_zones)}))
    if len(ranked) > 1:
        second = ranked[1]
        if second.required_missing and not best.required_missing:
            out.append(Reason(N_("The next slot would lose {names} (required)."),
                              {"names": ", ".join(second.required_missing)}))
        elif round(second.can_come, 6) < round(best.can_come, 6):
            out.append(Reason(N_("The next slot has fewer who can come ({can})."),
                              {"can": _num(second.can_come)}))
        elif second.repeat_nights and len(second.repeat_nights) > len(best.repeat_nights):
            out.append(Reason(N_("The next slot would give {zones} the night again, a second "
                                 "workshop in a row; this one spares them."),
                              {"zones": ", ".join(second.repeat_nights)}))
        elif round(second.worst_cumulative, 6) > round(best.worst_cumulative, 6):
            moved = [z for z, b in second.region_burden.items()
                     if b > best.region_burden.get(z, 0.0)]
            out.append(Reason(N_("Equal attendance; this slot moves the inconvenient hour "
                                 "away from {zones}, who have carried the most so far "
                                 "(burden {worst} against {other})."),
                              {"zones": ", ".join(sorted(moved)) or "-",
                               "worst": _num(best.worst_cumulative),
                               "other": _num(second.worst_cumulative)}))
    if ledger is not None and respondents:
        per_zone: dict[str, float] = {}
        for r in respondents:
            per_zone[r.zone] = max(per_zone.get(r.zone, 0.0), ledger.total.get(r.person_id, 0))
        if any(per_zone.values()):
            out.append(Reason(N_("Burden so far by region: {ledger}."),
                              {"ledger": ", ".join(f"{z} {_num(v)}" for z, v in
                                                   sorted(per_zone.items()))}))
    return out


def slot_reasons(score: SlotScore, *, language: str = "en",
                 best: SlotScore | None = None) -> list[Reason]:
    """What placed ``score`` where it is, in the order the ranking weighs it
    (see the module doc): a required person who cannot come, the quorum, who
    can come, organisations, a repeated night, night hours. ``language``
    formats the numbers (Babel); ``best``: the recommended slot, to say how
    this one compares when attendance decided."""
    out: list[Reason] = []
    if score.required_missing:
        out.append(Reason(N_("{names} (required) cannot come"),
                          {"names": ", ".join(score.required_missing)}))
    if not score.quorum_met:
        out.append(Reason(N_("below the members' quorum")))
    out.append(Reason(N_("{can} can come (weighted)"),
                      {"can": format_decimal(round(score.can_come, 2), locale=language)}))
    if best is not None and score is not best and score.organisations < best.organisations:
        out.append(Reason(N_("{orgs} organisations against {best}"),
                          {"orgs": score.organisations, "best": best.organisations}))
    if score.repeat_nights:
        out.append(Reason(N_("the night again for {zones}"),
                          {"zones": ", ".join(score.repeat_nights)}))
    if score.night_zones:
        out.append(Reason(N_("at night for {zones}"), {"zones": ", ".join(score.night_zones)}))
    return out


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))


def clock_shifts(previous: datetime, current: datetime, zones: Sequence[str], *,
                 anchor_zone: str) -> list[tuple[str, float, float]]:
    """Zones whose local hour moves between two workshops that keep the same
    local hour in ``anchor_zone`` (one hemisphere changed its clocks):
    ``(zone, hour before, hour now)``. Empty when the anchor itself moved."""
    if local_hour(previous, anchor_zone) != local_hour(current, anchor_zone):
        return []
    out = []
    for z in sorted(set(zones)):
        before, now = local_hour(previous, z), local_hour(current, z)
        if before != now:
            out.append((z, before, now))
    return out
