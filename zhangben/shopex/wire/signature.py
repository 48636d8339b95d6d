"""The ShopEx open API signature, computed exactly as the original PHP server does.

``sign = UPPER(MD5(UPPER(MD5(concat)) + token))`` where ``concat`` joins ``key + value`` of
every parameter but the top-level ``sign``, keys sorted byte-wise (PHP ``ksort`` with
``SORT_STRING``), nested maps and lists recursing as ``key + concat(children)``.

Scalars become the string PHP's ``$key . $value`` would produce: strings verbatim (decoded,
no URL encoding), ``None`` skipped with its key, booleans ``1``/``0``, integers in decimal,
floats and ``Decimal`` the way PHP prints a float (``precision=14``: ``10000.00`` → ``10000``,
``0.1`` → ``0.1``, ``1e15`` → ``1.0E+15``). A ``Decimal`` is rounded to 14 significant digits
in decimal arithmetic, never through ``float``; PHP would round the nearest double instead,
which only differs on exact 15th-digit ties. Integers outside 64 bits print like floats, as
PHP's ``json_decode`` turns them into floats.

A ``token`` parameter sent by the client stays in the concatenation: some PHP clients put
the secret among the signed fields, and the original accepts them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

__all__ = ["concat_params", "explain", "php_string", "sign_params", "verify_sign"]

_PHP_PRECISION = 14
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
#: What :func:`explain` shows instead of a ``token`` field's value.
REDACTED = "******"


def _php_float_string(value: Decimal) -> str:
    """Format ``value`` as PHP's ``%.14G`` float-to-string conversion does."""
    if value.is_nan():
        return "NAN"
    if value.is_infinite():
        return "-INF" if value.is_signed() else "INF"
    sign = "-" if value.is_signed() else ""
    if value.is_zero():
        return sign + "0"
    with localcontext() as ctx:
        ctx.prec = _PHP_PRECISION
        ctx.rounding = ROUND_HALF_EVEN
        ctx.Emax, ctx.Emin = MAX_EMAX, MIN_EMIN
        rounded = ctx.plus(abs(value))
    parts = rounded.as_tuple()
    digits = "".join(map(str, parts.digits))
    if not _php_keeps_zeros(abs(value)):
        digits = digits.rstrip("0")
    decpt = len(parts.digits) + int(parts.exponent)  # value = 0.<digits> * 10**decpt
    if (decpt < -3) if decpt < 0 else (decpt > _PHP_PRECISION):
        exp = decpt - 1
        mantissa = digits[0] + "." + (digits[1:] or "0")
        return f"{sign}{mantissa}E{'-' if exp < 0 else '+'}{abs(exp)}"
    if decpt <= 0:
        return f"{sign}0.{'0' * -decpt}{digits}"
    if len(digits) <= decpt:
        return sign + digits + "0" * (decpt - len(digits))
    return f"{sign}{digits[:decpt]}.{digits[decpt:]}"


def _php_keeps_zeros(value: Decimal) -> bool:
    """PHP's dtoa writes an integer below 10**15 digit by digit and strips no trailing zero
    when the 15th digit is exactly a half that rounds down to an even 14th digit
    (``100000000000005.0`` is ``1.0000000000000E+14``; ``100000000000004.0`` is ``1.0E+14``)."""
    if value != value.to_integral_value() or not 10**14 <= value < 10**15:
        return False
    last, kept = int(value) % 10, int(value) // 10 % 10
    return last == 5 and kept % 2 == 0


def php_string(value: Any) -> str:
    """The string PHP's concatenation operator makes of a decoded scalar ``value``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            return str(value)
        return _php_float_string(Decimal(value))
    if isinstance(value, float):
        return _php_float_string(Decimal(value))  # exact binary value, then PHP rounding
    if isinstance(value, Decimal):
        return _php_float_string(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "surrogateescape")
    raise TypeError(f"cannot sign a value of type {type(value).__name__}")


def _key(key: Any) -> str:
    return key if isinstance(key, str) else php_string(key)


def _encode(text: str) -> bytes:
    """UTF-8 bytes; undecodable input bytes kept via ``surrogateescape`` round-trip."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _children(value: Any) -> list[tuple[str, Any]] | None:
    if isinstance(value, Mapping):
        return [(_key(k), v) for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [(str(i), v) for i, v in enumerate(value)]
    return None


def _concat(items: list[tuple[str, Any]], out: list[str], redact: bool) -> None:
    for key, value in sorted(items, key=lambda kv: _encode(kv[0])):
        if value is None:
            continue
        children = _children(value)
        out.append(key)
        if children is not None:
            _concat(children, out, False)
        elif redact and key == "token":
            out.append(REDACTED)
        else:
            out.append(php_string(value))


def _top_items(params: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in ((_key(k), v) for k, v in params.items()) if k != "sign"]


def concat_params(params: Mapping[Any, Any]) -> str:
    """The original's concatenation of every parameter but ``sign`` (see module doc)."""
    out: list[str] = []
    _concat(_top_items(params), out, False)
    return "".join(out)


def _md5_upper(data: bytes) -> str:
    return hashlib.md5(data).hexdigest().upper()  # noqa: S324 - the protocol's hash


def _sign_concat(concat: str, token: str) -> tuple[str, str]:
    inner = _md5_upper(_encode(concat))
    return inner, _md5_upper(inner.encode("ascii") + _encode(token))


def sign_params(params: Mapping[Any, Any], token: str) -> str:
    """``UPPER(MD5(UPPER(MD5(concat)) + token))`` as 32 uppercase hex digits."""
    return _sign_concat(concat_params(params), token)[1]


def verify_sign(params: Mapping[Any, Any], token: str, sign: Any) -> bool:
    """Whether ``sign`` equals the expected sign exactly (case-sensitive, constant time)."""
    if not isinstance(sign, str):
        return False
    return hmac.compare_digest(_encode(sign_params(params, token)), _encode(sign))


def explain(params: Mapping[Any, Any], token: str) -> dict[str, Any]:
    """The steps of the sign, for ``zhangben sign --explain``.

    Returns ``concatenation``, ``inner_md5``, ``sign`` and ``token_in_params``. The secret
    ``token`` argument never appears; a ``token`` *parameter* (a client that signs its
    secret along) is shown as ``******`` in ``concatenation`` but hashed with its real value.
    """
    items = _top_items(params)
    real: list[str] = []
    _concat(items, real, False)
    inner, sign = _sign_concat("".join(real), token)
    shown: list[str] = []
    _concat(items, shown, True)
    token_in_params = any(k == "token" and v is not None for k, v in items)
    return {
        "concatenation": "".join(shown),
        "inner_md5": inner,
        "sign": sign,
        "token_in_params": token_in_params,
    }
