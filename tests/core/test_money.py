from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhangben.core.errors import InvalidAmount
from zhangben.core.money import MAX_AMOUNT, format_amount, from_minor, parse_amount, to_minor


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.34", "12.3400"),
        ("0.0001", "0.0001"),
        (5, "5.0000"),
        (Decimal("1.5"), "1.5000"),
        ("  7.10 ", "7.1000"),
        ("12.340000", "12.3400"),
    ],
)
def test_parse_amount_accepts_exact_decimals(raw, expected):
    assert parse_amount(raw) == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (1.5, "float"),
        ("-1", "negative"),
        ("0", "greater than zero"),
        ("0.00001", "decimal places"),
        ("NaN", "finite"),
        ("inf", "finite"),
        ("1e3", "plain decimal"),
        ("abc", "not a decimal"),
        ("100000000000000", "larger"),
        (True, "not an amount"),
        ("", "not a decimal"),
        (None, "not an amount"),
    ],
)
def test_parse_amount_refuses_bad_input(raw, why):
    with pytest.raises(InvalidAmount, match=why):
        parse_amount(raw)


def test_zero_allowed_when_asked():
    assert parse_amount("0", allow_zero=True) == 0


@given(st.integers(min_value=1, max_value=to_minor(MAX_AMOUNT)))
def test_minor_round_trip_is_exact(minor):
    amount = from_minor(minor)
    assert to_minor(amount) == minor
    assert parse_amount(format_amount(amount)) == amount
