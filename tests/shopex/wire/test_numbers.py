"""Money on the wire: exact bytes, never through float."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from zhangben.shopex.wire.numbers import decimal_literal, dumps, money_str3


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
        (Decimal("12.5"), "12.500"),
        (Decimal("12"), "12.000"),
        (Decimal("0"), "0.000"),
        (Decimal("-0.0004"), "0.000"),
        (Decimal("12.345"), "12.345"),
        (Decimal("12.3455"), "12.346"),  # half-up, not banker's
        (Decimal("12.3445"), "12.345"),
        (Decimal("-12.3455"), "-12.346"),
        (Decimal("12.3454"), "12.345"),
        (Decimal("1E+2"), "100.000"),
        (Decimal("123456789012345678901234567890.1235"), "123456789012345678901234567890.124"),
        (5, "5.000"),
    ],
)
def test_money_str3(value, text):
    assert money_str3(value) == text


def test_money_str3_refuses_float():
    with pytest.raises(TypeError):
        money_str3(12.5)
    with pytest.raises(TypeError):
        money_str3(True)
