"""Times on the ShopEx wire: the request ``timestamp``, query times and their output form."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["format_time", "parse_query_time", "parse_request_timestamp", "within_window"]

_UNIX = re.compile(r"[0-9]{1,12}", re.ASCII)
_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})", re.ASCII)
_DASHED = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})", re.ASCII)
_WHITESPACE = " \t\n\r\v\f"


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


def parse_query_time(value: str, tz: ZoneInfo) -> datetime:
    """Parse ``start_time``/``end_time``: strictly ``yyyy-MM-dd HH:mm:ss``, read in ``tz``."""
    if match := _DASHED.fullmatch(value):
        return _local(match, tz)
    raise ValueError(f"expected yyyy-MM-dd HH:mm:ss, got {value!r}")


def format_time(dt: datetime, tz: ZoneInfo) -> str:
    """``yyyy-MM-dd HH:mm:ss`` of ``dt`` in ``tz``; a naive ``dt`` is taken as already in ``tz``."""
    local = dt.replace(tzinfo=tz) if dt.tzinfo is None else dt.astimezone(tz)
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d} "
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    )
