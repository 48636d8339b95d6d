"""Entries: category and subject ids are checked by the core instead of foreign keys

A foreign-key check takes a share lock on the referenced chart row; every transfer references
the same two or three chart rows, so concurrent postings queued on those rows and each check
cost ≈50 µs inside ``zb_post`` (bench/RESULTS.md). Chart rows are never deleted, the core
validates the ids it writes, and ``zhangben verify`` reports any entry whose category or
subject is not in the chart.

Revision ID: 0008_chart_ids_by_core (was 0007_chart_ids_by_core)
Revises: 0007_entries_time_id_index
"""

from __future__ import annotations

from alembic import op

revision = "0008_chart_ids_by_core"
down_revision = "0007_entries_time_id_index"
branch_labels = None
depends_on = None

FKS = {"fk_entries_category_id_chart": "category_id", "fk_entries_subject_id_chart": "subject_id"}


def upgrade() -> None:
    with op.batch_alter_table("entries", table_kwargs={"sqlite_autoincrement": True}) as batch:
        for name in FKS:
            batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("entries", table_kwargs={"sqlite_autoincrement": True}) as batch:
        for name, column in FKS.items():
            batch.create_foreign_key(name, "chart", [column], ["id"])
