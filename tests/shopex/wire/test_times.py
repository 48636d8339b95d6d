"""Request timestamps, the window, query times and their output form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from zhangben.shopex.wire.times import (
    format_time,
    parse_query_time,
    parse_request_timestamp,
    within_window,
)

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 11, 24, 16, 0, tzinfo=UTC)  # 1764000000


@pytest.mark.parametrize(
    "text",
    ["1764000000", "  1764000000 ", "\t1764000000\n", "20251125000000", "2025-11-25 00:00:00"],
)
def test_accepted_forms_mean_the_same_instant(text):
    parsed = parse_request_timestamp(text, SH)
    assert parsed == T0
    assert parsed.tzinfo is not None


def test_naive_forms_read_in_the_given_zone():
    assert parse_request_timestamp("20251124160000", ZoneInfo("UTC")) == T0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "1764000000000",  # milliseconds
        "1764000000.5",
        "-1764000000",
        "+1764000000",
        "1.764e9",
        "17640000OO",
        "１７６４００００００",  # full-width digits
        "20251325000000",  # month 13
        "2025-11-25T00:00:00",
        "2025-11-25 00:00",
        "2025/11/25 00:00:00",
        "2025-1-25 00:00:00",
        "999999999999",  # out of datetime's range
    ],
)
def test_rejected_forms(text):
    with pytest.raises(ValueError):
        parse_request_timestamp(text, SH)


def test_window_edges_inclusive():
    assert within_window(T0 + timedelta(seconds=300), T0, 300)
    assert within_window(T0 - timedelta(seconds=300), T0, 300)
    assert not within_window(T0 + timedelta(seconds=301), T0, 300)
    assert not within_window(T0 - timedelta(seconds=300, microseconds=1), T0, 300)
    assert within_window(T0.astimezone(SH), T0, 0)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        # the seed's form: the same instant as either bound
        ("2024-01-01 10:00:05", datetime(2024, 1, 1, 10, 0, 5, tzinfo=SH), None),
        # a date: the start of that day, or as an end bound the start of the next one
        ("2024-01-01", datetime(2024, 1, 1, tzinfo=SH), datetime(2024, 1, 2, tzinfo=SH)),
        ("2024-02-29", datetime(2024, 2, 29, tzinfo=SH), datetime(2024, 3, 1, tzinfo=SH)),
        ("2024-12-31", datetime(2024, 12, 31, tzinfo=SH), datetime(2025, 1, 1, tzinfo=SH)),
        # ISO 8601
        ("2024-01-01T10:00:05", datetime(2024, 1, 1, 10, 0, 5, tzinfo=SH), None),
        ("2024-01-01T02:00:05Z", datetime(2024, 1, 1, 10, 0, 5, tzinfo=SH), None),
        ("2024-01-01T10:00:05+08:00", datetime(2024, 1, 1, 10, 0, 5, tzinfo=SH), None),
        ("2024-01-01T03:00:05+0100", datetime(2024, 1, 1, 10, 0, 5, tzinfo=SH), None),
        ("2024-01-01 10:00:05.25", datetime(2024, 1, 1, 10, 0, 5, 250000, tzinfo=SH), None),
        ("2024-01-01T10:00:05.000001", datetime(2024, 1, 1, 10, 0, 5, 1, tzinfo=SH), None),
    ],
)
def test_query_time_forms(text, start, end):
    assert parse_query_time(text, SH) == start
    assert parse_query_time(text, SH, end=True) == (end or start)


@pytest.mark.parametrize(
    "bad",
    [
        "2024-01-01 00:00:00 ",
        " 2024-01-01",
        "20240101000000",
        "20240101",
        "1704038400",
        "2024-02-30 00:00:00",
        "2024-02-30",
        "2023-02-29",
        "2024-1-1",
        "2024-01-01T10:00",
        "2024-01-01T24:00:00",
        "2024-01-01T10:00:00.1234567",
        "2024-01-01T10:00:00+24:00",
        "2024-01-01T10:00:00+08",
        "2024-01-01T10:00:00 +08:00",
        "2024/01/01",
        "yesterday",
        "２０２４-01-01",  # full-width digits
        "0001-01-01 00:00:00",  # before year 1 in UTC
        "",
    ],
)
def test_query_time_refuses_garbage(bad):
    with pytest.raises(ValueError):
        parse_query_time(bad, SH)
    with pytest.raises(ValueError):
        parse_query_time(bad, SH, end=True)


def test_query_time_last_day():
    """The last day can start a range; its end (the next day) is past year 9999."""
    assert parse_query_time("9999-12-31", SH) == datetime(9999, 12, 31, tzinfo=SH)
    with pytest.raises(ValueError):
        parse_query_time("9999-12-31", SH, end=True)


def test_format_time():
    assert format_time(T0, SH) == "2025-11-25 00:00:00"
    assert (
        format_time(datetime(2024, 1, 1, 10, 0, 5), SH) == "2024-01-01 10:00:05"
    )  # naive: already SH
    assert format_time(datetime(5, 1, 1, tzinfo=SH), SH) == "0005-01-01 00:00:00"
    assert format_time(parse_query_time("2024-01-31 23:59:59", SH), SH) == "2024-01-31 23:59:59"
