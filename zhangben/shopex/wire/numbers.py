"""Money on the ShopEx wire, never through ``float``.

* seed style: amounts are JSON *numbers* with at least two decimals (``10000.00``, ``0.10``;
  ``12.3456`` keeps its four). :func:`dumps` writes ``Decimal`` values verbatim that way.
* shopex style: amounts are strings with at least three decimals, as the original's
  database returns them (``"12.500"``), and every further decimal the ledger holds
  (``"12.3456"``): :func:`money_str`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

__all__ = ["decimal_literal", "dumps", "money_str"]


def _check_money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"money must be Decimal or int, not {type(value).__name__}")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"money must be finite, not {value}")
    return value


def _fixed(value: Decimal) -> str:
    text = format(value, "f")
    return text[1:] if value.is_zero() and text.startswith("-") else text  # no "-0.00"


def decimal_literal(value: Decimal) -> str:
    """A JSON number literal for ``value`` with at least two decimals, exact.

    ``Decimal("10000")`` → ``10000.00``, ``Decimal("0.1")`` → ``0.10``, ``Decimal("1E+3")``
    → ``1000.00``, ``Decimal("12.3456")`` → ``12.3456``; negative zero loses its sign.
    """
    text = _fixed(_check_money(value))
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def money_str(value: Decimal) -> str:
    """The shopex-style money string: exact, with at least three decimals.

    ``12.5`` → ``"12.500"`` and ``12`` → ``"12.000"`` (the original's ``decimal(20,3)``
    strings); a value with more decimals keeps them all, trailing zeros trimmed down to
    three: ``12.3456`` → ``"12.3456"``, ``12.3450`` → ``"12.345"``. Never rounded, so the
    rows of a list add up to the balance.
    """
    text = _fixed(_check_money(value))
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.rstrip('0').ljust(3, '0')}"


def _write(obj: Any, out: list[str], string: Callable[[str], str] = encode_basestring) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(string(obj))
    elif isinstance(obj, int):
        out.append(str(int(obj)))
    elif isinstance(obj, Decimal):
        out.append(decimal_literal(obj))
    elif isinstance(obj, Mapping):
        out.append("{")
        for i, (key, value) in enumerate(obj.items()):
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise TypeError(f"JSON object keys must be str or int, not {type(key).__name__}")
            out.append("," if i else "")
            out.append(string(str(key)) + ":")
            _write(value, out, string)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, value in enumerate(obj):
            out.append("," if i else "")
            _write(value, out, string)
        out.append("]")
    elif isinstance(obj, float):
        raise TypeError("float in a response payload: use Decimal for money")
    else:
        raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON (non-ASCII unescaped, unless a lone surrogate forces every string
    to ASCII escapes); ``Decimal`` as :func:`decimal_literal`.

    Floats are refused (``TypeError``): money must never have been one.
    """
    out: list[str] = []
    _write(obj, out)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError:
        # a lone surrogate, echoed from a request (a sign error's concatenation): written as
        # the JSON escape it came in as (``\ud800``), every other non-ASCII character too
        out = []
        _write(obj, out, encode_basestring_ascii)
        return "".join(out).encode("ascii")
