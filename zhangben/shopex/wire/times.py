"""Times on the ShopEx wire: the request ``timestamp``, query times and their output form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = ["format_time", "parse_query_time", "parse_request_timestamp", "within_window"]

_UNIX = re.compile(r"[0-9]{1,12}", re.ASCII)
_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})", re.ASCII)
_DASHED = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})", re.ASCII)
_WHITESPACE = " \t\n\r\v\f"
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
#: ``yyyy-MM-dd HH:mm:ss`` or ISO 8601 ``yyyy-MM-ddTHH:mm:ss``, with optional fractional
#: seconds (up to 6 digits) and an optional offset (``Z``, ``+08:00``, ``+0800``)
_QUERY = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,6}))?(Z|[+-][0-9]{2}:?[0-9]{2})?",
    re.ASCII,
)


def _local(match: re.Match[str], tz: ZoneInfo) -> datetime:
    try:
        year, month, day, hour, minute, second = map(int, match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        raise ValueError(f"not a valid date and time: {match.group(0)!r}") from None


def parse_request_timestamp(value: str, tz: ZoneInfo) -> datetime:
    """Parse a request ``timestamp`` into an aware datetime.

    Accepts Unix seconds (what the original compares; up to 12 digits), ``yyyyMMddHHmmss``
    (what the seed documents; exactly 14 digits) and ``yyyy-MM-dd HH:mm:ss``; the last two
    are read in ``tz``. Surrounding whitespace is ignored. Anything else — fractions,
    milliseconds (13 digits), signs, other layouts — raises ``ValueError``.
    """
    text = value.strip(_WHITESPACE)
    if match := _COMPACT.fullmatch(text):
        return _local(match, tz)
    if match := _DASHED.fullmatch(text):
        return _local(match, tz)
    if _UNIX.fullmatch(text):
        try:
            return datetime.fromtimestamp(int(text), tz)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"timestamp out of range: {text!r}") from None
    raise ValueError(f"unrecognised timestamp: {value!r}")


def within_window(ts: datetime, now: datetime, seconds: int) -> bool:
    """Whether ``|ts - now| <= seconds`` (both aware; the edges are inside)."""
    return abs(ts - now) <= timedelta(seconds=seconds)


def parse_query_time(value: str, tz: ZoneInfo, *, end: bool = False) -> datetime:
    """Parse a ``start_time``/``end_time`` bound of a half-open range ``start <= t < end``.

    * ``yyyy-MM-dd HH:mm:ss`` (the seed's form) and ISO 8601 ``yyyy-MM-ddTHH:mm:ss``, with
      optional fractional seconds (1-6 digits) and an optional offset (``Z``, ``+08:00``,
      ``+0800``); without an offset the time is read in ``tz``;
    * a date ``yyyy-MM-dd``: the start of that day in ``tz``, or, for an ``end`` bound, the
      start of the next day, so that the whole day is inside the range.

    Anything else (surrounding spaces, compact digits, Unix seconds, impossible dates or
    offsets) raises ``ValueError``.
    """
    try:
        if match := _DATE.fullmatch(value):
            day = datetime(*map(int, match.groups()), tzinfo=tz)
            if end:
                following = day.date() + timedelta(days=1)
                day = datetime(following.year, following.month, following.day, tzinfo=tz)
            day.astimezone(UTC)  # representable as an instant (not before year 1 in UTC)
            return day
        if match := _QUERY.fullmatch(value):
            *parts, fraction, offset = match.groups()
            zone = tz if offset is None else _offset(offset)
            micro = int(fraction.ljust(6, "0")) if fraction else 0
            when = datetime(*map(int, parts), micro, tzinfo=zone)
            when.astimezone(UTC)
            return when
    except (ValueError, OverflowError):
        raise ValueError(f"not a valid date and time: {value!r}") from None
    raise ValueError(f"expected yyyy-MM-dd HH:mm:ss, yyyy-MM-dd or ISO 8601, got {value!r}")


def _offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError(f"not a valid offset: {text!r}")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def format_time(dt: datetime, tz: ZoneInfo) -> str:
    """``yyyy-MM-dd HH:mm:ss`` of ``dt`` in ``tz``; a naive ``dt`` is taken as already in ``tz``."""
    local = dt.replace(tzinfo=tz) if dt.tzinfo is None else dt.astimezone(tz)
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d} "
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    )
