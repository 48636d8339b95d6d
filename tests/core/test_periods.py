"""Periods and the month close (zhangben.core.periods), on SQLite and PostgreSQL: the state
rules, the stored figures and their hash, the refusal of writes dated into a closed period
(R13, the period guard), reopening, and verify."""

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from zhangben.core import errors
from zhangben.core.periods import Finding, canonical
from zhangben.store.period_tables import period_events, periods
from zhangben.store.tables import entries, postings

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, month: int = 3, hour: int = 12) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=SH)


@pytest.fixture
def books(ledger):
    """Shop S1 (A, B), shop S2 (C), and D of no shop, with flows in February and March 2024."""
    ledger.open_account(number="A", name="甲", shop_code="S1")
    ledger.open_account(number="B", name="乙", shop_code="S1")
    ledger.open_account(number="C", name="丙", shop_code="S2")
    ledger.open_account(number="D", name="丁")
    ledger.income("A", "100", trade_time=at(10, month=2))
    ledger.income("A", "50.25", trade_time=at(1))
    ledger.expense("A", "20", trade_time=at(31, hour=23))
    ledger.transfer("A", "B", "30", trade_time=at(15))
    ledger.income("C", "7", trade_time=at(2))
    ledger.income("D", "9", trade_time=at(3))
    ledger.income("A", "1", trade_time=at(1, month=4, hour=0))  # April: not in March
    return ledger


def _counts(ledger) -> tuple[int, int]:
    with ledger.engine.connect() as c:
        return (
            c.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one(),
            c.execute(sa.select(sa.func.count()).select_from(postings)).scalar_one(),
        )


def test_a_close_stores_the_months_figures_and_their_hash(books):
    period = books.close_period("2024-03", shop="S1", actor="user:finance")
    assert (period.month, period.shop, period.status, period.closed_by) == (
        "2024-03", "S1", "closed", "user:finance",
    )  # fmt: skip
    assert period.starts_at == datetime(2024, 3, 1, tzinfo=SH)
    assert period.ends_at == datetime(2024, 4, 1, tzinfo=SH)
    by_account = {f["account"]: f for f in period.figures}
    assert set(by_account) == {"A", "B"}  # shop S1 only
    a = by_account["A"]
    assert (a["opening"], a["income"], a["expense"], a["closing"]) == (
        "100.0000", "50.2500", "50.0000", "100.2500",
    )  # fmt: skip
    assert (a["entries"], a["income_entries"], a["expense_entries"]) == (3, 1, 2)
    assert by_account["B"]["closing"] == "30.0000"
    assert period.snapshot["totals"] == [
        {"currency": "CNY", "opening": "100.0000", "income": "80.2500", "expense": "50.0000",
         "closing": "130.2500", "entries": 4},
    ]  # fmt: skip
    # the hash is the SHA-256 of the stored canonical text, which is the snapshot
    assert period.snapshot_text == canonical(period.snapshot)
    assert period.snapshot_sha256 == hashlib.sha256(period.snapshot_text.encode()).hexdigest()
    assert [(e.action, e.actor, e.snapshot_sha256) for e in period.events] == [
        ("close", "user:finance", period.snapshot_sha256)
    ]
    # the figures agree with the month's figures of the ledger and with the balances
    assert [f.as_dict() for f in books.month_figures("2024-03", shop="S1")] == period.figures
    assert books.verify_periods().ok


def test_a_write_dated_into_a_closed_period_is_refused_on_every_path(books):
    books.close_period("2024-03", shop="S1", actor="test")
    before = _counts(books)
    message = (
        "period 2024-03 is closed (shop S1 is closed through 2024-03): account A takes no "
        "entry dated 2024-03-20 12:00:00; date a correction on or after 2024-04-01"
    )
    attempts = [
        lambda: books.income("A", "1", trade_time=at(20)),
        lambda: books.expense("A", "1", trade_time=at(20)),
        lambda: books.transfer("A", "D", "1", trade_time=at(20)),
        lambda: books.transfer("D", "A", "1", trade_time=at(20)),
    ]
    for attempt in attempts:
        with pytest.raises(errors.PeriodClosed) as refused:
            attempt()
        assert refused.value.message == message
        assert (refused.value.period, refused.value.shop) == ("2024-03", "S1")
        assert refused.value.code == "period_closed"
    with pytest.raises(errors.PeriodClosed, match=r"^request 1: period 2024-02 is closed"):
        books.post_many([
            {"kind": "income", "account": "D", "amount": "1", "trade_time": at(20)},
            {"kind": "income", "account": "B", "amount": "1", "trade_time": at(1, month=2)},
        ])  # fmt: skip
    a_entry = books.entries().items[-1]  # the February income of A
    with pytest.raises(errors.PeriodClosed):
        books.reverse_entry(a_entry.id, trade_time=at(20))
    assert _counts(books) == before
    # the other shop, the accounts of no shop, and anything dated after the period: written
    books.income("C", "1", trade_time=at(20))
    books.income("D", "1", trade_time=at(20))
    books.income("A", "1", trade_time=at(1, month=4))
    books.income("A", "1")  # now
    books.reverse_entry(a_entry.id)  # a correction dated now, in the open period
    assert books.verify().ok and books.verify_periods().ok


def test_a_replay_of_a_posting_made_before_the_close_still_replays(books):
    first = books.income("A", "5", trade_time=at(20), trade_no="T-BEFORE")
    books.close_period("2024-03", shop="S1", actor="test")
    again = books.income("A", "5", trade_time=at(20), trade_no="T-BEFORE")
    assert again.replayed and again.posting_id == first.posting_id


def test_a_ledger_wide_close_covers_every_account(books):
    books.close_period("2024-03", actor="test")
    for number in ("A", "C", "D"):
        with pytest.raises(errors.PeriodClosed, match="the ledger is closed through 2024-03"):
            books.income(number, "1", trade_time=at(20))
    figures = {f["account"] for f in books.period("2024-03").figures}
    assert figures == {"A", "B", "C", "D"}


def test_months_before_the_first_close_close_with_it(books):
    books.close_period("2024-03", shop="S1", actor="test")
    with pytest.raises(errors.PeriodClosed, match="^period 2023-07 is closed"):
        books.income("A", "1", trade_time=datetime(2023, 7, 1, tzinfo=SH))
    assert books.period("2024-02", shop="S1").status == "closed"
    assert books.period("2024-04", shop="S1").status == "open"
    with pytest.raises(errors.PeriodState, match="is closed already"):
        books.close_period("2024-02", shop="S1", actor="test")


def test_months_close_in_order_once_and_only_when_over(books):
    books.close_period("2024-02", shop="S1", actor="test")
    with pytest.raises(errors.PeriodState) as refused:
        books.close_period("2024-04", shop="S1", actor="test")
    assert refused.value.message == (
        "period 2024-04 of shop S1 cannot be closed before 2024-03: shop S1 is closed "
        "through 2024-02, and months close in order"
    )
    books.close_period("2024-03", shop="S1", actor="test")
    with pytest.raises(errors.PeriodState, match="period 2024-03 of shop S1 is closed already"):
        books.close_period("2024-03", shop="S1", actor="test")
    with pytest.raises(errors.PeriodState, match="has not ended"):
        books.close_period("2999-01", shop="S2", actor="test")
    # the opening of March is February's closing
    feb = {f["account"]: f for f in books.period("2024-02", shop="S1").figures}
    march = {f["account"]: f for f in books.period("2024-03", shop="S1").figures}
    assert march["A"]["opening"] == feb["A"]["closing"] == "100.0000"


@pytest.mark.parametrize(
    "month,shop,error,match",
    [
        ("2026-13", None, errors.ValidationError, "month: '2026-13' is not a month like 2026-10"),
        ("2026-1", None, errors.ValidationError, "month: "),
        ("9999-12", None, errors.ValidationError, "month: "),
        ("1969-12", None, errors.ValidationError, "month: "),
        ("", None, errors.ValidationError, "month: "),
        ("2024-03", "S9", errors.ValidationError, "shop: no account has shop code 'S9'"),
        ("2024-03", " ", errors.ValidationError, "shop: is blank"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(books, month, shop, error, match):
    with pytest.raises(error, match=match):
        books.close_period(month, shop=shop, actor="test")
    assert books.periods() == []


def test_findings_refuse_the_close_unless_forced_and_are_then_stored(books):
    found = [
        Finding("missing_import_days", "A", "A: no import for 2024-03-05"),
        Finding("verify", None, "account X: drift"),
    ]
    with pytest.raises(errors.PeriodNotReady) as refused:
        books.close_period("2024-03", shop="S1", actor="test", findings=found)
    assert refused.value.findings == found
    assert "2 check(s) failed: A: no import for 2024-03-05; account X: drift" in (
        refused.value.message
    )
    assert books.periods() == []
    with pytest.raises(errors.PeriodState):  # the state is checked before the findings
        books.close_period("2999-01", shop="S1", actor="test", findings=found)
    period = books.close_period("2024-03", shop="S1", actor="test", findings=found, force=True)
    assert period.forced
    assert period.acknowledged == [f.as_dict() for f in found]


def test_reopen_needs_a_reason_is_logged_and_only_for_the_latest(books):
    books.close_period("2024-02", shop="S1", actor="test")
    closed = books.close_period("2024-03", shop="S1", actor="test")
    for reason in (None, "", "   "):
        with pytest.raises(errors.ValidationError, match="reason: is required"):
            books.reopen_period("2024-03", shop="S1", actor="test", reason=reason)
    with pytest.raises(errors.PeriodState, match="only the latest closed period of shop S1, "):
        books.reopen_period("2024-02", shop="S1", actor="test", reason="typo")
    with pytest.raises(errors.PeriodState, match="period 2024-04 of shop S1 is not closed"):
        books.reopen_period("2024-04", shop="S1", actor="test", reason="typo")
    assert books.period("2024-03", shop="S1").status == "closed"
    period = books.reopen_period("2024-03", shop="S1", actor="user:boss", reason="补记漏单")
    assert period.status == "reopened"
    assert [(e.action, e.actor, e.reason) for e in period.events] == [
        ("close", "test", None), ("reopen", "user:boss", "补记漏单"),
    ]  # fmt: skip
    assert period.events[1].snapshot_sha256 == closed.snapshot_sha256
    books.income("A", "1", trade_time=at(20))  # open again
    with pytest.raises(errors.PeriodClosed, match="closed through 2024-02"):
        books.income("A", "1", trade_time=at(20, month=2))
    again = books.close_period("2024-03", shop="S1", actor="test")
    assert again.status == "closed" and again.snapshot_sha256 != closed.snapshot_sha256
    assert [e.action for e in again.events] == ["close", "reopen", "close"]
    assert [(p.month, p.status) for p in books.periods(shop="S1")] == [
        ("2024-02", "closed"), ("2024-03", "closed"),
    ]  # fmt: skip
    assert books.closed_through() == {"S1": "2024-03"}


def test_verify_finds_an_edited_snapshot_and_an_entry_slipped_past_the_guard(books):
    books.close_period("2024-03", shop="S1", actor="test")
    assert books.verify_periods().ok
    with books.engine.begin() as c:  # edit the stored figures behind the ledger's back
        text = c.execute(sa.select(periods.c.snapshot)).scalar_one()
        edited = text.replace('"closing":"30.0000"', '"closing":"31.0000"')
        c.execute(periods.update().values(snapshot=edited))
    problems = books.verify_periods().problems
    assert (
        problems[0] == "period 2024-03 of shop S1: its snapshot does not hash to its stored SHA-256"
    )
    assert problems[1] == (
        "period 2024-03 of shop S1: account B: closing 31.00 in the snapshot, 30.00 from the "
        "entries"
    )
    with books.engine.begin() as c:
        c.execute(periods.update().values(snapshot=text))
        pg = c.dialect.name == "postgresql"
        c.exec_driver_sql("DROP TRIGGER zb_period_guard" + (" ON entries" if pg else ""))
    books.income("B", "2", trade_time=at(20))  # the guard is gone: it lands in March
    assert books.verify_periods().problems == [
        "period 2024-03 of shop S1: account B: income 30.00 in the snapshot, 32.00 from the entries"
    ]


def test_period_events_are_append_only(books):
    books.close_period("2024-03", shop="S1", actor="test")
    for statement in (period_events.update().values(actor="x"), period_events.delete()):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with books.engine.begin() as c:
                c.execute(statement)


def test_the_guard_reads_one_index_when_nothing_is_closed_before_the_row(books):
    """A row dated after every closed period is written whatever the scope."""
    books.close_period("2024-03", actor="test")
    assert books.income("A", "1", trade_time=at(1, month=4, hour=0)).entries[0].amount == Decimal(1)
    with pytest.raises(errors.PeriodClosed):
        books.income("A", "1", trade_time=datetime(2024, 3, 31, 23, 59, 59, 999999, tzinfo=SH))


def test_the_snapshot_is_json_with_its_format(books):
    period = books.close_period("2024-03", actor="test")
    stored = json.loads(period.snapshot_text)
    assert stored["format"] == 1 and stored["period"] == "2024-03" and stored["shop"] is None
    assert stored["starts_at"] == "2024-02-29T16:00:00Z"
    assert stored["time_zone"] == "Asia/Shanghai"
