"""The timestamp window: its edges in all three formats, its configuration, malformed values."""

from datetime import datetime

import pytest

from tests.shopex.support import SH
from zhangben.shopex.gateway import Gateway

NOW = 1764000000  # 2025-11-25 00:00:00 in Asia/Shanghai
BAL = "finance.getAccountBalance"


def unix(offset):
    return str(NOW + offset)


def compact(offset):
    return datetime.fromtimestamp(NOW + offset, SH).strftime("%Y%m%d%H%M%S")


def dashed(offset):
    return datetime.fromtimestamp(NOW + offset, SH).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def frozen(erp, gateway):
    gateway.clock = lambda: float(NOW)
    return erp


@pytest.mark.parametrize("fmt", [unix, compact, dashed])
@pytest.mark.parametrize(("offset", "code"), [(-300, 0), (300, 0), (-301, 1002), (301, 1002)])
def test_window_edges(frozen, fmt, offset, code):
    assert frozen(BAL, ts=fmt(offset))["code"] == code


def test_compact_timestamp_is_read_in_the_business_time_zone(frozen):
    assert compact(0) == "20251125000000"
    assert frozen(BAL, ts="20251125000000")["code"] == 0
    assert frozen(BAL, ts="20251124160000")["code"] == 1002  # the same digits in UTC


def test_surrounding_spaces_are_tolerated(frozen):
    assert frozen(BAL, ts=f" {NOW} ")["code"] == 0


@pytest.mark.parametrize("bad", ["abc", str(NOW * 1000), "2025-11-25T00:00:00", "1.5e9"])
def test_malformed_timestamp_is_1002(frozen, bad):
    data = frozen(BAL, ts=bad)
    assert data["code"] == 1002 and "Unix seconds" in data["sub_msg"]


def test_configured_window(frozen, gateway):
    gateway.window_seconds = 3600
    assert frozen(BAL, ts=unix(-3600))["code"] == 0
    assert frozen(BAL, ts=unix(3601))["code"] == 1002


def test_window_is_capped_at_3600(ledger, cipher):
    assert Gateway(ledger, cipher, SH, window_seconds=99999).window_seconds == 3600
    assert Gateway(ledger, cipher, SH, window_seconds=0).window_seconds == 1


def test_sub_msg_tells_the_skew(frozen):
    data = frozen(BAL, ts=unix(-400))
    assert "-400 s" in data["sub_msg"] and "±300 s" in data["sub_msg"]
