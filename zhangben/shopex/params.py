"""Reading application parameters, shared by every method.

Values arrive as strings (form, query) or as JSON scalars; a map where a scalar is expected,
a malformed value or an out-of-range one raises :class:`ParamError` (2002 / e000006), a
missing required one raises it with ``missing=True`` (2001 / e000006). Every text read here
is first checked by :func:`zhangben.core.texts.text_problem` (at most 1024 characters, no NUL,
valid UTF-8), so hostile text never reaches the database.
"""

from __future__ import annotations

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


def required_time(params: dict[str, Any], name: str, tz: ZoneInfo) -> datetime:
    value = text(params, name)
    if value is None:
        raise ParamError(f"{name} is required (yyyy-MM-dd HH:mm:ss)", missing=True)
    try:
        return parse_query_time(value, tz)
    except ValueError:
        raise ParamError(f"{name} must be yyyy-MM-dd HH:mm:ss, got {value!r}") from None


def time_range(params: dict[str, Any], tz: ZoneInfo, start="start_time", end="end_time"):
    """The required half-open range ``start <= t < end``; end before start is refused."""
    lo, hi = required_time(params, start, tz), required_time(params, end, tz)
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


def codes(params: dict[str, Any], *names: str) -> list[str] | None:
    """Codes joined with ``#`` (``SHOP001#SHOP002``) from the first of ``names`` given."""
    for name in names:
        value = text(params, name)
        if value is not None:
            return [c.strip() for c in value.split("#") if c.strip()]
    return None


def within(requested: list[str] | None, allowed: tuple[str, ...] | None) -> list[str] | None:
    """Intersect a request's filter with an app's scope (None = no restriction)."""
    if allowed is None:
        return requested
    if requested is None:
        return list(allowed)
    return [c for c in requested if c in allowed]
