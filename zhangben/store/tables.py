"""The ledger's tables (SQLAlchemy Core): users, accounts, the chart, postings and entries.
Money columns are BIGINT minor units (1/10000).

``metadata`` is the one MetaData of every table; the tables of access
(:mod:`zhangben.store.access_tables`) and of bill imports (:mod:`zhangben.store.bills_tables`)
join it when their module is imported (:func:`zhangben.store.migrate.target_metadata` imports
them all)."""

from __future__ import annotations

import sqlalchemy as sa

from zhangben.store.types import BigId, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(128), nullable=False, server_default=""),
    sa.Column("role", sa.String(16), nullable=False, server_default="user"),  # staff | user
    sa.Column("password_hash", sa.String(255)),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("number", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("type", sa.String(32), nullable=False, server_default="main"),
    sa.Column("currency", sa.String(3), nullable=False, server_default="CNY"),
    sa.Column("shop_code", sa.String(64), index=True),
    sa.Column("owner_user_id", sa.Integer, sa.ForeignKey("users.id"), index=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),  # open | closed
    sa.Column("allow_overdraft", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("balance", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("closed_at", UTCDateTime),
)

#: Categories and subjects (类目/科目) share one id space, as the 壹川 data shows (category 24,
#: subject 25): a category has no parent, a subject's parent is its category.
chart = sa.Table(
    "chart",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("chart.id")),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # income|expense|transfer|reversal|any
    sa.UniqueConstraint("parent_id", "name"),
)

#: One row per business event (income, expense, transfer, reversal): the unit of atomicity and
#: of idempotency. Its id is the transfer id shared by a transfer's two legs.
postings = sa.Table(
    "postings",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("trade_no", sa.String(64), nullable=False, index=True),
    sa.Column("idempotency_key", sa.String(200), unique=True),
    sa.Column("request_hash", sa.String(64)),
    sa.Column("reverses_posting_id", BigId, sa.ForeignKey("postings.id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)

#: The flow (流水): append-only, one row per account movement, with the balance after it.
entries = sa.Table(
    "entries",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("posting_id", BigId, sa.ForeignKey("postings.id"), nullable=False, index=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    # income | expense | transfer_in | transfer_out | reversal
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),  # signed: + into the account, - out
    sa.Column("balance_after", sa.BigInteger, nullable=False),
    sa.Column("trade_no", sa.String(64), nullable=False),
    sa.Column("trade_time", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("operator_id", sa.Integer),
    # chart ids are checked by the core, not by foreign keys: an FK check share-locks the
    # chart row, and every posting of a kind shares a handful of chart rows (see
    # bench/RESULTS.md); chart rows are never deleted, and the verifier checks every id.
    sa.Column("category_id", sa.Integer),
    sa.Column("subject_id", sa.Integer),
    sa.Column("counterparty", sa.String(64)),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("remark", sa.Text, nullable=False, server_default=""),
    sa.Column("source", sa.String(32), nullable=False, server_default="manual"),
    sa.Column("external_id", sa.String(128)),
    sa.Column("reverses_entry_id", BigId, sa.ForeignKey("entries.id"), unique=True),
    sa.Column("platform_balance", sa.BigInteger),
    sa.Index("ix_entries_account_id_id", "account_id", "id"),
    sa.Index("ix_entries_account_id_trade_time", "account_id", "trade_time", "id"),
    sa.Index("ix_entries_trade_time", "trade_time"),
    # finding a flow by its platform flow number or counterparty (0013_find_flows); partial,
    # so that an entry without one costs no index entry
    sa.Index(
        "ix_entries_external_id",
        "external_id",
        sqlite_where=sa.text("external_id IS NOT NULL"),
        postgresql_where=sa.text("external_id IS NOT NULL"),
    ),
    sa.Index(
        "ix_entries_counterparty",
        "counterparty",
        sqlite_where=sa.text("counterparty IS NOT NULL"),
        postgresql_where=sa.text("counterparty IS NOT NULL"),
    ),
    sqlite_autoincrement=True,
)
