"""finance.getTransactionList order and paging (point 3 of issue 14): by trade time then
entry id, oldest first as the seed's example; ``max_entry_id`` keeps later pages to the rows
of the first one, whatever is posted (or back-dated) meanwhile."""

from datetime import datetime, timedelta

import pytest

from tests.shopex.support import SH

TX = "finance.getTransactionList"
MARCH = {"start_time": "2024-03-01 00:00:00", "end_time": "2024-04-01 00:00:00"}
T0 = datetime(2024, 3, 1, 9, tzinfo=SH)


@pytest.fixture
def flow(erp, ledger):
    """FLOW (S009): 10 incomes, one per minute from 09:00, posted out of time order (odd
    minutes first), and two entries at the same instant (09:05)."""
    ledger.open_account(number="FLOW", name="流水", shop_code="S009")
    for i in [*range(1, 10, 2), *range(0, 10, 2)]:
        ledger.income("FLOW", "1.00", trade_time=T0 + timedelta(minutes=i), remark=f"m{i}")
    ledger.income("FLOW", "1.00", trade_time=T0 + timedelta(minutes=5), remark="m5b")
    return erp


def page(erp, n: int, size: int = 4, **extra) -> dict:
    return erp(TX, **MARCH, account_id="FLOW", page_no=str(n), page_size=str(size), **extra)


def test_by_trade_time_then_id_oldest_first(flow):
    data = flow(TX, **MARCH, account_id="FLOW")
    remarks = [r["remark"] for r in data["lists"]]
    assert remarks == ["m0", "m1", "m2", "m3", "m4", "m5", "m5b", "m6", "m7", "m8", "m9"]
    times = [(r["trans_time"], int(r["entry_id"])) for r in data["lists"]]
    assert times == sorted(times)
    # the same order over several accounts and shops (no account filter)
    every = flow(TX, **MARCH, shop_bn="S009#S001")["lists"]
    assert [r["remark"] for r in every] == remarks


def test_a_back_dated_entry_takes_its_place_in_time(flow, ledger):
    ledger.income("FLOW", "1.00", trade_time=T0 - timedelta(hours=1), remark="early")
    assert [r["remark"] for r in page(flow, 1)["lists"]] == ["early", "m0", "m1", "m2"]


def test_pages_are_contiguous_and_complete(flow):
    pages = [page(flow, n)["lists"] for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [4, 4, 3]
    ids = [r["entry_id"] for p in pages for r in p]
    assert ids == [r["entry_id"] for r in flow(TX, **MARCH, account_id="FLOW")["lists"]]


def test_max_entry_id_keeps_pages_stable(flow, ledger):
    first = page(flow, 1)
    bound = first["max_entry_id"]
    assert first["count"] == 11 and int(bound) == max(
        int(r["entry_id"]) for r in flow(TX, **MARCH, account_id="FLOW")["lists"]
    )
    # meanwhile: a back-dated entry (before page 1's rows) and a new one at the end
    ledger.income("FLOW", "1.00", trade_time=T0 - timedelta(hours=1), remark="late, back-dated")
    ledger.income("FLOW", "1.00", trade_time=T0 + timedelta(hours=1), remark="new")
    rest = [page(flow, n, max_entry_id=bound) for n in (2, 3)]
    assert all(p["count"] == 11 and p["max_entry_id"] == bound for p in rest)
    seen = [r["remark"] for p in (first, *rest) for r in p["lists"]]
    assert seen == ["m0", "m1", "m2", "m3", "m4", "m5", "m5b", "m6", "m7", "m8", "m9"]
    # without the bound, the back-dated row shifts every later page by one (documented)
    shifted = page(flow, 2)
    assert shifted["count"] == 13 and shifted["lists"][0]["remark"] == "m3"  # page 1's last
    assert int(shifted["max_entry_id"]) > int(bound)


@pytest.mark.parametrize("bad", ["0", "-1", "x", "1.5", "1" * 19, "１"])
def test_max_entry_id_must_be_an_entry_id(flow, bad):
    data = page(flow, 1, max_entry_id=bad)
    assert (data["code"], data["msg"]) == (2002, "非法的请求参数")
    assert "max_entry_id" in data["sub_msg"]


def test_max_entry_id_below_every_row_is_an_empty_list(flow):
    data = page(flow, 1, max_entry_id="1")
    assert (data["count"], data["lists"], data["max_entry_id"]) == (0, [], "1")


@pytest.mark.both_backends  # each database's own plan
def test_the_statement_reads_pages_from_the_time_index(flow, ledger):
    """One account's page ids, in time order, come from (account_id, trade_time, id) alone
    and in index order: the LIMIT/OFFSET walks the index, only the page itself is sorted."""
    from zhangben.core.queries import EntryFilter, list_statement

    f = EntryFilter(account_numbers=["FLOW"], start=T0, end=T0 + timedelta(days=1))
    statement, params = list_statement(f, 50, 0, None, True, "time_asc")
    engine = ledger.engine
    with engine.connect() as conn:
        compiled = statement.compile(conn, compile_kwargs={"render_postcompile": True})
        sql, bound = str(compiled), compiled.construct_params(params)
        if engine.dialect.name == "sqlite":
            values = tuple(bound[name] for name in compiled.positiontup)
            plan = [str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", values)]
            ids = plan[plan.index("LIST SUBQUERY 4") : plan.index("SCAN counted")]
            assert any("COVERING INDEX ix_entries_account_id_trade_time" in s for s in ids)
            assert not any("TEMP B-TREE" in s for s in ids), plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: plan as if big
            plan = [r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}", bound)]
            limit = next(i for i, s in enumerate(plan) if s.strip().startswith("->  Limit"))
            scan = next(
                i
                for i, s in enumerate(plan)
                if "ix_entries_account_id_trade_time" in s and i > limit
            )
            assert "Index Only Scan" in plan[scan]
            assert not any("Sort" in s for s in plan[limit:scan]), plan
