"""Business days in SQL: the local date of a stored instant in a named time zone.

PostgreSQL: ``timezone(zone, trade_time)::date`` (the server's time-zone rules, DST-safe).
SQLite has no time zones: every connection of :func:`zhangben.store.engine.make_engine` gets
the function ``zb_local_day(text, zone)``, Python's :mod:`zoneinfo` on the stored UTC text.
Both give the date a wall clock in that zone showed at that instant, whatever the offset
changes in between (a 23- or 25-hour day is one day).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

SQLITE_FUNCTION = "zb_local_day"


def local_day(column, zone, dialect: str) -> ColumnElement:
    """The business day of the instant ``column``, typed ``Date``; ``zone``: a name or a
    bind parameter."""
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone(_text(zone), column), sa.Date)
    return sa.type_coerce(getattr(sa.func, SQLITE_FUNCTION)(column, _text(zone)), sa.Date)


def local_month(column, zone, dialect: str) -> ColumnElement:
    """The first day of the business month of the instant ``column``, typed ``Date``."""
    if dialect == "postgresql":
        local = sa.func.timezone(_text(zone), column)
        return sa.cast(sa.func.date_trunc("month", local), sa.Date)
    day = getattr(sa.func, SQLITE_FUNCTION)(column, _text(zone))
    return sa.type_coerce(sa.func.substr(day, 1, 8).op("||")("01"), sa.Date)


def _text(zone):
    return sa.literal(zone, sa.String) if isinstance(zone, str) else zone


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


#: (zone, UTC text up to the hour) → the local date of that whole hour, or None when a local
#: midnight falls inside it (then each instant is converted on its own)
_HOURS: dict[tuple[str, str], str | None] = {}
_HOURS_MAX = 200_000


def sqlite_local_day(text: str | None, zone: str | None) -> str | None:
    """``zb_local_day``: SQLAlchemy's SQLite text of a naive UTC instant → ``YYYY-MM-DD``."""
    if text is None or zone is None:
        return None
    key = (zone, text[:13])
    found = _HOURS.get(key, False)
    if found is False:
        found = _hour(zone, text[:13])
        if len(_HOURS) >= _HOURS_MAX:
            _HOURS.clear()
        _HOURS[key] = found
    if found is not None:
        return found
    return _day(datetime.fromisoformat(text), _zone(zone))


def _hour(zone: str, hour: str) -> str | None:
    """The local date of every instant of this UTC hour, when the offset is the same at its
    first and last instant and so is the date (None otherwise: near a local midnight in
    zones with a :30 offset, and around an offset change)."""
    try:
        first = datetime.fromisoformat(hour + ":00:00").replace(tzinfo=UTC)
        last = first + timedelta(minutes=59, seconds=59, microseconds=999999)
        tz = _zone(zone)
        a, b = first.astimezone(tz), last.astimezone(tz)
    except (ValueError, OverflowError):
        return None
    return a.date().isoformat() if a.utcoffset() == b.utcoffset() and a.date() == b.date() else None


def _day(naive_utc: datetime, tz: ZoneInfo) -> str:
    try:
        return naive_utc.replace(tzinfo=UTC).astimezone(tz).date().isoformat()
    except OverflowError:  # year 1 or 9999 shifted past datetime's range
        return naive_utc.date().isoformat()


def register_sqlite(dbapi_conn) -> None:
    """Give a sqlite3 connection ``zb_local_day`` (called on every new connection)."""
    dbapi_conn.create_function(SQLITE_FUNCTION, 2, sqlite_local_day, deterministic=True)
