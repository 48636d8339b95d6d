"""post_many / transfer_many: one transaction, all or nothing, same rules as single postings."""

from decimal import Decimal

import pytest

from zhangben.core import errors


@pytest.fixture
def funded(ledger):
    for n in ("M1", "M2", "M3"):
        ledger.open_account(number=n, name=n)
    ledger.income("M1", "100")
    return ledger


def test_many_transfers_chain_balances(funded):
    ids = funded.transfer_many([("M1", "M2", "10"), ("M2", "M3", "4.5"), ("M1", "M3", "0.0001")])
    assert len(set(ids)) == 3
    assert funded.balance("M1") == Decimal("89.9999")
    assert funded.balance("M2") == Decimal("5.5")
    assert funded.balance("M3") == Decimal("4.5001")
    legs = funded.posting_entries(ids[1])
    assert [(e.account_number, e.amount, e.balance_after, e.counterparty) for e in legs] == [
        ("M2", Decimal("-4.5"), Decimal("5.5"), "M3"),
        ("M3", Decimal("4.5"), Decimal("4.5"), "M2"),
    ]
    assert funded.verify().ok


def test_many_is_all_or_nothing(funded):
    before = funded.entries(limit=1).total
    with pytest.raises(errors.InsufficientFunds, match="request 1"):
        funded.transfer_many([("M1", "M2", "60"), ("M1", "M3", "60")])
    with pytest.raises(errors.AccountNotFound):
        funded.transfer_many([("M1", "M2", "1"), ("M1", "NOPE", "1")])
    with pytest.raises(errors.SameAccount):
        funded.transfer_many([("M1", "M1", "1")])
    assert funded.entries(limit=1).total == before
    assert funded.balance("M1") == Decimal("100")


def test_many_idempotency(funded):
    first = funded.transfer_many([("M1", "M2", "1", "k1"), ("M1", "M2", "2", "k2")])
    again = funded.transfer_many(
        [("M1", "M2", "1", "k1"), ("M1", "M3", "3", "k3"), ("M1", "M3", "3", "k3")]
    )
    assert again[0] == first[0] and again[1] == again[2]
    assert funded.balance("M1") == Decimal("94")
    with pytest.raises(errors.IdempotencyConflict):
        funded.transfer_many([("M1", "M2", "9", "k1")])
    # a single posting and a batch share the key space
    assert funded.transfer("M1", "M2", "2", idempotency_key="k2").replayed
    assert funded.verify().ok
