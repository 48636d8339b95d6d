"""Trade references (zhangben.core.references): the trade number, a leg suffix for
two-entry postings, the posting id for a trade number used again; read from the database."""

from datetime import UTC, datetime

from zhangben.core.queries import EntryFilter

DAY = datetime(2024, 1, 1, tzinfo=UTC)


def refs(ledger) -> dict[int, str]:
    items = ledger.entries(EntryFilter(), limit=500).items
    return ledger.entry_references(items)


def test_references_of_every_kind_of_posting(two):
    income = two.income("ACC001", "5", trade_no="IN-1", trade_time=DAY)
    moved = two.transfer("ACC001", "ACC002", "2", trade_no="MV-1", trade_time=DAY)
    again = two.expense("ACC001", "1", trade_no="IN-1", idempotency_key="other", trade_time=DAY)
    undo_in = two.reverse_entry(income.entries[0].id, trade_no="R-1")
    undo_mv = two.reverse_transfer(moved.posting_id, trade_no="R-2")
    generated = two.transfer("ACC001", "ACC002", "1")
    got = refs(two)
    assert got[income.entries[0].id] == "IN-1"
    assert [got[e.id] for e in moved.entries] == ["MV-1:out", "MV-1:in"]
    assert got[again.entries[0].id] == f"IN-1:{again.posting_id}"
    assert got[undo_in.entries[0].id] == "R-1"
    assert sorted(got[e.id] for e in undo_mv.entries) == ["R-2:in", "R-2:out"]
    number = generated.trade_no
    assert [got[e.id] for e in generated.entries] == [f"{number}:out", f"{number}:in"]
    assert len(set(got.values())) == len(got)
    assert two.entry_references([]) == {}


def test_references_do_not_depend_on_the_page(two):
    """The same entry has the same reference whether its twin leg, or the first posting of its
    trade number, is on the page or not."""
    first = two.income("ACC001", "5", trade_no="X", idempotency_key="a", trade_time=DAY)
    later = two.transfer("ACC001", "ACC002", "2", trade_no="X", trade_time=DAY)
    whole = refs(two)
    for entry in later.entries:
        assert two.entry_references([two.entry(entry.id)]) == {entry.id: whole[entry.id]}
    assert two.entry_references([two.entry(first.entries[0].id)]) == {first.entries[0].id: "X"}
