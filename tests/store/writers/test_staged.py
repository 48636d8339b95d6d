"""The set-based write path (zhangben.store.writers.staged): what it computes in SQL must be what
the row-by-row path computed — keys, request hashes, raw cells, the continuity check's
breaks in posting order — and a taken posting key is a replay or a conflict. Both backends."""

from datetime import datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from zhangben.core.errors import IdempotencyConflict
from zhangben.core.money import to_minor
from zhangben.demo import bills as s
from zhangben.imports.continuity import ChainChecker, ChainPoint
from zhangben.imports.runner import import_file
from zhangben.imports.service import Imports
from zhangben.store.bills_tables import bill_rows
from zhangben.store.tables import entries, postings

SH = ZoneInfo("Asia/Shanghai")


def open_alipay(ledger, number="ALI001"):
    return ledger.open_account(
        number=number, name="支付宝", type="alipay", shop_code="S001", allow_overdraft=True
    )


def rows_of(ledger, *cols):
    with ledger.engine.connect() as conn:
        return conn.execute(sa.select(*cols).order_by(bill_rows.c.id)).all()


def expected_breaks(cells, newest_first):
    """The breaks ChainChecker finds when fed every row in posting order (the old path)."""
    points = []
    for line, c in enumerate(cells):
        net = D(c["收入金额（+元）"]) - abs(D(c["支出金额（-元）"]))
        when = datetime.strptime(c["发生时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SH)
        flow = c["账务流水号"]
        points.append(
            ChainPoint(line, flow, when, to_minor(net), to_minor(D(c["账户余额（元）"])), flow)
        )
    if newest_first:
        points.reverse()
    checker = ChainChecker()
    for p in points:
        checker.feed(p)
    return [(b.kind, b.previous.flow_no, b.row.flow_no) for b in checker.finish()]


@pytest.mark.parametrize("newest_first", [False, True], ids=["oldest-first", "newest-first"])
def test_breaks_in_posting_order_match_the_row_by_row_check(ledger, tmp_path, newest_first):
    open_alipay(ledger)
    txns = list(s.chained_txns(60, seed=8))
    rows = [s.alipay_row(t) for t in txns]
    del rows[10]  # a missing row
    rows[20], rows[21] = rows[21], rows[20]  # two rows out of order
    rows.insert(40, dict(rows[39], **{"账务流水号": rows[39]["账务流水号"] + "9"}))  # repeated
    del rows[49]
    del rows[49]  # two missing rows in a row
    if newest_first:
        rows.reverse()
    path = s.write_alipay_csv(tmp_path / "broken.csv", rows)
    report = import_file(ledger, path, account="ALI001")
    assert report.newest_first is newest_first
    found = [(b.kind, b.previous.flow_no, b.row.flow_no) for b in report.breaks]
    want = expected_breaks(rows, newest_first)
    assert want and found == want
    assert report.rows_new == len(rows) and ledger.verify().ok


def test_a_key_repeated_in_the_file_is_written_once(ledger, tmp_path):
    open_alipay(ledger)
    txns = list(s.chained_txns(12, seed=3))
    rows = [s.alipay_row(t) for t in txns]
    rows.insert(6, dict(rows[5]))  # the same flow number twice
    report = import_file(ledger, s.write_alipay_csv(tmp_path / "dup.csv", rows), account="ALI001")
    assert (report.rows_total, report.rows_new, report.rows_duplicate) == (13, 12, 1)
    assert [b.kind for b in report.breaks] == ["duplicate"]
    lines = [line for (line,) in rows_of(ledger, bill_rows.c.line)]
    assert len(lines) == 12 and lines == sorted(lines)
    assert ledger.verify().ok


def test_an_imported_row_is_keyed_and_fingerprinted_as_the_same_posting_made_by_hand(
    ledger, tmp_path
):
    """I6: one key rule and one fingerprint. Each imported row's key is its flow's
    (``alipay:F``) and its fingerprint is the one ``Ledger.income``/``expense`` computes for
    the same fields."""
    acc = open_alipay(ledger)
    txns = list(s.chained_txns(5, seed=9))
    import_file(ledger, s.write_alipay_csv(tmp_path / "a.csv", txns), account="ALI001")
    with ledger.engine.connect() as conn:
        got = conn.execute(
            sa.select(entries, postings.c.request_hash, postings.c.idempotency_key)
            .join(postings, postings.c.id == entries.c.posting_id)
            .where(entries.c.category_id != 22)  # not the opening balance
            .order_by(entries.c.id)
        ).all()
    assert len(got) == 5
    for row, t in zip(got, txns, strict=True):
        kind = "income" if row.amount > 0 else "expense"
        by_hand = ledger._simple(
            kind,
            acc.id,
            D(abs(row.amount)).scaleb(-4),
            dict(
                category_id=row.category_id,
                subject_id=row.subject_id,
                counterparty=row.counterparty,
                description=row.description,
                remark=row.remark,
                source="alipay",
                external_id=t.flow_no,
                trade_time=t.time.replace(tzinfo=SH),
            ),
        )
        assert row.request_hash == by_hand.digest[0]
        assert row.idempotency_key == by_hand.key[0] == f"alipay:{t.flow_no}"
        assert row.remark == f"{t.remark} 订单号:{t.order_no}"
        assert row.trade_no.startswith(t.time.strftime("%Y%m%d")) and len(row.trade_no) == 16


def _income_row(txns):
    return next(i for i, t in enumerate(txns) if t.amount > 0 and t.business_type == "在线支付")


def test_a_flow_posted_by_hand_elsewhere_refuses_the_file(ledger, tmp_path):
    """I6: one key per platform flow. Posted by hand with another amount, the bill's row for
    the same flow is not a second posting: the file is refused, naming the line and flow."""
    open_alipay(ledger)
    txns = list(s.chained_txns(8, seed=2))
    t = txns[_income_row(txns)]
    ledger.income("ALI001", t.amount + 1, source="alipay", external_id=t.flow_no)
    before = ledger.balance("ALI001")
    with pytest.raises(IdempotencyConflict, match=rf"line \d+ \(flow {t.flow_no}\): the flow"):
        import_file(ledger, s.write_alipay_csv(tmp_path / "a.csv", txns), account="ALI001")
    assert rows_of(ledger, bill_rows.c.id) == []
    assert ledger.balance("ALI001") == before and ledger.verify().ok


def test_a_flow_posted_by_hand_first_is_linked_not_posted_twice(ledger, tmp_path):
    """I6: ``--source alipay --external-id F`` by hand, then the bill holding F: F's bill row
    is linked to the hand-made entry and the balance counts it once."""
    open_alipay(ledger)
    txns = list(s.chained_txns(8, seed=2))
    i = _income_row(txns)
    by_hand = ledger.income("ALI001", txns[i].amount, source="alipay", external_id=txns[i].flow_no)
    report = import_file(ledger, s.write_alipay_csv(tmp_path / "a.csv", txns), account="ALI001")
    assert (report.rows_new, report.entries_written, report.rows_linked) == (8, 7, 1)
    got = dict(rows_of(ledger, bill_rows.c.unique_key, bill_rows.c.entry_id))
    assert got[txns[i].flow_no] == by_hand.entries[0].id
    assert all(got.values())
    assert ledger.balance("ALI001") == txns[-1].balance  # the opening balance, then the rows
    # the flow posted by hand (dated now) counts at the platform's time: no drift
    assert ledger.verify().ok and Imports(ledger).verify().ok
    # and the other way round: the imported flow cannot be posted again by hand
    other = txns[_income_row(txns[i + 1 :]) + i + 1]
    with pytest.raises(IdempotencyConflict):
        ledger.income("ALI001", other.amount, source="alipay", external_id=other.flow_no)


@pytest.mark.parametrize("text", ["a\x1fb", "tab\there", "back\\slash", '引号"和,逗号'])
def test_raw_cells_round_trip(ledger, tmp_path, text):
    open_alipay(ledger)
    rows = [s.alipay_row(t) for t in s.chained_txns(3, seed=4)]
    rows[1]["备注"] = text
    rows[2]["商品名称"] = text
    import_file(ledger, s.write_alipay_csv(tmp_path / "a.csv", rows), account="ALI001")
    raws = [raw for (raw,) in rows_of(ledger, bill_rows.c.raw)]
    assert [r["备注"] for r in raws] == [rows[0]["备注"], text, rows[2]["备注"]]
    assert raws[2]["商品名称"] == text
    assert list(raws[0]) == list(rows[0])  # every header, in the file's order
    assert Imports(ledger).verify().ok


def test_a_bad_last_row_aborts_the_staging_and_the_next_import_works(ledger, tmp_path):
    from zhangben.imports import BillFormatError

    open_alipay(ledger)
    rows = [s.alipay_row(t) for t in s.chained_txns(3000, seed=6)]
    rows[-1]["收入金额（+元）"] = "12,3O"
    with pytest.raises(BillFormatError, match="line 3005"):
        import_file(ledger, s.write_alipay_csv(tmp_path / "bad.csv", rows), account="ALI001")
    assert rows_of(ledger, bill_rows.c.id) == []
    good = s.write_alipay_csv(tmp_path / "good.csv", s.chained_txns(50, seed=6))
    report = import_file(ledger, good, account="ALI001")  # same pool: the connection is sane
    assert report.rows_new == 50 and ledger.verify().ok and Imports(ledger).verify().ok
