"""Accounting vouchers (记账凭证): books, their 科目 and the accounts' mapping, the rules, the
batches with their vouchers and lines, and the flows each line came from
(``zhangben/store/voucher_tables.py``). A flow is in at most one live voucher: a partial unique
index on ``voucher_sources.entry_id`` among the live rows (no foreign keys on that table: one
row per flow, and their checks cost more than generating).

Revision ID: 0018_vouchers
Revises: 0017_recon
"""

import sqlalchemy as sa
from alembic import op

from zhangben.store.types import BigId, UTCDateTime

revision = "0018_vouchers"
down_revision = "0017_recon"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{column}_{target.split('.')[0]}"
    return sa.ForeignKeyConstraint([column], [target], name=name)


def upgrade() -> None:
    op.create_table(
        "voucher_books",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("product", sa.String(32), nullable=False),
        sa.Column("standard", sa.String(16), nullable=False),
        sa.Column("shop_code", sa.String(64)),
        sa.Column("book_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("org_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("voucher_word", sa.String(16), nullable=False),
        sa.Column("currency_code", sa.String(16), nullable=False),
        sa.Column("rate_type", sa.String(32), nullable=False, server_default=""),
        sa.Column("preparer", sa.String(64), nullable=False, server_default=""),
        sa.Column("decimals", sa.Integer, nullable=False, server_default="2"),
        sa.Column("rounding_subject", sa.String(64), nullable=False),
        sa.Column("closed_through", sa.String(7)),
        sa.Column("template", sa.LargeBinary),
        sa.Column("template_sha256", sa.String(64)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voucher_books"),
        sa.UniqueConstraint("name", name="uq_voucher_books_name"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "voucher_subjects",
        sa.Column("book_id", sa.Integer, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("parent", sa.String(64)),
        sa.Column("leaf", sa.Boolean, nullable=False),
        sa.Column("dc", sa.String(1), nullable=False),
        sa.Column("aux", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("book_id", "code", name="pk_voucher_subjects"),
        _fk("voucher_subjects", "book_id", "voucher_books.id"),
    )
    op.create_table(
        "voucher_account_subjects",
        sa.Column("book_id", sa.Integer, nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("subject_code", sa.String(64), nullable=False),
        sa.Column("aux", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("book_id", "account_id", name="pk_voucher_account_subjects"),
        _fk("voucher_account_subjects", "book_id", "voucher_books.id"),
        _fk("voucher_account_subjects", "account_id", "accounts.id"),
    )
    op.create_table(
        "voucher_rules",
        sa.Column("book_id", sa.Integer, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("book_id", "priority", name="pk_voucher_rules"),
        _fk("voucher_rules", "book_id", "voucher_books.id"),
    )
    op.create_table(
        "voucher_batches",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("book_id", sa.Integer, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("rules_sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("vouchers", sa.Integer, nullable=False),
        sa.Column("flows", sa.Integer, nullable=False),
        sa.Column("rounding", sa.BigInteger, nullable=False),
        sa.Column("ledger_closed", sa.Boolean, nullable=False),
        sa.Column("file_sha256", sa.String(64)),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("exported_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_voucher_batches"),
        _fk("voucher_batches", "book_id", "voucher_books.id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_voucher_batches_book_id_month", "voucher_batches", ["book_id", "month"])
    op.create_table(
        "vouchers",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("batch_id", BigId, nullable=False),
        sa.Column("word", sa.String(16), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("attachments", sa.Integer, nullable=False),
        sa.Column("debit_total", sa.BigInteger, nullable=False),
        sa.Column("credit_total", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_vouchers"),
        _fk("vouchers", "batch_id", "voucher_batches.id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_vouchers_batch_id", "vouchers", ["batch_id"])
    op.create_table(
        "voucher_lines",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("voucher_id", BigId, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("subject_code", sa.String(64), nullable=False),
        sa.Column("subject_name", sa.String(128), nullable=False),
        sa.Column("aux", sa.JSON, nullable=False),
        sa.Column("debit", sa.BigInteger, nullable=False),
        sa.Column("credit", sa.BigInteger, nullable=False),
        sa.Column("rounding", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voucher_lines"),
        _fk("voucher_lines", "voucher_id", "vouchers.id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_voucher_lines_voucher_id", "voucher_lines", ["voucher_id"])
    op.create_table(
        "voucher_sources",
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("batch_id", BigId, nullable=False),
        sa.Column("line_id", BigId, nullable=False),
        sa.Column("live", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("entry_id", "batch_id", name="pk_voucher_sources"),
    )
    op.create_index("ix_voucher_sources_batch_id", "voucher_sources", ["batch_id"])
    op.create_index(
        "ix_voucher_sources_live_entry",
        "voucher_sources",
        ["entry_id"],
        unique=True,
        sqlite_where=sa.text("live"),
        postgresql_where=sa.text("live"),
    )


def downgrade() -> None:
    op.drop_index("ix_voucher_sources_live_entry", table_name="voucher_sources")
    op.drop_index("ix_voucher_sources_batch_id", table_name="voucher_sources")
    op.drop_table("voucher_sources")
    op.drop_index("ix_voucher_lines_voucher_id", table_name="voucher_lines")
    op.drop_table("voucher_lines")
    op.drop_index("ix_vouchers_batch_id", table_name="vouchers")
    op.drop_table("vouchers")
    op.drop_index("ix_voucher_batches_book_id_month", table_name="voucher_batches")
    op.drop_table("voucher_batches")
    for name in ("voucher_rules", "voucher_account_subjects", "voucher_subjects", "voucher_books"):
        op.drop_table(name)
