"""The migration to calendar days (issue 20) converts existing sprints: each
day is the day the old midnight fell on in the proposer's zone (the day they
typed), and a running sprint keeps its sign-up deadline to the second."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from storage.engine import normalise_url
from storage.migrate import upgrade
from tests.conftest import PG_URL, need


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    admin = sa.create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"convene_mig_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        need(False, f"PostgreSQL not reachable at {PG_URL}: {exc}")
    yield f"{normalise_url(PG_URL).rpartition('/')[0]}/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_existing_sprints_keep_the_days_their_proposer_typed(empty_url: str) -> None:
    db_url = empty_url
    upgrade(db_url, "ux_0900_suggestion_title")
    engine = sa.create_engine(normalise_url(db_url))
    paris = ZoneInfo("Europe/Paris")
    closes = datetime(2027, 3, 20, 0, 0, tzinfo=paris).astimezone(UTC)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO groups (id, name, is_alliance, voting_unit, channels, "
                          "created_at) VALUES (1, 'Alliance', true, 'person', '{}', :now)"),
                  {"now": now})
        c.execute(sa.text("INSERT INTO people (id, name, language, timezone, interests, "
                          "created_at) VALUES (1, 'Claire', 'fr', 'Europe/Paris', '[]', :now)"),
                  {"now": now})
        c.execute(sa.text(
            "INSERT INTO sprints (id, group_id, proposer_id, title, aim, topics, language, "
            "starts_at, ends_at, signup_closes_at, capacity, org_cap, max_leads, offer_hours, "
            "currency, goal_minor, minimum_minor, funding_state, state, decision_reason, "
            "origin_platform, origin_workspace, origin_channel, created_at) VALUES (1, 1, 1, "
            "'t', 'a', '[]', 'fr', :s, :e, :c, 3, 0, 1, 48, '', 0, 0, 'none', 'open', '', '', "
            "'', '', :now)"), {
                "s": datetime(2027, 4, 1, tzinfo=paris).astimezone(UTC),
                "e": datetime(2027, 4, 30, tzinfo=paris).astimezone(UTC), "c": closes,
                "now": now})
    upgrade(db_url)
    with engine.connect() as c:
        row = c.execute(sa.text("SELECT starts_on, ends_on, signup_closes_on, zone, "
                                "signup_closes_at FROM sprints")).one()
    engine.dispose()
    as_date = [v if isinstance(v, date) else date.fromisoformat(str(v)) for v in row[:3]]
    assert as_date == [date(2027, 4, 1), date(2027, 4, 30), date(2027, 3, 20)]
    assert row[3] == "Europe/Paris"
    stored = row[4] if isinstance(row[4], datetime) else datetime.fromisoformat(str(row[4]))
    assert stored.replace(tzinfo=stored.tzinfo or UTC) == closes
