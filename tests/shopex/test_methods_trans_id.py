"""finance.getTransactionList: ``trans_id`` is the posting's trade number, unique per leg and
stable (points 1 and 2 of issue 14), ``entry_id`` reaches the internal id, and reversals say
their direction."""

from datetime import datetime

import pytest

from tests.shopex.support import RANGE, SH
from zhangben.core.records import Entry
from zhangben.core.references import reference

TX = "finance.getTransactionList"
DAY = datetime(2024, 1, 10, tzinfo=SH)


def rows(erp, **params) -> list[dict]:
    return erp(TX, **RANGE, **params)["lists"]


def by_entry(erp, **params) -> dict[int, dict]:
    return {int(r["entry_id"]): r for r in rows(erp, **params)}


def test_the_callers_trade_number_is_the_trans_id(erp, ledger):
    """The seed's example: TRANS20240101001 is a business number, the one posted with."""
    r = ledger.income("ACC001", "1000.00", trade_no="TRANS20240101001", trade_time=DAY)
    row = by_entry(erp, account_id="ACC001")[r.entries[0].id]
    assert row["trans_id"] == row["trade_no"] == "TRANS20240101001"
    assert row["entry_id"] == str(r.entries[0].id)
    assert ledger.entry(int(row["entry_id"])).trade_no == "TRANS20240101001"


def test_transfer_legs_share_the_trade_number_with_a_leg_suffix(erp, ledger):
    r = ledger.transfer("ACC001", "ACC002", "10.00", trade_no="T-MOVE-1", trade_time=DAY)
    out_leg, in_leg = r.entries
    listed = by_entry(erp, shop_bn="S001#S002")
    assert listed[out_leg.id]["trans_id"] == "T-MOVE-1:out"
    assert listed[in_leg.id]["trans_id"] == "T-MOVE-1:in"
    assert listed[out_leg.id]["trade_no"] == listed[in_leg.id]["trade_no"] == "T-MOVE-1"
    # the books' own transfer (ACC003 → ACC004), with a generated 壹川-style number
    generated = [x for x in rows(erp) if x["trans_type"].startswith("transfer_")]
    assert {x["trans_id"].rsplit(":", 1)[1] for x in generated} == {"out", "in"}
    assert len({x["trade_no"] for x in generated}) == 2  # T-MOVE-1 and the generated one


def test_a_trade_number_used_again_gets_the_posting_id(erp, ledger):
    """Explicit idempotency keys let a caller reuse a trade number: the first posting keeps
    the bare number, later ones add their posting id; nothing changes for the first."""
    first = ledger.income("ACC001", "1.00", trade_no="DUP-1", idempotency_key="k1", trade_time=DAY)
    before = by_entry(erp, account_id="ACC001")[first.entries[0].id]["trans_id"]
    again = ledger.expense("ACC001", "1.00", trade_no="DUP-1", idempotency_key="k2", trade_time=DAY)
    moved = ledger.transfer("ACC002", "ACC001", "0.05", trade_no="DUP-1", trade_time=DAY)
    listed = by_entry(erp, shop_bn="S001#S002")
    assert before == listed[first.entries[0].id]["trans_id"] == "DUP-1"
    assert listed[again.entries[0].id]["trans_id"] == f"DUP-1:{again.posting_id}"
    assert listed[moved.entries[0].id]["trans_id"] == f"DUP-1:{moved.posting_id}:out"
    assert listed[moved.entries[1].id]["trans_id"] == f"DUP-1:{moved.posting_id}:in"


def test_a_trade_number_with_the_separator_always_gets_the_posting_id(erp, ledger):
    r = ledger.income("ACC001", "1.00", trade_no="A:B", trade_time=DAY)
    tricky = ledger.income("ACC001", "1.00", trade_no="A", trade_time=DAY)
    listed = by_entry(erp, account_id="ACC001")
    assert listed[r.entries[0].id]["trans_id"] == f"A:B:{r.posting_id}"
    assert listed[tricky.entries[0].id]["trans_id"] == "A"


def _entry(posting_id: int, trade_no: str, amount: int) -> Entry:
    nothing = (None,) * 6  # operator, category, subject, their names, counterparty
    return Entry(1, posting_id, 1, "A", "a", "income", amount, 0, trade_no, DAY, DAY,
                 *nothing, "", "", "manual", None, None, None)  # fmt: skip


@pytest.mark.parametrize(
    "trade_nos",
    [
        ["T", "T", "T:out", "T:1", "T:1:out", "T:2", "T:in:3", "1", "1:1", ":", "::", "T:"],
        ["x:2", "x", "x", "x:out", "x:2:in", "x:3"],
    ],
)
def test_references_are_unique_by_construction(trade_nos):
    """Every posting (ids 1…n) as one leg and as two legs: no two references are equal."""
    seen = {}
    first: dict[str, int] = {}
    for pid, t in enumerate(trade_nos, start=1):
        first.setdefault(t, pid)
        for legs, amounts in ((1, (5,)), (2, (-5, 5))):
            for amount in amounts:
                ref = reference(_entry(pid * 10 + legs, t, amount), legs, first[t] * 10 + legs)
                assert ref not in seen, (ref, seen.get(ref), (pid, t, legs, amount))
                seen[ref] = (pid, t, legs, amount)


def test_trans_ids_are_unique_and_stable_over_the_whole_list(erp, ledger):
    for i in range(3):  # generated numbers, and a reused caller's number
        ledger.income("ACC003", "1.00", trade_no="SAME", idempotency_key=f"s{i}", trade_time=DAY)
        ledger.transfer("ACC003", "ACC004", "0.10", trade_time=DAY)
    one = rows(erp, page_size="100")
    ids = [r["trans_id"] for r in one]
    assert len(ids) == len(set(ids)) == erp(TX, **RANGE)["count"]
    assert [r["trans_id"] for r in rows(erp, page_size="100")] == ids


def test_reversals_say_their_direction(erp, ledger):
    sale = ledger.income("ACC001", "30.00", trade_no="SALE-1", trade_time=DAY)
    buy = ledger.expense("ACC001", "20.00", trade_no="BUY-1", trade_time=DAY)
    move = ledger.transfer("ACC003", "ACC004", "1.00", trade_no="MOVE-1", trade_time=DAY)
    at = DAY.replace(hour=12)
    undo_sale = ledger.reverse_entry(sale.entries[0].id, trade_no="R-SALE-1", trade_time=at)
    undo_buy = ledger.reverse_entry(buy.entries[0].id, trade_no="R-BUY-1", trade_time=at)
    undo_move = ledger.reverse_transfer(move.posting_id, trade_no="R-MOVE-1", trade_time=at)
    listed = by_entry(erp)
    got = {e.id: listed[e.id] for r in (undo_sale, undo_buy, undo_move) for e in r.entries}
    shown = {(x["account_id"], x["trans_id"], x["trans_type"], x["amount"]) for x in got.values()}
    assert shown == {
        ("ACC001", "R-SALE-1", "reversal_expense", 30),
        ("ACC001", "R-BUY-1", "reversal_income", 20),
        ("ACC003", "R-MOVE-1:in", "reversal_income", 1),  # the transfer-out comes back
        ("ACC004", "R-MOVE-1:out", "reversal_expense", 1),
    }
    assert all(x["amount"] > 0 for x in got.values())  # positive: the type gives the direction
    # trans_type=reversal still matches both directions; the new values filter one each
    assert {x["trans_type"] for x in rows(erp, trans_type="reversal")} == {
        "reversal_income",
        "reversal_expense",
    }
    assert len(rows(erp, trans_type="reversal")) == 4
    incoming = rows(erp, trans_type="reversal_income")
    assert {x["trans_id"] for x in incoming} == {"R-BUY-1", "R-MOVE-1:in"}
    outgoing = rows(erp, trans_type="reversal_expense", account_id="ACC004")
    assert [x["trans_id"] for x in outgoing] == ["R-MOVE-1:out"]
    assert erp(TX, **RANGE, trans_type="reversal_income")["count"] == 2


def test_unknown_trans_type_is_a_2002(erp):
    data = erp(TX, **RANGE, trans_type="refund")
    assert (data["code"], data["msg"]) == (2002, "非法的请求参数")
    assert "reversal_income" in data["sub_msg"]
