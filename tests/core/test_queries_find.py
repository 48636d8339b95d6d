"""Finding a flow: entries by trade number, platform flow number (external id), merchant
order number and counterparty, alone, together (``find``) and with other filters; each
lookup answered by an index, shown by EXPLAIN on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.exports.support import books
from zhangben.core.queries import EntryFilter, list_statement

FLOW = "20240301000000000007"  # the 7th row of the sample bill (seed 5)
ORDER = "T050000000007"
BUYER = "buyer7@example.com"


@pytest.fixture
def filled(ledger, tmp_path):
    books(ledger, tmp_path)
    return ledger


def found(ledger, **filters) -> list[tuple[str, str]]:
    page = ledger.entries(EntryFilter(**filters), limit=100)
    assert page.total == len(page.items) == ledger.count_entries(EntryFilter(**filters))
    return [(e.account_number, e.type, e.trade_no) for e in page.items]


def test_each_number_finds_its_flow(filled):
    (row,) = found(filled, external_id=FLOW)
    assert row[0] == "ALI001"
    assert found(filled, order_no=ORDER) == [row]
    assert found(filled, counterparty=BUYER) == [row]
    assert found(filled, trade_no=row[2]) == [row]
    for text in (FLOW, ORDER, BUYER, row[2]):
        assert found(filled, find=text) == [row]
    # a trade number names every entry of its posting: both legs of a transfer
    assert found(filled, trade_no="T-3") == [
        ("ACC002", "transfer_in", "T-3"),
        ("ACC001", "transfer_out", "T-3"),
    ]
    assert found(filled, counterparty="+8613800000000")[-1] == ("ACC001", "expense", "T-2")


def test_exact_matches_only_and_with_other_filters(filled):
    assert found(filled, find=FLOW[:-1]) == []
    assert found(filled, counterparty="BUYER7@example.com") == []
    assert found(filled, find=FLOW, account_numbers=["ACC001"]) == []
    assert found(filled, find=FLOW, shop_codes=["S001"], types=["income", "expense"])
    assert found(filled, find="T-3", types=["transfer_in"]) == [("ACC002", "transfer_in", "T-3")]
    assert found(filled, trade_no="T-3", external_id=FLOW) == []  # filters add up


def plan(ledger, f: EntryFilter) -> str:
    """The plan of the list statement with its count (what ``GET /entries`` runs)."""
    return explain(ledger, *list_statement(f, 50, 0, None, True))


def explain(ledger, statement, params) -> str:
    sql = str(
        statement.params(params).compile(
            dialect=ledger.engine.dialect, compile_kwargs={"literal_binds": True}
        )
    )
    with ledger.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
            return "\n".join(r[-1] for r in rows)
        # so few rows that a sequential scan would be cheaper: ask the planner whether it can
        # answer from the index at all (it still scans where no index serves)
        conn.exec_driver_sql("SET enable_seqscan = off")
        return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}").all())


INDEXES = {
    "trade_no": ["ix_postings_trade_no", "ix_entries_posting_id"],
    "external_id": ["ix_entries_external_id"],
    "order_no": ["ix_bill_rows_order_no"],
    "counterparty": ["ix_entries_counterparty"],
}


@pytest.mark.parametrize("field", [*INDEXES, "find"])
def test_each_lookup_uses_its_index(filled, field):
    text = plan(filled, EntryFilter(**{field: "x"}))
    wanted = sum(INDEXES.values(), []) if field == "find" else INDEXES[field]
    for index in wanted:
        assert index in text, text
    for table in ("entries", "bill_rows", "postings"):
        assert f"SCAN {table}" not in text and f"Seq Scan on {table}" not in text, text


def test_the_indexes_skip_empty_values(filled):
    """Partial indexes: postings without a counterparty or an external id add nothing."""
    with filled.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            sql = "SELECT sql FROM sqlite_master WHERE name = :n"
        else:
            sql = "SELECT indexdef FROM pg_indexes WHERE indexname = :n"
        for name, column in (
            ("ix_entries_external_id", "external_id"),
            ("ix_entries_counterparty", "counterparty"),
            ("ix_bill_rows_order_no", "order_no"),
        ):
            definition = conn.execute(sa.text(sql), {"n": name}).scalar_one()
            assert f"{column} IS NOT NULL" in definition
