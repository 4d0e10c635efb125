"""One reading of the times people type (polls' closing times, sprints' dates)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.localtime import parse_local_time


def test_local_dates_and_times_in_the_persons_zone() -> None:
    assert parse_local_time(" 2027-03-01 17:00 ", zone="Europe/Paris") == \
        datetime(2027, 3, 1, 16, 0, tzinfo=UTC)
    assert parse_local_time("2027-03-01", zone="America/Bogota") == \
        datetime(2027, 3, 1, 5, 0, tzinfo=UTC)
    assert parse_local_time("2027-03-01T09:30+02:00", zone="Asia/Tokyo") == \
        datetime(2027, 3, 1, 7, 30, tzinfo=UTC)
    assert parse_local_time("2027-07-01T12:00", zone="Europe/Madrid") == \
        datetime(2027, 7, 1, 10, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_local_time("next tuesday", zone="UTC")
