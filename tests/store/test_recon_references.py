"""The two references of reconciliation's tables that PostgreSQL checks per statement, by
triggers (migration 0021), hold as the foreign keys they replaced did, and as SQLite's
foreign keys still do: a line of a group that does not exist, a key of a bill row that does
not exist, and deleting, renumbering or truncating what is referred to are all refused with
an integrity error; what nothing refers to may go."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from zhangben.store.bills_tables import bill_rows, import_batches
from zhangben.store.recon_tables import bill_recon, match_groups, match_lines
from zhangben.store.tables import accounts

NOW = datetime(2026, 12, 4, tzinfo=UTC)


@pytest.fixture
def filled(ledger):
    """Two bill rows (the first keyed), one group with one line."""
    account = ledger.open_account(number="WX", name="wx", type="wechat", shop_code="S1")
    with ledger.engine.begin() as conn:
        batch = conn.execute(
            import_batches.insert().values(account_id=account.id, filename="f",
                                           file_sha256="0" * 64, format="wechat_trade",
                                           platform="wechat", created_at=NOW)
            .returning(import_batches.c.id)
        ).scalar_one()  # fmt: skip
        for i in (1, 2):
            conn.execute(bill_rows.insert().values(
                id=i, account_id=account.id, import_id=batch, platform="wechat",
                unique_key=f"u{i}", line=i, flow_no=f"f{i}", trade_time=NOW, income=100,
                expense=0, raw={}, imported_at=NOW, updated_at=NOW,
            ))  # fmt: skip
        conn.execute(bill_recon.insert().values(
            bill_row_id=1, shop_code="S1", match_key="K1", key_source="column:order_no",
            scope="order", updated_at=NOW,
        ))  # fmt: skip
        conn.execute(match_groups.insert().values(
            id=1, group_no="HX-1", shop_code="S1", origin="manual", outcome="exact",
            expected_total=0, actual_total=100, difference=100, state="active",
            created_by="t", created_at=NOW,
        ))  # fmt: skip
        conn.execute(
            match_lines.insert().values(group_id=1, side="actual", item_id=1, amount_applied=100)
        )
    return ledger


REFUSED = {
    "a line of no group": match_lines.insert().values(
        group_id=99, side="actual", item_id=1, amount_applied=1
    ),
    "a key of no bill row": bill_recon.insert().values(
        bill_row_id=99, shop_code="S1", key_source="manual", scope="order", updated_at=NOW
    ),
    "a group with lines deleted": match_groups.delete().where(match_groups.c.id == 1),
    "a group renumbered": match_groups.update().where(match_groups.c.id == 1).values(id=5),
    "a line moved to no group": match_lines.update().values(group_id=99),
    "a keyed bill row deleted": bill_rows.delete().where(bill_rows.c.id == 1),
    "a keyed bill row renumbered": bill_rows.update().where(bill_rows.c.id == 1).values(id=7),
    "a key moved to no bill row": bill_recon.update().values(bill_row_id=99),
}


@pytest.mark.parametrize("what", sorted(REFUSED))
def test_a_broken_reference_is_refused(filled, what):
    with pytest.raises(sa.exc.IntegrityError), filled.engine.begin() as conn:
        conn.execute(REFUSED[what])


@pytest.mark.parametrize("table", [match_groups, bill_rows])
def test_what_is_referred_to_is_not_truncated(filled, table):
    if filled.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    # (match_groups is also referred to by a foreign key of the vouchers: refused either way)
    with pytest.raises(sa.exc.DBAPIError), filled.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {table.name}")
    with filled.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() > 0


def test_what_nothing_refers_to_may_go(filled):
    with filled.engine.begin() as conn:
        assert conn.execute(bill_rows.delete().where(bill_rows.c.id == 2)).rowcount == 1
        conn.execute(match_groups.insert().values(
            id=2, group_no="HX-2", shop_code="S1", origin="manual", outcome="exact",
            expected_total=0, actual_total=0, difference=0, state="suggested",
            created_by="t", created_at=NOW,
        ))  # fmt: skip
        conn.execute(match_lines.insert().values(group_id=2, side="actual", item_id=1,
                                                 amount_applied=0))  # fmt: skip
        assert conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar() == 1
