"""Exact money: ``Decimal`` in Python, integers of 1/10000 unit in the database.

Four decimal places cover both wire formats (壹川 shows ``"-3.0000"``, ShopEx two or three
places). A float never holds money: :func:`parse_amount` refuses one outright.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from zhangben.core.errors import InvalidAmount

SCALE = 4
MINOR_PER_UNIT = 10**SCALE
#: The largest amount accepted for a single posting or balance (< 10**14 units).
MAX_AMOUNT = Decimal("99999999999999.9999")
_QUANTUM = Decimal(1).scaleb(-SCALE)
#: A balance must fit a signed 64-bit column with room to spare.
MAX_BALANCE_MINOR = 9 * 10**18


def parse_amount(value: object, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """Turn a wire or CLI value into a positive exact amount, or raise :class:`InvalidAmount`.

    Accepts ``Decimal``, ``int`` and decimal strings (``"12.34"``). Refuses floats, booleans,
    NaN/inf, more than four decimal places, negatives, zero (unless ``allow_zero``) and
    amounts over :data:`MAX_AMOUNT`.
    """
    if isinstance(value, bool):
        raise InvalidAmount(field, f"{value!r} is not an amount")
    if isinstance(value, float):
        raise InvalidAmount(field, f'{value!r} is a float; send a decimal string like "12.34"')
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise InvalidAmount(field, f"{value!r} is not a decimal amount") from None
        if amount.is_finite() and (text[0] not in "+-0123456789." or "e" in text.lower()):
            raise InvalidAmount(field, f"{value!r} is not a plain decimal amount")
    else:
        raise InvalidAmount(field, f"{value!r} is not an amount")
    if not amount.is_finite():
        raise InvalidAmount(field, f"{value!r} is not a finite amount")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -SCALE and amount != amount.quantize(_QUANTUM):
        raise InvalidAmount(field, f"{value!r} has more than {SCALE} decimal places")
    if amount < 0:
        raise InvalidAmount(
            field, f"{value!r} is negative; amounts are positive, the type gives the direction"
        )
    if amount == 0 and not allow_zero:
        raise InvalidAmount(field, "must be greater than zero")
    if amount > MAX_AMOUNT:
        raise InvalidAmount(field, f"{value!r} is larger than {MAX_AMOUNT}")
    return amount.quantize(_QUANTUM)


def to_minor(amount: Decimal) -> int:
    """Decimal units → integer minor units (exact; the amount must have ≤ 4 places)."""
    minor = amount * MINOR_PER_UNIT
    if minor != minor.to_integral_value():
        raise InvalidAmount("amount", f"{amount} has more than {SCALE} decimal places")
    return int(minor)


def from_minor(minor: int) -> Decimal:
    """Integer minor units → Decimal with exactly four places."""
    # scaleb moves the exponent only: exact, four places, and much cheaper than divide+quantize
    return Decimal(minor).scaleb(-SCALE)


def format_amount(amount: Decimal, places: int = SCALE) -> str:
    """Fixed-point text (``"12.3400"``), never exponent notation."""
    return f"{amount.quantize(Decimal(1).scaleb(-places)):f}"


_PLAIN = re.compile(r"([0-9]{1,14})(?:\.([0-9]{1,4}))?")  # ASCII digits only, as parse_amount
_MAX_MINOR = int(MAX_AMOUNT * MINOR_PER_UNIT)


def minor_of(value: object) -> int:
    """``to_minor(parse_amount(value))`` without Decimal arithmetic for the common forms (a
    plain decimal string, a Decimal, an int); anything else goes through ``parse_amount``."""
    kind = type(value)
    if kind is str:
        match = _PLAIN.fullmatch(value)  # type: ignore[arg-type]
        if match is not None:
            whole, frac = match.groups()
            minor = int(whole) * MINOR_PER_UNIT + (int(frac.ljust(SCALE, "0")) if frac else 0)
            if 0 < minor <= _MAX_MINOR:
                return minor
    elif kind is Decimal:
        if value.is_finite() and 0 < value <= MAX_AMOUNT:  # type: ignore[union-attr,operator]
            scaled = value.scaleb(SCALE)  # type: ignore[union-attr]
            if scaled == scaled.to_integral_value():
                return int(scaled)
    elif kind is int and 0 < value <= MAX_AMOUNT:  # type: ignore[operator]
        return value * MINOR_PER_UNIT  # type: ignore[operator]
    return to_minor(parse_amount(value))
