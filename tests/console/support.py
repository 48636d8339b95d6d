"""Helpers of the console's tests: the demo ledger with a few entries of today, logging in
through the console's own form, a bill file with a bad row."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from zhangben.core.ledger import Ledger
from zhangben.demo import bills
from zhangben.demo.ledger import load_demo
from zhangben.demo.passwords import DEMO_PASSWORDS
from zhangben.imports.formats.alipay import INCOME

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def demo_ledger(ledger: Ledger) -> Ledger:
    """The demo ledger, plus entries of today and of the last days on ACC001 (the chart and
    the day's figures have something to show)."""
    assert load_demo(ledger)
    now = datetime.now(UTC)
    op = {"operator_id": ledger.user("finance").id}
    for days, amount in ((0, "1234.56"), (1, "88.00"), (3, "5000.00"), (6, "300.25")):
        ledger.income("ACC001", amount, trade_time=now - timedelta(days=days), remark="货款", **op)
    ledger.expense("ACC001", "99.99", trade_time=now - timedelta(days=2), remark="运费", **op)
    return ledger


def login(client, username: str, password: str | None = None):
    """Log in through the form; the response of the POST (not followed)."""
    page = client.get("/console/login")
    csrf = CSRF.search(page.text).group(1)
    return client.post(
        "/console/login",
        data={
            "csrf": csrf,
            "username": username,
            "password": password or DEMO_PASSWORDS[username],
            "next": "",
        },
        follow_redirects=False,
    )


def csrf_of(html: str) -> str:
    return CSRF.search(html).group(1)


def bad_row_bill(path: Path) -> Path:
    """An Alipay 账务明细 CSV of 12 rows whose 4th data row (line 9) has an income of
    ``12,3O``."""
    rows = [bills.alipay_row(t) for t in bills.chained_txns(12)]
    rows[3][INCOME] = "12,3O"
    return bills.write_alipay_csv(path, rows)
