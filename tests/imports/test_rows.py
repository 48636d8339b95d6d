"""Value parsers: amounts and times, exactly as the bills spell them, and the error naming line
and column."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from zhangben.imports import (
    BillFormatError,
    parse_amount,
    parse_time,
)

SH = ZoneInfo("Asia/Shanghai")
D = Decimal


@pytest.mark.parametrize(
    "text, value",
    [
        ("", D(0)),
        ("0.00", D(0)),
        ("-0.00", D(0)),
        ("12", D(12)),
        ("+12.5", D("12.5")),
        ("-34.50", D("-34.5")),
        ("1,234.56", D("1234.56")),
        ("12,345,678.9", D("12345678.9")),
        ("0.1234", D("0.1234")),
        ("0.60000", D("0.6")),
        ("¥8.00", D(8)),
        (" 7.10\t", D("7.1")),
    ],
)
def test_amounts(text, value):
    got = parse_amount(text)
    assert got == value and isinstance(got, Decimal)


@pytest.mark.parametrize(
    "text", ["12,3O", "12,30", "1,2345.00", "1.2.3", "abc", "1e5", "12.34567", "--1", "1,"]
)
def test_bad_amounts(text):
    with pytest.raises(BillFormatError):
        parse_amount(text, 3, "金额")


def test_error_text():
    with pytest.raises(BillFormatError) as info:
        parse_amount("12,3O", 37, "收入金额（+元）")
    assert str(info.value) == 'line 37, 收入金额（+元）: "12,3O" is not an amount'
    assert isinstance(info.value, ValueError)
    assert str(BillFormatError(None, None, "x")) == "file: x"


@pytest.mark.parametrize(
    "text, value",
    [
        ("2024-03-01 10:00:00", datetime(2024, 3, 1, 10, 0, 0, tzinfo=SH)),
        ("2024/3/1 10:00:05", datetime(2024, 3, 1, 10, 0, 5, tzinfo=SH)),
        ("2024-03-01 10:07", datetime(2024, 3, 1, 10, 7, tzinfo=SH)),
        ("2024-03-01T10:00:00+00:00", datetime(2024, 3, 1, 10, tzinfo=UTC)),
    ],
)
def test_times(text, value):
    got = parse_time(text)
    assert got == value and got.tzinfo is not None
    assert got.utcoffset() == value.utcoffset()


def test_dates_only_when_allowed():
    assert parse_time("2024-03-01", date_only_ok=True) == datetime(2024, 3, 1, tzinfo=SH)
    assert parse_time("2024-03-01", date_only_ok=True).utcoffset() == timedelta(hours=8)
    with pytest.raises(BillFormatError, match="without a time"):
        parse_time("2024-03-01", 4, "发生时间")


@pytest.mark.parametrize("text", ["", "2024-02-30 10:00:00", "10:00", "2024-03-01 25:00:00"])
def test_bad_times(text):
    with pytest.raises(BillFormatError):
        parse_time(text, 2, "t")


def test_only_ascii_digits():
    with pytest.raises(BillFormatError):
        parse_amount("１２.５")
    with pytest.raises(BillFormatError):
        parse_time("２０２４-03-01 10:00:00")
