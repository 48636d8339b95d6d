"""The ledger's postings: income, expense, transfer, reversal, idempotency, overdraft and every
bad-input case, on SQLite and PostgreSQL."""

from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from zhangben.core import errors
from zhangben.store.tables import entries


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
