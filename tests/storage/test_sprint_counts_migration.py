"""The migration sprint_0960_counts counts the sign-ups already there, on
SQLite and PostgreSQL (what the triggers keep from then on: tests/sprints/
test_counts.py)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from storage.base import utcnow
from storage.engine import normalise_url
from storage.migrate import upgrade
from tests.storage.test_sprint_days_migration import empty_url  # noqa: F401 (a fixture)


def test_the_migration_counts_the_signups_already_there(empty_url: str) -> None:  # noqa: F811
    db_url = empty_url
    upgrade(db_url, "scale_0950_indexes")
    engine = sa.create_engine(normalise_url(db_url))
    now = utcnow()
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO groups (id, name, is_alliance, voting_unit, channels, "
                          "created_at) VALUES (1, 'Alliance', true, 'person', '{}', :now)"),
                  {"now": now})
        for pid in range(1, 6):
            c.execute(sa.text("INSERT INTO people (id, name, language, timezone, interests, "
                              "created_at) VALUES (:id, 'P', 'en', 'UTC', '[]', :now)"),
                      {"id": pid, "now": now})
        for sid in (1, 2):
            c.execute(sa.text(
                "INSERT INTO sprints (id, group_id, proposer_id, title, aim, topics, language, "
                "starts_on, ends_on, signup_closes_on, signup_closes_at, zone, capacity, "
                "org_cap, max_leads, offer_hours, currency, goal_minor, minimum_minor, "
                "funding_state, state, decision_reason, origin_platform, origin_workspace, "
                "origin_channel, created_at) VALUES (:id, 1, 1, 't', 'a', '[]', 'en', "
                "'2027-04-01', '2027-04-02', '2027-03-01', :now, 'UTC', 2, 0, 1, 48, '', 0, "
                "0, 'none', 'open', '', '', '', '', :now)"), {"id": sid, "now": now})
        rows = [(1, 1, "seated", 1, "lead", 0), (1, 2, "offered", 2, "contributor", 0),
                (1, 3, "waitlisted", None, "contributor", 0),
                (1, 4, "waitlisted", None, "lead", -1), (1, 5, "withdrawn", None, "lead", 0)]
        for n, (sid, pid, status, seat, role, priority) in enumerate(rows):
            c.execute(sa.text(
                "INSERT INTO sprint_signups (sprint_id, person_id, role, status, seat, "
                "priority, party, channel, asked_at, updated_at) VALUES (:sid, :pid, :role, "
                ":status, :seat, :priority, '', '', :at, :at)"),
                {"sid": sid, "pid": pid, "role": role, "status": status, "seat": seat,
                 "priority": priority, "at": now + timedelta(seconds=n)})
    upgrade(db_url)
    with engine.connect() as c:
        got = c.execute(sa.text("SELECT id, held_count, waitlisted_count, ahead_count, "
                                "lead_count, last_asked_at IS NOT NULL FROM sprints "
                                "ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in got] == [(1, 2, 2, 1, 2, True), (2, 0, 0, 0, 0, False)]
