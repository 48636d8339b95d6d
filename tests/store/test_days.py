"""Business days in SQL (zhangben.store.days): the local date of an instant, as Python's
zoneinfo gives it, on both databases, across DST changes, :30 offsets and skipped days."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from zhangben.store import days
from zhangben.store.types import UTCDateTime

#: (zone, UTC instants around its offset changes and local midnights)
CASES = [
    ("Europe/Berlin", datetime(2024, 3, 30, 22, 0, tzinfo=UTC)),  # 23-hour 2024-03-31
    ("Europe/Berlin", datetime(2024, 10, 26, 21, 0, tzinfo=UTC)),  # 25-hour 2024-10-27
    ("America/New_York", datetime(2024, 3, 10, 4, 0, tzinfo=UTC)),
    ("America/New_York", datetime(2024, 11, 3, 3, 0, tzinfo=UTC)),
    ("Asia/Kolkata", datetime(2024, 5, 1, 18, 0, tzinfo=UTC)),  # local midnight at 18:30 UTC
    ("Asia/Shanghai", datetime(1988, 4, 16, 15, 0, tzinfo=UTC)),  # China's DST, 1986-1991
    ("Asia/Shanghai", datetime(2024, 1, 1, 15, 0, tzinfo=UTC)),
    ("Pacific/Apia", datetime(2011, 12, 29, 9, 0, tzinfo=UTC)),  # Samoa skipped 2011-12-30
]


def _instants(start: datetime) -> list[datetime]:
    """Every 10 minutes over six hours, and one microsecond either side of each step."""
    out = []
    for i in range(37):
        t = start + timedelta(minutes=10 * i)
        out += [t - timedelta(microseconds=1), t, t + timedelta(microseconds=1)]
    return out


@pytest.mark.parametrize(("zone", "start"), CASES)
def test_sql_day_is_the_wall_clock_date(engine, zone, start):
    tz = ZoneInfo(zone)
    instants = _instants(start)
    dialect = engine.dialect.name
    with engine.connect() as conn:
        got = conn.execute(
            sa.select(
                *(
                    days.local_day(sa.literal(t, UTCDateTime), zone, dialect).label(f"d{i}")
                    for i, t in enumerate(instants)
                )
            )
        ).one()
        months = conn.execute(
            sa.select(
                *(
                    days.local_month(sa.literal(t, UTCDateTime), zone, dialect).label(f"m{i}")
                    for i, t in enumerate(instants)
                )
            )
        ).one()
    expected = [t.astimezone(tz).date() for t in instants]
    assert [_as_date(d) for d in got] == expected
    assert [_as_date(m) for m in months] == [d.replace(day=1) for d in expected]


def _as_date(value):
    from datetime import date

    return value if isinstance(value, date) else date.fromisoformat(value)


def test_sqlite_function_caches_whole_hours_only():
    """The per-hour cache of zb_local_day never answers for an hour a midnight falls in."""
    zone = "Asia/Kolkata"
    tz = ZoneInfo(zone)
    start = datetime(2024, 5, 1, 17, 0)
    for minute in range(0, 180):
        naive = start + timedelta(minutes=minute, seconds=59, microseconds=999999)
        text = naive.isoformat(" ")
        assert days.sqlite_local_day(text, zone) == (
            naive.replace(tzinfo=UTC).astimezone(tz).date().isoformat()
        )
    assert days.sqlite_local_day(None, zone) is None
    assert days.sqlite_local_day("9999-12-31 23:00:00.000000", zone) == "9999-12-31"
