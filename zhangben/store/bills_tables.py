"""Tables of bill imports: one record per imported file, the imported rows as the platform
wrote them, and the rules that classify rows into the chart. Money is BIGINT minor units."""

from __future__ import annotations

import sqlalchemy as sa

from zhangben.store.tables import metadata
from zhangben.store.types import BigId, UTCDateTime

#: One row per imported file (a rejected file writes nothing, so has none).
import_batches = sa.Table(
    "import_batches",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False, index=True),
    sa.Column("format", sa.String(32), nullable=False),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("rows_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_new", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_duplicate", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("continuity_breaks", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_trade_time", UTCDateTime),
    sa.Column("last_trade_time", UTCDateTime),
    sa.Column("first_balance", sa.BigInteger),
    sa.Column("last_balance", sa.BigInteger),
    sa.Column("operator_id", sa.Integer),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # ok | warnings (continuity breaks, summary mismatch or skipped rows)
    sa.Column("status", sa.String(16), nullable=False, server_default="ok"),
    sa.Index("ix_import_batches_account_id_id", "account_id", "id"),
    sqlite_autoincrement=True,
)

#: The platform's rows, raw cells kept for the ShopEx bill methods. ``unique_key`` is the
#: platform's flow number, or a hash of the row where the format has none.
bill_rows = sa.Table(
    "bill_rows",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("unique_key", sa.String(128), nullable=False),
    sa.Column("import_id", BigId, sa.ForeignKey("import_batches.id"), nullable=False, index=True),
    sa.Column("entry_id", BigId, sa.ForeignKey("entries.id")),  # None for a zero row
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("flow_no", sa.String(128)),
    sa.Column("trade_time", UTCDateTime, nullable=False),
    sa.Column("income", sa.BigInteger, nullable=False),
    sa.Column("expense", sa.BigInteger, nullable=False),
    sa.Column("balance", sa.BigInteger),
    sa.Column("counterparty", sa.String(128)),
    sa.Column("order_no", sa.String(128)),
    sa.Column("business_type", sa.String(64)),
    sa.Column("remark", sa.Text),
    sa.Column("platform_account", sa.String(64)),  # JD 账户代码, 精准通 账号
    sa.Column("ref_id", sa.String(64)),  # JD 商户号, 精准通 计划ID
    sa.Column("bill_date", sa.Date),  # JD 账单日期, 精准通 投放日期
    sa.Column("raw", sa.JSON, nullable=False),
    sa.Column("imported_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("platform", "account_id", "unique_key"),
    sa.Index("ix_bill_rows_platform_imported_at", "platform", "imported_at"),
    sa.Index("ix_bill_rows_account_id_trade_time", "account_id", "trade_time"),
    # finding a flow by its merchant order number (0013_find_flows)
    sa.Index(
        "ix_bill_rows_order_no",
        "order_no",
        sqlite_where=sa.text("order_no IS NOT NULL"),
        postgresql_where=sa.text("order_no IS NOT NULL"),
    ),
    sqlite_autoincrement=True,
)

#: platform + business type (+ direction) → category and subject of the row's entry.
#: ``direction`` is income, expense or any; the exact direction wins over ``any``.
category_rules = sa.Table(
    "category_rules",
    metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("business_type", sa.String(64), primary_key=True),
    sa.Column("direction", sa.String(8), primary_key=True, server_default="any"),
    sa.Column("category_id", sa.Integer, sa.ForeignKey("chart.id"), nullable=False),
    sa.Column("subject_id", sa.Integer, sa.ForeignKey("chart.id")),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", UTCDateTime),
)
