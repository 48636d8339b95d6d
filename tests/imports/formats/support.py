"""Helpers of the format tests."""

from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")
ENCODINGS = ["utf-8", "utf-8-sig", "gbk"]


def check_chain(rows, txns):
    for r, t in zip(rows, txns, strict=True):
        assert r.trade_time == t.time.replace(tzinfo=SH)
        assert r.net == t.amount and r.balance == t.balance
        assert r.income >= 0 and r.expense >= 0
