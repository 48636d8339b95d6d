"""Tables of accounting vouchers (记账凭证, vouchers.md): the books (账套) vouchers are made for,
their 科目 and the accounts' mapping onto them, the rules from flows to voucher lines, and the
batches of vouchers made, with the flows each line came from.

Money is BIGINT minor units of the book (分 for 2 decimals). A flow (entry) is in at most one
live voucher: ``voucher_sources.live`` is true while its batch is a draft or exported, false once
the batch is void, and a partial unique index on ``entry_id`` among the live rows enforces it
in the database, whatever writes."""

from __future__ import annotations

import sqlalchemy as sa

from zhangben.store.tables import metadata
from zhangben.store.types import BigId, UTCDateTime

voucher_books = sa.Table(
    "voucher_books",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    # k3cloud_xlsx | k3cloud_json | kingdee_dbf | u8_xml | generic_xlsx
    sa.Column("product", sa.String(32), nullable=False),
    sa.Column("standard", sa.String(16), nullable=False),  # cas2006 | sbe2013
    sa.Column("shop_code", sa.String(64)),  # the accounts of one shop; None: every account
    sa.Column("book_code", sa.String(64), nullable=False, server_default=""),
    sa.Column("org_code", sa.String(64), nullable=False, server_default=""),
    sa.Column("voucher_word", sa.String(16), nullable=False),
    sa.Column("currency_code", sa.String(16), nullable=False),
    sa.Column("rate_type", sa.String(32), nullable=False, server_default=""),
    sa.Column("preparer", sa.String(64), nullable=False, server_default=""),
    sa.Column("decimals", sa.Integer, nullable=False, server_default="2"),
    sa.Column("rounding_subject", sa.String(64), nullable=False),
    #: the book's own last closed (结账) month in the target system: no voucher dated in it
    sa.Column("closed_through", sa.String(7)),
    sa.Column("template", sa.LargeBinary),  # the customer's own exported file, as uploaded
    sa.Column("template_sha256", sa.String(64)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)

#: The book's 科目: seeded from the standard, replaceable by the product's own 科目表 export.
voucher_subjects = sa.Table(
    "voucher_subjects",
    metadata,
    sa.Column("book_id", sa.Integer, sa.ForeignKey("voucher_books.id"), primary_key=True),
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("parent", sa.String(64)),
    sa.Column("leaf", sa.Boolean, nullable=False),
    sa.Column("dc", sa.String(1), nullable=False),  # D 借 | C 贷: the balance's direction
    sa.Column("aux", sa.JSON, nullable=False),  # the dimensions a line must name: ["客户"]
)

#: A zhangben account → the 科目 its money is in, with the dimension values of its lines.
voucher_account_subjects = sa.Table(
    "voucher_account_subjects",
    metadata,
    sa.Column("book_id", sa.Integer, sa.ForeignKey("voucher_books.id"), primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("subject_code", sa.String(64), nullable=False),
    sa.Column("aux", sa.JSON, nullable=False),
)

#: The rules from flows to voucher lines, as data; the lowest priority that matches wins.
voucher_rules = sa.Table(
    "voucher_rules",
    metadata,
    sa.Column("book_id", sa.Integer, sa.ForeignKey("voucher_books.id"), primary_key=True),
    sa.Column("priority", sa.Integer, primary_key=True),
    sa.Column("data", sa.JSON, nullable=False),
)

voucher_batches = sa.Table(
    "voucher_batches",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("book_id", sa.Integer, sa.ForeignKey("voucher_books.id"), nullable=False),
    sa.Column("month", sa.String(7), nullable=False),  # yyyy-mm, the accounting period
    sa.Column("rules_sha256", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # draft | exported | void
    sa.Column("vouchers", sa.Integer, nullable=False),
    sa.Column("flows", sa.Integer, nullable=False),
    sa.Column("rounding", sa.BigInteger, nullable=False),  # Σ |rounding lines|, minor units
    sa.Column("ledger_closed", sa.Boolean, nullable=False),  # the ledger's month was closed
    sa.Column("file_sha256", sa.String(64)),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("exported_at", UTCDateTime),
    sa.Index("ix_voucher_batches_book_id_month", "book_id", "month"),
    sqlite_autoincrement=True,
)

vouchers = sa.Table(
    "vouchers",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("batch_id", BigId, sa.ForeignKey("voucher_batches.id"), nullable=False, index=True),
    sa.Column("word", sa.String(16), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("attachments", sa.Integer, nullable=False),
    sa.Column("debit_total", sa.BigInteger, nullable=False),
    sa.Column("credit_total", sa.BigInteger, nullable=False),
    sqlite_autoincrement=True,
)

voucher_lines = sa.Table(
    "voucher_lines",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("voucher_id", BigId, sa.ForeignKey("vouchers.id"), nullable=False, index=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("subject_code", sa.String(64), nullable=False),
    sa.Column("subject_name", sa.String(128), nullable=False),
    sa.Column("aux", sa.JSON, nullable=False),
    sa.Column("debit", sa.BigInteger, nullable=False),
    sa.Column("credit", sa.BigInteger, nullable=False),
    sa.Column("rounding", sa.Boolean, nullable=False),
    sqlite_autoincrement=True,
)

#: Which flow went into which voucher line (its first line: every line of a flow's rule is in
#: the same voucher). ``live`` is cleared when the batch is voided. No foreign keys: one row per
#: flow, a million in a month, and PostgreSQL's check of three keys per row cost more than the
#: rest of generating (60 µs a flow); the rows are written once, by the generator, from the
#: ids it has just read and written in the same transaction.
voucher_sources = sa.Table(
    "voucher_sources",
    metadata,
    sa.Column("entry_id", BigId, primary_key=True, autoincrement=False),
    sa.Column("batch_id", BigId, primary_key=True, autoincrement=False),
    sa.Column("line_id", BigId, nullable=False),
    sa.Column("live", sa.Boolean, nullable=False),
    sa.Index("ix_voucher_sources_batch_id", "batch_id"),
    sa.Index(
        "ix_voucher_sources_live_entry",
        "entry_id",
        unique=True,
        sqlite_where=sa.text("live"),
        postgresql_where=sa.text("live"),
    ),
)

#: Which reconciliation difference (a match group's, written off) went into which voucher line:
#: the write-off itself (``red`` false), or the red voucher of a match undone after its
#: voucher was exported (``red`` true). Few rows (one per difference), so foreign keys.
voucher_recon_sources = sa.Table(
    "voucher_recon_sources",
    metadata,
    sa.Column("group_id", BigId, sa.ForeignKey("match_groups.id"), primary_key=True,
              autoincrement=False),
    sa.Column("red", sa.Boolean, primary_key=True),
    sa.Column("batch_id", BigId, sa.ForeignKey("voucher_batches.id"), primary_key=True,
              autoincrement=False),
    sa.Column("line_id", BigId, sa.ForeignKey("voucher_lines.id"), nullable=False),
    sa.Column("live", sa.Boolean, nullable=False),
    sa.Index("ix_voucher_recon_sources_batch_id", "batch_id"),
    sa.Index(
        "ix_voucher_recon_sources_live_group",
        "group_id",
        "red",
        unique=True,
        sqlite_where=sa.text("live"),
        postgresql_where=sa.text("live"),
    ),
)  # fmt: skip
