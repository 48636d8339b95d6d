"""The runner against hostile and unlucky files, on SQLite and PostgreSQL: the file is read
and staged before any write lock (other writers go on meanwhile); a file with no rows, an
amount over the ledger's maximum and a running sum past the maximum balance are refused,
naming the line, with nothing written."""

import threading
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from zhangben.core.errors import LedgerError
from zhangben.core.ledger import Ledger
from zhangben.core.money import MAX_AMOUNT
from zhangben.demo import bills as s
from zhangben.imports import BillFormatError
from zhangben.imports.runner import import_file
from zhangben.store.bills_tables import bill_rows, import_batches
from zhangben.store.tables import entries

D = Decimal


def open_accounts(ledger):
    ledger.open_account(number="JD001", name="京东", type="jd_wallet", allow_overdraft=True)
    ledger.open_account(number="JZT001", name="精准通", type="jzt", allow_overdraft=True)
    ledger.open_account(number="CASH", name="现金", type="main")


def written(ledger) -> tuple[int, int, int]:
    with ledger.engine.connect() as conn:
        return tuple(
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (entries, bill_rows, import_batches)
        )


def test_a_file_with_a_header_and_no_rows_is_refused(ledger, tmp_path):
    open_accounts(ledger)
    path = s.write_jd_wallet_csv(tmp_path / "empty.csv", [])
    with pytest.raises(BillFormatError, match="line 1: no rows after the header"):
        import_file(ledger, path, account="JD001")
    # the file, scaled down: a header, then empty lines
    path.write_bytes(path.read_bytes() + b"\r\n" * 20_000)
    with pytest.raises(BillFormatError, match="line 10002: more than 10,000 empty lines"):
        import_file(ledger, path, account="JD001")
    assert written(ledger) == (0, 0, 0)


def jd_rows(n: int, **cells):
    rows = [s.jd_wallet_row(t) for t in s.chained_txns(n)]
    for line, values in cells.items():
        rows[int(line.removeprefix("line")) - 2].update(values)
    return rows


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("收入金额(元)", "100000000000000.00"),
        ("支出金额(元)", "99999999999999999999999999.5"),
        ("账户余额(元)", "-123456789012345678"),
    ],
)
def test_an_amount_over_the_maximum_is_refused_naming_line_and_column(
    ledger, tmp_path, column, value
):
    open_accounts(ledger)
    path = s.write_jd_wallet_csv(tmp_path / "big.csv", jd_rows(30, line17={column: value}))
    with pytest.raises(BillFormatError) as caught:
        import_file(ledger, path, account="JD001")
    assert str(caught.value) == f'line 17, {column}: "{value}" is larger than {MAX_AMOUNT}'
    assert written(ledger) == (0, 0, 0)


def test_a_running_sum_past_the_maximum_balance_is_refused_naming_the_line(ledger, tmp_path):
    """Ten expenses of the largest amount: the tenth would take the balance past the ledger's
    maximum (9×10¹⁸ minor units), the eleventh past 64 bits (SQLite's sum() overflowed)."""
    open_accounts(ledger)
    rows = [dict(s.jzt_row(t), 支出="99999999999999.99") for t in s.chained_txns(12)]
    path = s.write_jzt_csv(tmp_path / "jzt.csv", rows)
    with pytest.raises(LedgerError) as caught:
        import_file(ledger, path, account="JZT001")
    flow = rows[9]["流水单号"]
    want = f"line 11 (flow {flow}): amount: account JZT001's balance would overflow"
    assert caught.value.message == want
    assert written(ledger) == (0, 0, 0)
    # the same rows, fewer: nine fit
    path = s.write_jzt_csv(tmp_path / "jzt9.csv", rows[:9])
    assert import_file(ledger, path, account="JZT001").entries_written == 9
    assert ledger.balance("JZT001") == -9 * D("99999999999999.99")


def test_other_writers_go_on_while_a_file_is_read(ledger, tmp_path):
    """Before: SQLite read the whole file inside BEGIN IMMEDIATE, and every other writer
    waited for it (83 s for the issue's file). Now a write made while the file is being read
    is done at once, on both databases."""
    open_accounts(ledger)
    path = s.write_jd_wallet_csv(tmp_path / "jd.csv", s.chained_txns(3000))
    other = Ledger(ledger.engine, ledger.tz)
    took: list[float] = []

    def write():
        started = time.perf_counter()
        other.income("CASH", "1.00", remark="while a bill is read")
        took.append(time.perf_counter() - started)

    def progress(phase, done, total):
        if phase == "read" and done == 1000 and not took:
            writer = threading.Thread(target=write, daemon=True)
            writer.start()
            writer.join(timeout=3)
            if not took:  # still waiting: the import holds the write lock
                took.append(-1.0)

    report = import_file(ledger, path, account="JD001", progress=progress)
    assert report.rows_new == 3000
    assert took and 0 <= took[0] < 1.0, took
    assert ledger.balance("CASH") == D("1.00")
    assert ledger.verify().ok
