"""The rule conditions interpreter: a matching rule's conditions are data, never code.

A condition is ``{"field": ..., "op": ..., "value": ...}``; a rule's conditions are an AND-list.
:func:`parse_conditions` checks them once (unknown field or operator, a value of the wrong
shape: a :class:`~zhangben.core.errors.ValidationError` naming it) and compiles each into a
small test; :func:`matches` runs them over a mapping of facts. No ``eval``: every operator is
a Python comparison chosen from :data:`OPS`. ``regex`` is RE2 (google-re2): its matching time
is linear in the text, so no pattern a person stores can stall a run (Python's ``re``
backtracks: ``(a+)+$`` takes exponential time).

Amounts (``amount``, ``abs_amount``, ``difference``, ``abs_difference``) are compared exactly
in minor units (1/10000 yuan): a condition's value is yuan text or an integer (``"12.50"``,
``-3``), the fact an ``int`` of minor units. A fact that is missing (or ``None``) fails
every operator except ``ne``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import re2

from zhangben.core.errors import ValidationError
from zhangben.core.money import MAX_AMOUNT, MINOR_PER_UNIT

#: The fields a condition may name, and what kind of value each holds.
FIELDS: dict[str, str] = {
    "platform": "text",
    "shop": "text",
    "kind": "text",
    "business_type": "text",
    "amount": "amount",
    "abs_amount": "amount",
    "direction": "direction",
    "remark": "text",
    "counterparty": "text",
    "key": "text",
    "difference": "amount",
    "abs_difference": "amount",
}
#: The operators each kind of field accepts.
OPS: dict[str, tuple[str, ...]] = {
    "text": ("eq", "ne", "in", "contains", "regex"),
    "amount": ("eq", "ne", "lt", "le", "gt", "ge", "between", "in"),
    "direction": ("eq", "ne", "in"),
}
ALL_OPS = ("eq", "ne", "lt", "le", "gt", "ge", "between", "in", "contains", "regex")
DIRECTIONS = ("in", "out")
MAX_CONDITIONS = 32
MAX_TEXT = 200  # a value's length, and a regex's: a rule is a short thing
MAX_LIST = 100
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad pattern is refused with its reason, not logged


@dataclass(frozen=True, slots=True)
class Condition:
    """One parsed condition; ``value`` is normalised (amounts in minor units, lists as
    tuples, a regex its text); ``test`` is the compiled check of one fact."""

    field: str
    op: str
    value: Any
    test: Callable[[Any], bool] = field(compare=False, repr=False)

    def as_json(self) -> dict[str, Any]:
        """Back to the stored form (amounts as yuan text)."""
        kind = FIELDS[self.field]

        def out(v: Any) -> Any:
            return _yuan(v) if kind == "amount" else v

        if isinstance(self.value, tuple):
            return {"field": self.field, "op": self.op, "value": [out(v) for v in self.value]}
        return {"field": self.field, "op": self.op, "value": out(self.value)}


def parse_conditions(data: str | bytes | Sequence[Any] | None) -> tuple[Condition, ...]:
    """JSON text (or the decoded list) → the checked conditions. ``None`` or ``[]`` is none
    (the rule applies to everything)."""
    if data is None:
        return ()
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data, parse_float=Decimal)
        except ValueError as exc:
            raise ValidationError("conditions", f"not valid JSON: {exc}") from None
    if data is None:
        return ()
    if not isinstance(data, list | tuple):
        raise ValidationError("conditions", "must be a list of {field, op, value} objects")
    if len(data) > MAX_CONDITIONS:
        raise ValidationError("conditions", f"at most {MAX_CONDITIONS} conditions")
    return tuple(_parse_one(i, item) for i, item in enumerate(data))


def matches(conditions: Sequence[Condition], facts: Mapping[str, Any]) -> bool:
    """True when every condition holds for ``facts`` (an empty list always holds)."""
    for c in conditions:
        if not c.test(facts.get(c.field)):
            return False
    return True


def conditions_json(conditions: Sequence[Condition]) -> str:
    """The canonical stored text of parsed conditions (round-trips through parse)."""
    return json.dumps([c.as_json() for c in conditions], ensure_ascii=False)


# --- parsing -------------------------------------------------------------------------------


def _parse_one(i: int, item: Any) -> Condition:
    where = f"conditions[{i}]"
    if not isinstance(item, Mapping):
        raise ValidationError(where, "must be an object {field, op, value}")
    extra = set(item) - {"field", "op", "value"}
    if extra:
        raise ValidationError(where, f"unknown key {sorted(extra)[0]!r}")
    name, op = item.get("field"), item.get("op")
    if name not in FIELDS:
        raise ValidationError(
            f"{where}.field", f"unknown field {name!r}; one of {', '.join(FIELDS)}"
        )
    if op not in ALL_OPS:
        raise ValidationError(
            f"{where}.op", f"unknown operator {op!r}; one of {', '.join(ALL_OPS)}"
        )
    kind = FIELDS[name]
    if op not in OPS[kind]:
        raise ValidationError(
            f"{where}.op", f"{op!r} does not apply to {name}; use one of {', '.join(OPS[kind])}"
        )
    if "value" not in item:
        raise ValidationError(f"{where}.value", "is required")
    value = _value(f"{where}.value", kind, op, item["value"])
    return Condition(name, op, value, _compile(op, value))


def _value(where: str, kind: str, op: str, raw: Any) -> Any:
    if op == "between":
        if not isinstance(raw, list | tuple) or len(raw) != 2:
            raise ValidationError(where, "between takes a list of two amounts [low, high]")
        low, high = (_scalar(where, kind, v) for v in raw)
        if low > high:
            raise ValidationError(where, f"between's low bound {raw[0]} is above {raw[1]}")
        return (low, high)
    if op == "in":
        if not isinstance(raw, list | tuple) or not raw or len(raw) > MAX_LIST:
            raise ValidationError(where, f"in takes a list of 1 to {MAX_LIST} values")
        return tuple(_scalar(where, kind, v) for v in raw)
    if op == "regex":
        text = _scalar(where, kind, raw)
        try:
            re2.compile(text, _RE2_OPTIONS)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
            raise ValidationError(where, f"not a regular expression (RE2): {reason}") from None
        return text
    return _scalar(where, kind, raw)


def _scalar(where: str, kind: str, raw: Any) -> Any:
    if kind == "amount":
        return _minor(where, raw)
    if not isinstance(raw, str):
        raise ValidationError(where, f"{raw!r} is not text")
    if len(raw) > MAX_TEXT:
        raise ValidationError(where, f"longer than {MAX_TEXT} characters")
    if kind == "direction" and raw not in DIRECTIONS:
        raise ValidationError(where, f"{raw!r} is not a direction; one of in, out")
    return raw


def _minor(where: str, raw: Any) -> int:
    """Yuan (text, int, or a JSON number read as Decimal) → exact minor units."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise ValidationError(where, f'{raw!r} is not an amount; write yuan text like "12.50"')
    try:
        amount = Decimal(raw.strip() if isinstance(raw, str) else raw)
    except InvalidOperation:
        raise ValidationError(where, f"{raw!r} is not an amount") from None
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise ValidationError(where, f"{raw!r} is not an amount within {MAX_AMOUNT}")
    minor = amount * MINOR_PER_UNIT
    if minor != minor.to_integral_value():
        raise ValidationError(where, f"{raw!r} has more than 4 decimal places")
    return int(minor)


def _yuan(minor: int) -> str:
    return format(Decimal(minor).scaleb(-4).normalize(), "f")


def _compile(op: str, value: Any) -> Callable[[Any], bool]:
    """The test of one fact; a missing fact (None) fails all but ``ne``."""
    if op == "eq":
        return lambda f: f is not None and f == value
    if op == "ne":
        return lambda f: f is None or f != value
    if op == "lt":
        return lambda f: f is not None and f < value
    if op == "le":
        return lambda f: f is not None and f <= value
    if op == "gt":
        return lambda f: f is not None and f > value
    if op == "ge":
        return lambda f: f is not None and f >= value
    if op == "between":
        low, high = value
        return lambda f: f is not None and low <= f <= high
    if op == "in":
        members = frozenset(value)
        return lambda f: f is not None and f in members
    if op == "contains":
        return lambda f: f is not None and value in f
    if op == "regex":
        search = re2.compile(value, _RE2_OPTIONS).search
        return lambda f: f is not None and search(f) is not None
    raise AssertionError(op)  # pragma: no cover - parse checks the operator
