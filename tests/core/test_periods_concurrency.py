"""A close racing writers (I10, R13), on SQLite and PostgreSQL, through every way in: single
postings (zb_post on PostgreSQL), batches (COPY) and bill imports (the staged writer) keep
posting into the month while it is closed. Every write either lands before the close (and is
in its figures) or is refused naming the period: no entry lands in the month after the close,
which ``verify_periods`` proves by recomputing the stored figures from the entries."""

import threading
import time
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from zhangben.core import errors
from zhangben.demo import bills as s
from zhangben.imports.runner import import_file

SH = ZoneInfo("Asia/Shanghai")
MARCH = datetime(2024, 3, 15, 12, tzinfo=SH)
WRITERS = 3


def _write(way: str, ledger, writer: int, n: int, tmp_path) -> None:
    if way == "single":
        ledger.income("A", "1", trade_time=MARCH)
    elif way == "batch":
        ledger.post_many([
            {"kind": "income", "account": "A", "amount": "1", "trade_time": MARCH},
            {"kind": "transfer", "from_account": "B", "to_account": "A", "amount": "1",
             "trade_time": MARCH},
        ])  # fmt: skip
    else:
        txn = s.SampleTxn(1, MARCH.replace(tzinfo=None), Decimal("1"), Decimal("1"),
                          f"RACE-{writer}-{n}", "T", "", "在线支付", "")  # fmt: skip
        path = s.write_alipay_csv(tmp_path / f"race-{writer}-{n}.csv", [txn])
        import_file(ledger, path, account=f"P{writer}")  # one bill account per writer


@pytest.mark.slow
@pytest.mark.parametrize("way", ["single", "batch", "import"])
def test_no_entry_lands_in_a_period_after_it_is_closed(ledger, tmp_path, way):
    ledger.open_account(number="A", name="甲", type="alipay", shop_code="S1",
                        allow_overdraft=True)  # fmt: skip
    ledger.open_account(number="B", name="乙", shop_code="S1", allow_overdraft=True)
    for k in range(WRITERS):
        ledger.open_account(number=f"P{k}", name="支付宝", type="alipay", shop_code="S1",
                            allow_overdraft=True)  # fmt: skip
    ledger.income("A", "1", trade_time=datetime(2024, 3, 1, 9, tzinfo=SH))
    written, refused, failed = [], [], []
    closed = threading.Event()
    refusals_after = [0] * WRITERS

    def writer(k: int) -> None:
        n = 0
        while refusals_after[k] < 3 and not failed:
            n += 1
            after = closed.is_set()  # the close has returned: this write must be refused
            try:
                _write(way, ledger, k, n, tmp_path)
                written.append((k, n, after))
            except errors.PeriodClosed as exc:
                refused.append(exc.message)
                if closed.is_set():
                    refusals_after[k] += 1
            except BaseException as exc:  # noqa: BLE001 - the test reports it
                failed.append(exc)
                return

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
    for t in threads:
        t.start()
    while len(written) < 2 * WRITERS and not failed:
        time.sleep(0.01)
    period = ledger.close_period("2024-03", shop="S1", actor="race")
    closed.set()
    for t in threads:
        t.join(timeout=120)
    assert failed == []
    assert refused and all("period 2024-03 is closed (shop S1" in m for m in refused)
    # no write begun after the close returned was written
    assert not any(after for _, _, after in written)
    assert ledger.verify_periods().ok, ledger.verify_periods().problems
    assert ledger.verify().ok
    # and every write done before it is in the close's figures: 1.00 in per write and leg in
    income = sum(Decimal(a["income"]) for a in period.figures)
    assert income == 1 + len(written) * (2 if way == "batch" else 1)
