"""Seeding for bench/scale.py: an alliance of ``people`` in 40 groups, 50 open
proposals, 20 workshops with 60 candidate slots, 30 open sprints and 1,000
feeds, written with Core bulk inserts (seconds, not minutes, at 5,000 people).
Not a benchmark itself (``make bench`` runs it as one: it seeds 200 people
into a scratch SQLite database and prints the row counts).

The shape, whatever ``people`` is:

- the alliance (group 1) holds everyone: four secretariat, two chairs, one
  in 25 an observer, the rest members; each person is also in one of 39
  working groups (the same role); one organisation per ten people; three
  languages and eight zones in turn; two scope topics of interest each;
- 50 proposals in round 1 (every fifth alliance-wide): a third close within
  24 hours (their reminders are due), two are past their close (the tick
  closes them), the rest close in two to three days; 30 % of voters have a
  stance; 250 decided proposals before them (a year's history);
- 20 confirmed workshops (every fifth alliance-wide) with three candidate
  slots each, availability from half the group, RSVPs (one in ten declined);
  ten start within the hour (every reminder of theirs is due once planned),
  ten in three days;
- 30 open sprints with room, two topics each, a few sign-ups;
- 1,000 feeds, each a local RSS file of three entries published in
  :data:`WEEK`.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from storage.engine import make_session_factory  # noqa: E402
from storage.migrate import upgrade_engine  # noqa: E402
from storage.models import (  # noqa: E402
    DigestFeed,
    EmailAddress,
    Group,
    Membership,
    Organisation,
    Person,
    Proposal,
    ProposalVersion,
    Role,
    Round,
    Sprint,
    SprintSignup,
    Stance,
    Workshop,
    WorkshopAvailability,
    WorkshopRsvp,
    WorkshopSeries,
    WorkshopSlot,
)

GROUPS, PROPOSALS, WORKSHOPS, SLOTS_EACH, SPRINTS, FEEDS = 40, 50, 20, 3, 30, 1000
#: Decided proposals before the open ones (the poll tables' history).
HISTORY = 250
#: The press review's week: the feeds' entries are published in it.
WEEK = "2026-W47"
WEEK_MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
ZONES = ("Europe/Paris", "America/New_York", "Asia/Tokyo", "Africa/Nairobi",
         "America/Sao_Paulo", "Asia/Kolkata", "Australia/Sydney", "Europe/London")
LANGUAGES = ("en", "fr", "es")
TOPICS = ("carbon_accounting", "carbon_markets", "soil_measurement", "soil_modelling",
          "soil_methods", "credit_integrity", "soil_finance", "co_benefits", "benefit_sharing")
#: Words the press review's taxonomy matches (so a build selects articles).
HEADLINES = ("Soil carbon measurement methods for farmers", "Carbon credit integrity under review",
             "New soil organic carbon model published", "Carbon markets and soil finance",
             "Benefit sharing in soil carbon projects", "Co-benefits of soil carbon for water")


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the bench needs from the seed: ids and addresses."""

    people: int
    member_emails: list[str]
    alliance_workshops: list[int]
    soon_workshops: list[int]
    feed_dir: Path


def _role(i: int) -> Role:
    if i <= 4:
        return Role.SECRETARIAT
    if i <= 6:
        return Role.CHAIR
    return Role.OBSERVER if i % 25 == 0 else Role.MEMBER


def _bulk(session: Any, model: Any, rows: list[dict[str, Any]], chunk: int = 2000) -> None:
    for k in range(0, len(rows), chunk):
        session.execute(insert(model), rows[k:k + chunk])


def _rfc822(when: datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


def write_feeds(folder: Path, feeds: int = FEEDS) -> list[Path]:
    """``feeds`` RSS files of three entries each, published in :data:`WEEK`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in range(feeds):
        items = "".join(
            f"<item><title>{HEADLINES[(f + j) % len(HEADLINES)]} ({f}-{j})</title>"
            f"<link>https://feed{f}.example/a/{j}</link><guid>feed{f}-{j}</guid>"
            f"<pubDate>{_rfc822(WEEK_MONDAY + timedelta(hours=7 * j + f % 90))}"
            f"</pubDate><description>{HEADLINES[(f * 7 + j) % len(HEADLINES)]}: farmers, "
            "soil organic carbon, measurement and verification.</description></item>"
            for j in range(3))
        path = folder / f"feed{f:04d}.xml"
        path.write_text('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                        f"<title>Feed {f}</title><link>https://feed{f}.example/</link>{items}"
                        "</channel></rss>", encoding="utf-8")
        paths.append(path)
    return paths


def seed(engine: Engine, people: int, *, now: datetime, feed_dir: Path,
         feeds: int = FEEDS) -> Seeded:
    """Upgrade ``engine``'s schema and seed it (see the module's docstring).
    ``now``: aware UTC, the instant the bench's operations run at."""
    upgrade_engine(engine)
    rng = random.Random(24)
    orgs = max(1, people // 10)
    paths = write_feeds(feed_dir, feeds)
    group_of = {i: 2 + i % (GROUPS - 1) for i in range(1, people + 1)}
    with make_session_factory(engine)() as s, s.begin():
        _bulk(s, Organisation, [{"id": o, "name": f"Org {o:04d}", "created_at": now}
                                for o in range(1, orgs + 1)])
        _bulk(s, Group, [{"id": g, "name": "Alliance" if g == 1 else f"Working group {g:02d}",
                          "is_alliance": g == 1, "voting_unit": "person", "channels": {},
                          "created_at": now} for g in range(1, GROUPS + 1)])
        _bulk(s, Person, [{"id": i, "name": f"Person {i:05d}", "organisation_id": 1 + i % orgs,
                           "language": LANGUAGES[i % 3], "timezone": ZONES[i % len(ZONES)],
                           "interests": rng.sample(TOPICS, 2), "created_at": now}
                          for i in range(1, people + 1)])
        _bulk(s, EmailAddress, [{"id": i, "person_id": i, "address": f"p{i:05d}@scale.example",
                                 "primary": True} for i in range(1, people + 1)])
        _bulk(s, Membership, [{"person_id": i, "group_id": g, "role": _role(i), "created_at": now}
                              for i in range(1, people + 1) for g in (1, group_of[i])])
        voters: dict[int, list[int]] = {g: [] for g in range(1, GROUPS + 1)}
        for i in range(1, people + 1):
            if _role(i) == Role.MEMBER:
                voters[1].append(i)
                voters[group_of[i]].append(i)
        _proposals(s, rng, voters, now=now)
        _workshops(s, rng, people, group_of, now=now)
        _sprints(s, rng, voters, now=now)
        _bulk(s, DigestFeed, [{"id": f + 1, "url": str(p), "title": f"Feed {f}", "weight": 1.0,
                               "enabled": True, "last_status": "", "cached_entries": [],
                               "created_at": now} for f, p in enumerate(paths)])
        if engine.dialect.name == "postgresql":
            for table in ("organisations", "groups", "people", "email_addresses",
                          "poll_proposals", "poll_rounds", "workshop_series", "workshops",
                          "sprints", "digest_feeds"):
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))"))
    with engine.begin() as c:
        c.execute(text("ANALYZE"))
    members = [f"p{i:05d}@scale.example" for i in range(1, people + 1)
               if _role(i) == Role.MEMBER]
    return Seeded(people=people, member_emails=members,
                  alliance_workshops=[w for w in range(1, WORKSHOPS + 1) if w % 5 == 0],
                  soon_workshops=[w for w in range(1, WORKSHOPS + 1) if w % 2 == 0],
                  feed_dir=feed_dir)


def _proposals(s: Any, rng: random.Random, voters: dict[int, list[int]], *,
               now: datetime) -> None:
    props, versions, rounds, stances = [], [], [], []
    for p in range(1, PROPOSALS + 1):
        group = 1 if p % 5 == 0 else 2 + p % (GROUPS - 1)
        if p in (7, 20):
            closes = now - timedelta(minutes=5)        # past due: the tick closes it
        elif p % 3 == 0:
            closes = now + timedelta(hours=1 + p % 20)  # reminders due
        else:
            closes = now + timedelta(hours=50 + p)
        props.append({"id": p, "group_id": group, "author_id": 7, "title": f"Proposal {p}",
                      "language": "en", "rule": "consensus", "quorum_percent": 50,
                      "visibility": "live", "state": "open", "current_round": 1, "version": 1,
                      "closes_at": closes, "origin_platform": "", "origin_workspace": "",
                      "origin_channel": "", "discussion": "",
                      "created_at": now - timedelta(days=3)})
        versions.append({"proposal_id": p, "number": 1, "text": f"Adopt measure {p}.",
                         "author_id": 7, "created_at": now - timedelta(days=3)})
        rounds.append({"id": p, "proposal_id": p, "number": 1, "medium": "chat",
                       "opens_at": now - timedelta(days=3), "closes_at": closes})
        for v in voters[group]:
            if rng.random() < 0.3:
                stances.append({"round_id": p, "voter_key": f"p:{v}", "person_id": v,
                                "stance": rng.choice(("agree", "agree", "agree", "abstain")),
                                "reason": "", "channel": "console", "version": 1,
                                "cast_at": now - timedelta(days=1),
                                "updated_at": now - timedelta(days=1)})
    # A year's history: decided proposals outnumber the open ones.
    for p in range(PROPOSALS + 1, PROPOSALS + HISTORY + 1):
        closed = now - timedelta(days=2 + p % 300)
        props.append({**props[p % PROPOSALS], "id": p, "title": f"Proposal {p}",
                      "state": "decided", "outcome": "consensus", "closes_at": closed,
                      "decided_at": closed, "created_at": closed - timedelta(days=7)})
        versions.append({**versions[0], "proposal_id": p})
        rounds.append({"id": p, "proposal_id": p, "number": 1, "medium": "chat",
                       "opens_at": closed - timedelta(days=7), "closes_at": closed,
                       "closed_at": closed, "outcome": "consensus"})
    _bulk(s, Proposal, props)
    _bulk(s, ProposalVersion, versions)
    _bulk(s, Round, rounds)
    _bulk(s, Stance, stances)


def _workshops(s: Any, rng: random.Random, people: int, group_of: dict[int, int], *,
               now: datetime) -> None:
    series, shops, slots, answers, rsvps = [], [], [], [], []
    members: dict[int, list[int]] = {}
    for i in range(1, people + 1):
        members.setdefault(1, []).append(i)
        members.setdefault(group_of[i], []).append(i)
    slot_id = 0
    for w in range(1, WORKSHOPS + 1):
        group = 1 if w % 5 == 0 else 2 + w % (GROUPS - 1)
        start = now + (timedelta(minutes=30) if w % 2 == 0 else timedelta(days=3))
        start = start.replace(second=0, microsecond=0)
        series.append({"id": w, "group_id": group, "title": f"Series {w}", "topic": "soil",
                       "kind": "quarterly", "anchor_zone": "Europe/Paris",
                       "anchor_time": "15:00", "duration_minutes": 90,
                       "join_url": "https://meet.example/x", "language": "en",
                       "created_at": now})
        shops.append({"id": w, "series_id": w, "group_id": group, "quarter": "2026-Q4",
                       "title": f"Workshop {w}", "state": "confirmed", "starts_at": start,
                       "ends_at": start + timedelta(minutes=90), "uid": f"ws-{w}@scale.example",
                       "sequence": 0, "lead_id": 7, "join_url": "https://meet.example/x",
                       "notes": "", "created_at": now, "updated_at": now})
        for k in range(SLOTS_EACH):
            slot_id += 1
            slots.append({"id": slot_id, "workshop_id": w,
                          "starts_at": start + timedelta(hours=25 * k),
                          "entered_zone": "Europe/Paris"})
            for p in members[group]:
                if rng.random() < 0.5:
                    answers.append({"slot_id": slot_id, "person_id": p,
                                    "answer": rng.choice(("yes", "ifneedbe", "no")),
                                    "channel": "console", "updated_at": now})
        for p in members[group]:
            r = rng.random()
            if r < 0.7:
                rsvps.append({"workshop_id": w, "person_id": p,
                              "answer": "declined" if r < 0.1 else "accepted",
                              "channel": "console", "sequence": 0, "replied_at": now,
                              "updated_at": now})
    _bulk(s, WorkshopSeries, series)
    _bulk(s, Workshop, shops)
    _bulk(s, WorkshopSlot, slots)
    _bulk(s, WorkshopAvailability, answers)
    _bulk(s, WorkshopRsvp, rsvps)


def _sprints(s: Any, rng: random.Random, voters: dict[int, list[int]], *,
             now: datetime) -> None:
    sprints, signups = [], []
    today = now.date()
    for k in range(1, SPRINTS + 1):
        group = 1 if k % 3 == 0 else 2 + k % (GROUPS - 1)
        sprints.append({"id": k, "group_id": group, "proposer_id": 7, "title": f"Sprint {k}",
                        "aim": "Measure soil carbon together.",
                        "topics": [TOPICS[k % len(TOPICS)], TOPICS[(k * 5) % len(TOPICS)]],
                        "language": "en", "starts_on": today + timedelta(days=30),
                        "ends_on": today + timedelta(days=34),
                        "signup_closes_on": today + timedelta(days=20),
                        "signup_closes_at": now + timedelta(days=20), "zone": "Europe/Paris",
                        "capacity": 40, "org_cap": 0, "max_leads": 1, "offer_hours": 48,
                        "currency": "", "goal_minor": 0, "minimum_minor": 0,
                        "funding_state": "none", "state": "open", "decision_reason": "",
                        "origin_platform": "", "origin_workspace": "", "origin_channel": "",
                        "created_at": now})
        for seat, p in enumerate(rng.sample(voters[group], min(10, len(voters[group]))), 1):
            signups.append({"sprint_id": k, "person_id": p, "role": "contributor",
                            "status": "seated", "seat": seat, "priority": 0, "party": "",
                            "channel": "console", "asked_at": now, "updated_at": now})
    _bulk(s, Sprint, sprints)
    _bulk(s, SprintSignup, signups)


if __name__ == "__main__":
    import tempfile

    from storage.engine import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        eng = make_engine(f"sqlite:///{tmp}/scale.db")
        seed(eng, 200, now=datetime.now(UTC), feed_dir=Path(tmp) / "feeds", feeds=20)
        with eng.connect() as c:
            for table in ("people", "memberships", "poll_stances", "workshop_availability",
                          "workshop_rsvps", "sprint_signups", "digest_feeds"):
                n = c.execute(select(func.count()).select_from(text(table))).scalar()
                print(f"bench/scale_seed.py: {table}: {n} rows (200 people, 20 feeds)")
        eng.dispose()
