"""Money on the wire: exact bytes, never through float."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from zhangben.shopex.wire.numbers import decimal_literal, dumps, money_str


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (Decimal("10000.00"), "10000.00"),
        (Decimal("10000"), "10000.00"),
        (Decimal("0.1"), "0.10"),
        (Decimal("12.3456"), "12.3456"),
        (Decimal("-5.5"), "-5.50"),
        (Decimal("1E+3"), "1000.00"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("12345678901234567890.12"), "12345678901234567890.12"),
        (7, "7.00"),
    ],
)
def test_decimal_literal(value, literal):
    assert decimal_literal(value) == literal


def test_dumps_exact_bytes():
    body = {
        "code": 0,
        "msg": "成功",
        "accounts": [
            {"account_id": "ACC001", "balance": Decimal("10000.00"), "rate": Decimal("0.1")},
            {"amount": Decimal("12.3456"), "ok": True, "none": None, "q": 'a"b\\c\n'},
        ],
        "count": 2,
    }
    assert (
        dumps(body)
        == (
            '{"code":0,"msg":"成功","accounts":[{"account_id":"ACC001","balance":10000.00,'
            '"rate":0.10},{"amount":12.3456,"ok":true,"none":null,"q":"a\\"b\\\\c\\n"}],'
            '"count":2}'
        ).encode()
    )
    assert json.loads(dumps(body), parse_float=Decimal)["accounts"][0]["balance"] == Decimal(
        "10000.00"
    )


def test_dumps_refuses_float_and_nan():
    with pytest.raises(TypeError):
        dumps({"balance": 10000.0})
    with pytest.raises(ValueError):
        dumps([Decimal("NaN")])
    with pytest.raises(TypeError):
        dumps({(1, 2): "x"})


def test_dumps_int_keys_and_tuples():
    assert dumps({1: (1, "a")}) == b'{"1":[1,"a"]}'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        # the original's decimal(20,3) strings: at least three decimals
        (Decimal("12.5"), "12.500"),
        (Decimal("12"), "12.000"),
        (Decimal("12.50"), "12.500"),
        (Decimal("0"), "0.000"),
        (Decimal("0.0000"), "0.000"),
        (Decimal("-0"), "0.000"),
        (Decimal("12.345"), "12.345"),
        (Decimal("12.3450"), "12.345"),  # trailing zeros trimmed down to three
        # every further decimal the ledger holds, never rounded (issue 14, point 5)
        (Decimal("12.3456"), "12.3456"),
        (Decimal("12.3455"), "12.3455"),
        (Decimal("-12.3455"), "-12.3455"),
        (Decimal("-0.0004"), "-0.0004"),
        (Decimal("0.0001"), "0.0001"),
        (Decimal("1E+2"), "100.000"),
        (Decimal("123456789012345678901234567890.1235"), "123456789012345678901234567890.1235"),
        (Decimal("99999999999999.9999"), "99999999999999.9999"),
        (5, "5.000"),
    ],
)
def test_money_str(value, text):
    assert money_str(value) == text


def test_money_str_rows_add_up():
    """Exact strings: the amounts of a list add up to the balance, as the ledger's do."""
    amounts = [Decimal("12.3456"), Decimal("0.0001"), Decimal("-2.0007"), Decimal("7.5")]
    assert sum(Decimal(money_str(a)) for a in amounts) == sum(amounts)


def test_money_str_refuses_float():
    with pytest.raises(TypeError):
        money_str(12.5)
    with pytest.raises(TypeError):
        money_str(True)
