"""Reading application parameters, shared by every method.

Values arrive as strings (form, query) or as JSON scalars; a map where a scalar is expected,
a malformed value or an out-of-range one raises :class:`ParamError` (2002 / e000006), a
missing required one raises it with ``missing=True`` (2001 / e000006). Every text read here
is first checked by :func:`zhangben.core.texts.text_problem` (at most 1024 characters, no NUL,
valid UTF-8), so hostile text never reaches the database.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from zhangben.core.texts import text_problem
from zhangben.shopex.wire.signature import php_string
from zhangben.shopex.wire.times import parse_query_time

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
_MAX_PAGE_NO_DIGITS = 9
#: The longest text an application parameter may be (``S001#S002#…`` included).
MAX_TEXT = 1024


class ParamError(Exception):
    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing


def text(params: dict[str, Any], name: str) -> str | None:
    """The parameter as a stripped string; None when absent, null or empty."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise ParamError(f"{name} must be a single value")
    if not isinstance(value, str | int | bool | Decimal | float):
        raise ParamError(f"{name} has an unsupported type")
    value = php_string(value).strip()
    problem = text_problem(value, MAX_TEXT)
    if problem:  # refused here, before the value reaches the database
        raise ParamError(f"{name} {problem}")
    return value or None


#: What a query time may look like, for the error messages.
TIME_FORMS = "yyyy-MM-dd HH:mm:ss, yyyy-MM-dd or ISO 8601 yyyy-MM-ddTHH:mm:ss[±hh:mm]"


def required_time(
    params: dict[str, Any], name: str, tz: ZoneInfo, *, end: bool = False
) -> datetime:
    """A bound of a half-open range (see :func:`~zhangben.shopex.wire.times.parse_query_time`:
    a date as an ``end`` bound means the end of that day)."""
    value = text(params, name)
    if value is None:
        raise ParamError(f"{name} is required ({TIME_FORMS})", missing=True)
    try:
        return parse_query_time(value, tz, end=end)
    except ValueError:
        raise ParamError(f"{name} must be {TIME_FORMS}, got {value!r}") from None


def optional_time(
    params: dict[str, Any], name: str, tz: ZoneInfo, *, end: bool = False
) -> datetime | None:
    return required_time(params, name, tz, end=end) if text(params, name) else None


def time_range(params: dict[str, Any], tz: ZoneInfo, start="start_time", end="end_time"):
    """The required half-open range ``start <= t < end``; end before start is refused."""
    lo, hi = required_time(params, start, tz), required_time(params, end, tz, end=True)
    if hi < lo:
        raise ParamError(f"{end} is before {start}")
    return lo, hi


def _int(params: dict[str, Any], name: str) -> int | None:
    value = text(params, name)
    if value is None:
        return None
    digits = value.lstrip("-")
    if not digits.isascii() or not digits.isdigit() or len(digits) > _MAX_PAGE_NO_DIGITS:
        raise ParamError(f"{name} must be an integer, got {value!r}")
    return int(value)


_MAX_ID_DIGITS = 18  # below 2⁶³: a BIGINT on PostgreSQL


def entry_id(params: dict[str, Any], name: str) -> int | None:
    """An entry id: a whole number from 1 to 999,999,999,999,999,999; None when absent."""
    value = text(params, name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > _MAX_ID_DIGITS:
        raise ParamError(f"{name} must be an entry id (a whole number), got {value!r}")
    number = int(value)
    if number < 1:
        raise ParamError(f"{name} must be greater than 0")
    return number


def paging(params: dict[str, Any]) -> tuple[int, int]:
    """``(page_no, page_size)``: page_no defaults to 1 and must be > 0; page_size defaults
    to 50 and is clamped to 1..100."""
    page_no = _int(params, "page_no")
    if page_no is None:
        page_no = 1
    elif page_no < 1:
        raise ParamError("page_no must be greater than 0")
    size = _int(params, "page_size")
    size = DEFAULT_PAGE_SIZE if size is None else min(max(size, 1), MAX_PAGE_SIZE)
    return page_no, size


#: The most members a ``#`` list may have (``ACC001#ACC002#…``).
MAX_MEMBERS = 100
#: The longest member: account numbers, shop codes and platform accounts are ≤ 64 characters.
MAX_MEMBER = 64
_ACCOUNT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}", re.ASCII)


def codes(params: dict[str, Any], *names: str, accounts: bool = False) -> list[str] | None:
    """A ``#``-joined list (``SHOP001#SHOP002``, note 11 of the seed) from the first of
    ``names`` given; None when none is. Members are stripped and deduplicated in order.

    Refused (2002): an empty member (``A##B``, a ``#`` at either end), a member longer than
    64 characters, more than :data:`MAX_MEMBERS` members, and with ``accounts`` a member
    that cannot be an account number (1-64 letters, digits, ``.``, ``_``, ``-``)."""
    for name in names:
        value = text(params, name)
        if value is None:
            continue
        members = [m.strip() for m in value.split("#")]
        if len(members) > MAX_MEMBERS:
            raise ParamError(f"{name} lists {len(members)} values; at most {MAX_MEMBERS}")
        for i, member in enumerate(members, 1):
            where = f"{name} value {i} of {len(members)}"
            if not member:
                raise ParamError(f"{where} is empty: join values with single #, e.g. A#B")
            if len(member) > MAX_MEMBER:
                raise ParamError(f"{where} is longer than {MAX_MEMBER} characters")
            if accounts and not _ACCOUNT_NUMBER.fullmatch(member):
                raise ParamError(
                    f"{where} ({member!r}) is not an account number "
                    "(1-64 letters, digits, '.', '_' or '-')"
                )
        return list(dict.fromkeys(members))
    return None


def within(requested: list[str] | None, allowed: tuple[str, ...] | None) -> list[str] | None:
    """Intersect a request's filter with an app's scope (None = no restriction)."""
    if allowed is None:
        return requested
    if requested is None:
        return list(allowed)
    return [c for c in requested if c in allowed]
