"""The exports' wall clock (offset once per UTC hour, then arithmetic) gives exactly what
``astimezone`` gives, in zones with DST changes, offsets that are not whole hours, and
historic local mean times."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from zhangben.exports.clock import LocalClock
from zhangben.exports.xlsx import excel_serial

ZONES = ["Asia/Shanghai", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]


def instants():
    rng = random.Random(15)
    edges = [
        datetime(2026, 3, 8, 6, 59, 59, 999_999, tzinfo=UTC),  # New York: DST starts at 7:00
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 59, 59, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 4, 4, 14, 59, 59, tzinfo=UTC),  # Lord Howe: half an hour back at 15:00
        datetime(2026, 4, 4, 15, 0, tzinfo=UTC),
        datetime(1900, 1, 1, tzinfo=UTC),  # local mean time: an offset with seconds
        datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(9999, 12, 30, 15, 59, 59, 999_999, tzinfo=UTC),
    ]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    spread = [
        start
        + timedelta(seconds=rng.randrange(10 * 365 * 86400), microseconds=rng.randrange(10**6))
        for _ in range(5000)
    ]
    return edges + spread


@pytest.mark.parametrize("zone", ZONES)
def test_the_clock_is_astimezone(zone):
    tz = ZoneInfo(zone)
    clock = LocalClock(tz)
    for t in instants():
        assert clock.text(t) == t.astimezone(tz).isoformat(" ", "seconds")[:19], t
        assert clock.serial(t) == excel_serial(t, tz), t
        # the same instant in other tzinfos: as the databases hand them over, and not in UTC
        for other in ("UTC", "Etc/UTC", "Europe/London", "Europe/Berlin"):
            assert clock.text(t.astimezone(ZoneInfo(other))) == clock.text(t)
            assert clock.serial(t.astimezone(ZoneInfo(other))) == clock.serial(t)
        assert clock.text(t.astimezone(timezone(timedelta(hours=-3)))) == clock.text(t)
