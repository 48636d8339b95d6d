"""The ledger's posting observers (``Ledger.observers``): told how every posting request the
facade answers ended — written, replayed, or refused with the error's code — for single
postings, reversals and batches. The server counts postings with it (metrics); the core
knows nothing of who listens. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from zhangben.core.errors import InsufficientFunds, ValidationError


@pytest.fixture
def told(two):
    heard: list[tuple[str, str, int]] = []
    two.observers.append(lambda kind, outcome, count: heard.append((kind, outcome, count)))
    return heard


def test_single_postings_written_replayed_and_refused(two, told):
    two.income("ACC001", "5", idempotency_key="k1")
    two.income("ACC001", "5", idempotency_key="k1")
    two.expense("ACC001", "1")
    transfer = two.transfer("ACC001", "ACC002", "10")
    with pytest.raises(InsufficientFunds):
        two.expense("ACC002", "999")
    with pytest.raises(ValidationError):
        two.income("ACC001", "-1")
    two.reverse_transfer(transfer.posting_id)
    entry = two.income("ACC001", "2").entries[0]
    two.reverse_entry(entry.id)
    assert told == [
        ("income", "written", 1),
        ("income", "replayed", 1),
        ("expense", "written", 1),
        ("transfer", "written", 1),
        ("expense", "insufficient_funds", 1),
        ("income", "invalid_amount", 1),
        ("reversal", "written", 1),
        ("income", "written", 1),
        ("reversal", "written", 1),
    ]


def test_batches_tell_their_postings(two, told):
    two.transfer_many([("ACC001", "ACC002", "1"), ("ACC001", "ACC002", "2")])
    two.post_many(
        [
            {"kind": "income", "account": "ACC002", "amount": "3"},
            {"kind": "expense", "account": "ACC002", "amount": "1"},
            {"kind": "transfer", "from_account": "ACC001", "to_account": "ACC002", "amount": "4"},
        ]
    )
    with pytest.raises(InsufficientFunds):
        two.transfer_many([("ACC002", "ACC001", "100000")])
    with pytest.raises(ValidationError):
        two.post_many([{"kind": "gift", "account": "ACC001", "amount": "1"}])
    assert told == [
        ("transfer", "written", 2),
        ("income", "written", 1),
        ("expense", "written", 1),
        ("transfer", "written", 1),
        ("batch", "insufficient_funds", 1),
        ("batch", "validation", 1),
    ]


def test_without_observers_nothing_changes(two):
    assert two.observers == []
    assert two.income("ACC001", "1").kind == "income"
