"""Postings, idempotency and every bad-input case, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from zhangben.core import errors
from zhangben.core.queries import EntryFilter
from zhangben.store.migrations.ledger_edits import ledger_rows_editable
from zhangben.store.tables import entries


@pytest.fixture
def two(ledger):
    ledger.open_account(number="ACC001", name="测试账户")
    ledger.open_account(number="ACC002", name="备用账户", type="backup")
    ledger.income("ACC001", "1000")
    return ledger


def _count(ledger) -> int:
    with ledger.engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one()


def test_income_expense_transfer_balances(two):
    two.expense("ACC001", "0.5")
    result = two.transfer("ACC001", "ACC002", "3")
    out_leg, in_leg = result.entries
    assert (out_leg.type, out_leg.amount, out_leg.balance_after) == (
        "transfer_out",
        Decimal("-3"),
        Decimal("996.5"),
    )
    assert (in_leg.type, in_leg.amount, in_leg.balance_after) == (
        "transfer_in",
        Decimal("3"),
        Decimal("3"),
    )
    assert out_leg.posting_id == in_leg.posting_id == result.posting_id
    assert out_leg.counterparty == "ACC002" and in_leg.counterparty == "ACC001"
    assert (out_leg.category_id, out_leg.subject_id, in_leg.subject_id) == (24, 25, 26)
    assert (out_leg.category_name, out_leg.subject_name) == ("内部转账", "转账转出")
    assert out_leg.description == "帐户系统转账到账户内建商户上,转出金额为3元"
    assert two.balance("ACC001") == Decimal("996.5")
    assert two.balance("ACC002") == Decimal("3")
    assert two.verify().ok


def test_reversal_of_entry_and_transfer(two):
    income = two.income("ACC002", "20").entries[0]
    rev = two.reverse_entry(income.id).entries[0]
    assert (rev.type, rev.amount, rev.reverses_entry_id, rev.balance_after) == (
        "reversal",
        Decimal("-20"),
        income.id,
        0,
    )
    with pytest.raises(errors.AlreadyReversed):
        two.reverse_entry(income.id)
    with pytest.raises(errors.ValidationError, match="cannot itself be reversed"):
        two.reverse_entry(rev.id)
    transfer = two.transfer("ACC001", "ACC002", "7.25")
    with pytest.raises(errors.ValidationError, match="reverse the whole transfer"):
        two.reverse_entry(transfer.entries[0].id)
    back = two.reverse_transfer(transfer.posting_id)
    assert [e.amount for e in back.entries] == [Decimal("7.25"), Decimal("-7.25")]
    assert two.balance("ACC001") == Decimal("1000") and two.balance("ACC002") == 0
    with pytest.raises(errors.TransferNotFound):
        two.reverse_transfer(income.posting_id)
    with pytest.raises(errors.EntryNotFound):
        two.reverse_entry(999999)
    assert two.verify().ok


def test_reversal_refused_when_it_would_overdraw(two):
    income = two.income("ACC002", "10").entries[0]
    two.expense("ACC002", "8")
    with pytest.raises(errors.InsufficientFunds):
        two.reverse_entry(income.id)


def test_idempotency_replays_and_conflicts(two):
    first = two.transfer("ACC001", "ACC002", "5", idempotency_key="k-1")
    before = _count(two)
    again = two.transfer("ACC001", "ACC002", "5", idempotency_key="k-1")
    assert again.replayed and again.posting_id == first.posting_id
    assert [e.id for e in again.entries] == [e.id for e in first.entries]
    assert _count(two) == before
    with pytest.raises(errors.IdempotencyConflict):
        two.transfer("ACC001", "ACC002", "6", idempotency_key="k-1")
    # trade number and source+external id are keys too
    two.income("ACC002", "1", trade_no="T-1")
    assert two.income("ACC002", "1", trade_no="T-1").replayed
    with pytest.raises(errors.IdempotencyConflict):
        two.income("ACC002", "2", trade_no="T-1")
    two.income("ACC002", "1", source="alipay", external_id="X9")
    assert two.income("ACC002", "1", source="alipay", external_id="X9").replayed
    assert _count(two) == before + 2
    assert two.balance("ACC002") == Decimal("7")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda lg: lg.income("ACC001", "-1"), errors.InvalidAmount),
        (lambda lg: lg.income("ACC001", "0"), errors.InvalidAmount),
        (lambda lg: lg.income("ACC001", "1.00001"), errors.InvalidAmount),
        (lambda lg: lg.income("ACC001", "NaN"), errors.InvalidAmount),
        (lambda lg: lg.income("ACC001", 1.5), errors.InvalidAmount),
        (lambda lg: lg.income("ACC001", "1" + "0" * 15), errors.InvalidAmount),
        (lambda lg: lg.income("NOPE", "1"), errors.AccountNotFound),
        (lambda lg: lg.expense("ACC002", "0.01"), errors.InsufficientFunds),
        (lambda lg: lg.transfer("ACC001", "ACC001", "1"), errors.SameAccount),
        (lambda lg: lg.transfer("ACC001", "USD1", "1"), errors.CurrencyMismatch),
        (lambda lg: lg.transfer("ACC001", "GONE", "1"), errors.AccountClosed),
        (lambda lg: lg.income("ACC001", "1", subject_id=25, category_id=1), errors.ValidationError),
        (lambda lg: lg.income("ACC001", "1", category_id=999), errors.NotFound),
        (
            lambda lg: lg.income("ACC001", "1", trade_time=datetime(2024, 1, 1)),
            errors.ValidationError,
        ),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(two, call, error):
    two.open_account(number="USD1", name="美元", currency="USD")
    two.open_account(number="GONE", name="closed")
    two.close_account("GONE")
    before = _count(two)
    balances = {a.number: a.balance for a in two.accounts()}
    with pytest.raises(error):
        call(two)
    assert _count(two) == before
    assert {a.number: a.balance for a in two.accounts()} == balances


def test_overdraft_allowed_when_account_says_so(ledger):
    ledger.open_account(number="CREDIT", name="可透支", allow_overdraft=True)
    assert ledger.expense("CREDIT", "5").entries[0].balance_after == Decimal("-5")


def test_account_validation(ledger):
    ledger.open_account(number="0000000000000001", name="a")
    with pytest.raises(errors.Conflict):
        ledger.open_account(number="0000000000000001", name="b")
    with pytest.raises(errors.ValidationError):
        ledger.open_account(number="bad number!", name="b")
    with pytest.raises(errors.ValidationError):
        ledger.open_account(number="X1", name="b", currency="yuan")
    with pytest.raises(errors.ValidationError):
        ledger.open_account(number="X1", name="  ")


def test_queries_filters_paging_and_as_of(two):
    base = datetime(2024, 1, 1, tzinfo=UTC)
    two.open_account(number="SHOP2", name="s2", shop_code="S002")
    for i in range(5):
        two.income("SHOP2", str(i + 1), trade_time=base + timedelta(days=i), source="alipay")
    two.expense("SHOP2", "1", trade_time=base + timedelta(days=10))
    page = two.entries(EntryFilter(account_numbers=["SHOP2"]), limit=2, offset=0)
    assert page.total == 6 and [e.amount for e in page.items] == [Decimal("-1"), Decimal("5")]
    page2 = two.entries(EntryFilter(account_numbers=["SHOP2"]), limit=2, before_id=page.next_cursor)
    assert [e.amount for e in page2.items] == [Decimal("4"), Decimal("3")]
    ranged = two.entries(
        EntryFilter(
            shop_codes=["S002"], start=base + timedelta(days=1), end=base + timedelta(days=3)
        )
    )
    assert [e.amount for e in ranged.items] == [Decimal("3"), Decimal("2")]  # half-open
    assert two.entries(EntryFilter(types=["expense"], sources=["manual"])).total == 1
    assert two.entries(EntryFilter(shop_codes=["NOPE"])).total == 0
    assert two.entries(EntryFilter(category_ids=[1])).total == 6
    assert two.balance_as_of("SHOP2", base + timedelta(days=2)) == Decimal("6")
    assert two.balance_as_of("SHOP2", base - timedelta(seconds=1)) == 0
    assert two.balance_as_of("SHOP2", base + timedelta(days=30)) == two.balance("SHOP2")


def test_entries_are_append_only(two):
    """No API edits or deletes an entry (the database refuses it: tests/store); the verifier
    catches a row tampered with behind the triggers' back."""
    assert two.verify().ok
    with two.engine.begin() as c, ledger_rows_editable(c):
        c.execute(entries.update().where(entries.c.id == 1).values(amount=999))
    report = two.verify()
    assert not report.ok
    assert any("ACC001" in p for p in report.problems)


def test_chart_has_defaults_and_admins_add(ledger):
    chart = {c.id: c for c in ledger.chart()}
    assert chart[24].name == "内部转账"
    assert {s.id: s.name for s in chart[24].subjects} == {25: "转账转出", 26: "转账转入"}
    new = ledger.add_chart_item(name="广告费", kind="expense")
    sub = ledger.add_chart_item(name="精准通", kind="expense", parent_id=new.id)
    assert new.id >= 100 and sub.parent_id == new.id
    ledger.open_account(number="A", name="a", allow_overdraft=True)
    entry = ledger.expense("A", "1", category_id=new.id, subject_id=sub.id).entries[0]
    assert (entry.category_name, entry.subject_name) == ("广告费", "精准通")
    with pytest.raises(errors.Conflict):
        ledger.add_chart_item(name="广告费")


def test_verifier_reports_a_category_outside_the_chart(two):
    assert two.verify().ok
    with two.engine.begin() as c, ledger_rows_editable(c):
        c.execute(entries.update().where(entries.c.id == 1).values(subject_id=9999))
    report = two.verify()
    assert any("subject_id 9999 is not in the chart" in p for p in report.problems)
