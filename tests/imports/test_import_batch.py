"""zhangben.core.batch.post_batch: many postings in one transaction, same invariants."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from zhangben.core import errors
from zhangben.core.batch import BatchItem, post_batch
from zhangben.core.queries import EntryFilter
from zhangben.store.engine import run_write
from zhangben.store.tables import entries

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=SH)


def item(account, delta, n, **kw):
    kind = "income" if delta > 0 else "expense"
    return BatchItem(
        account,
        delta,
        kind,
        source="test",
        external_id=f"X{n}",
        trade_time=T0 + timedelta(minutes=n),
        **kw,
    )


def post(ledger, items):
    return run_write(ledger.engine, lambda conn: post_batch(conn, items, ledger.tz))


def count(ledger):
    with ledger.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one()


@pytest.fixture
def two(ledger):
    ledger.open_account(number="A1", name="一", type="alipay")
    ledger.open_account(number="A2", name="二", type="jd_wallet", allow_overdraft=True)
    return ledger


def test_batch_posts_chains_and_replays(two):
    items = [item("A1", 10_000 * (i + 1), i) for i in range(5)] + [item("A2", -30_000, 9)]
    items.append(item("A1", -20_000, 10, platform_balance=123))
    result = post(two, items)
    assert result.written == 7 and all(result.entry_ids)
    got = sorted(two.entries(EntryFilter(account_numbers=["A1"])).items, key=lambda e: e.id)
    assert [e.balance_after for e in got] == [Decimal(x) for x in (1, 3, 6, 10, 15, 13)]
    assert got[-1].platform_balance == Decimal("0.0123") and got[-1].type == "expense"
    assert two.balance("A1") == Decimal(13) and two.balance("A2") == Decimal(-3)
    assert two.verify().ok
    again = post(two, items)
    assert result.replayed == [None] * 7
    assert again.written == 0 and again.entry_ids == [None] * 7
    assert len(set(again.replayed)) == 7 and count(two) == 7


def test_duplicate_key_in_one_batch_is_written_once(two):
    result = post(two, [item("A1", 100, 1), item("A1", 100, 1)])
    assert result.written == 1 and result.replayed[1] is not None
    assert count(two) == 1


def test_refusals_write_nothing(two):
    post(two, [item("A1", 500, 1)])
    with pytest.raises(errors.IdempotencyConflict):
        post(two, [item("A1", 700, 2), item("A1", 600, 1)])
    with pytest.raises(errors.InsufficientFunds):
        post(two, [item("A1", 100, 3), item("A1", -700, 4)])
    with pytest.raises(errors.AccountNotFound):
        post(two, [item("A1", 100, 5), item("NOPE", 100, 6)])
    with pytest.raises(errors.ValidationError):
        post(two, [item("A1", 100, 7, counterparty="x" * 65)])
    two.close_account("A2")
    with pytest.raises(errors.AccountClosed):
        post(two, [item("A1", 100, 8), item("A2", 100, 9)])
    assert count(two) == 1 and two.balance("A1") == Decimal("0.05")
    assert two.verify().ok
