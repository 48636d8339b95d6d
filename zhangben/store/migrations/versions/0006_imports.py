"""imports: import records, imported bill rows, category rules (seeded)

Revision ID: 0006_imports (was 0005_imports)
Revises: 0005_api
"""

import sqlalchemy as sa
from alembic import op

import zhangben.store.types

revision = "0006_imports"
down_revision = "0005_api"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = zhangben.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "import_batches",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("rows_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_new", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_duplicate", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("continuity_breaks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_trade_time", _TIME, nullable=True),
        sa.Column("last_trade_time", _TIME, nullable=True),
        sa.Column("first_balance", sa.BigInteger(), nullable=True),
        sa.Column("last_balance", sa.BigInteger(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("status", sa.String(length=16), server_default="ok", nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_import_batches_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_batches_file_sha256"), ["file_sha256"], unique=False
        )
        batch_op.create_index("ix_import_batches_account_id_id", ["account_id", "id"])

    op.create_table(
        "bill_rows",
        sa.Column("id", _ID, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("unique_key", sa.String(length=128), nullable=False),
        sa.Column("import_id", _ID, nullable=False),
        sa.Column("entry_id", _ID, nullable=True),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("flow_no", sa.String(length=128), nullable=True),
        sa.Column("trade_time", _TIME, nullable=False),
        sa.Column("income", sa.BigInteger(), nullable=False),
        sa.Column("expense", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=True),
        sa.Column("counterparty", sa.String(length=128), nullable=True),
        sa.Column("order_no", sa.String(length=128), nullable=True),
        sa.Column("business_type", sa.String(length=64), nullable=True),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.Column("platform_account", sa.String(length=64), nullable=True),
        sa.Column("ref_id", sa.String(length=64), nullable=True),
        sa.Column("bill_date", sa.Date(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("imported_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_bill_rows_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_bill_rows_entry_id_entries")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_batches.id"], name=op.f("fk_bill_rows_import_id_import_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_rows")),
        sa.UniqueConstraint(
            "platform",
            "account_id",
            "unique_key",
            name=op.f("uq_bill_rows_platform_account_id_unique_key"),
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("bill_rows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bill_rows_import_id"), ["import_id"], unique=False)
        batch_op.create_index("ix_bill_rows_platform_imported_at", ["platform", "imported_at"])
        batch_op.create_index("ix_bill_rows_account_id_trade_time", ["account_id", "trade_time"])

    rules = op.create_table(
        "category_rules",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("business_type", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), server_default="any", nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["category_id"], ["chart.id"], name=op.f("fk_category_rules_category_id_chart")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["chart.id"], name=op.f("fk_category_rules_subject_id_chart")
        ),
        sa.PrimaryKeyConstraint(
            "platform", "business_type", "direction", name=op.f("pk_category_rules")
        ),
    )
    op.bulk_insert(
        rules,
        [
            dict(
                zip(
                    ("platform", "business_type", "direction", "category_id", "subject_id"),
                    r,
                    strict=True,
                )
            )
            for r in DEFAULT_RULES
        ],
    )


#: (platform, business type, direction, category, subject) over the default chart: 1/2 销售收款,
#: 7/8 平台手续费, 10/11 销售退款, 10/12 退款收回, 13/14 提现到银行卡, 15/16 账户充值, 4/6 其他支出,
#: 19/20 平台收入, 19/21 平台支出. Rows matching no rule fall back to 19/20 or 19/21.
DEFAULT_RULES = [
    ("alipay", "在线支付", "income", 19, 20),
    ("alipay", "交易付款", "income", 19, 20),
    ("alipay", "交易收款", "income", 19, 20),
    ("alipay", "服务费", "any", 7, 8),
    ("alipay", "手续费", "any", 7, 8),
    ("alipay", "交易服务费", "any", 7, 8),
    ("alipay", "提现", "any", 13, 14),
    ("alipay", "退款", "expense", 10, 11),
    ("alipay", "交易退款", "expense", 10, 11),
    ("alipay", "退款", "income", 10, 12),
    ("alipay", "交易退款", "income", 10, 12),
    ("alipay", "充值", "income", 15, 16),
    ("wechat", "SUCCESS", "income", 19, 20),
    ("wechat", "REFUND", "any", 10, 11),
    ("wechat", "REVOKED", "any", 10, 11),
    ("wechat", "交易", "income", 19, 20),
    ("wechat", "退款", "expense", 10, 11),
    ("wechat", "提现", "any", 13, 14),
    ("wechat", "手续费", "any", 7, 8),
    ("wechat", "扣除交易手续费", "any", 7, 8),
    ("wechat", "充值", "income", 15, 16),
    ("wechat_shop", "订单收入", "income", 19, 20),
    ("wechat_shop", "售后退款", "expense", 10, 11),
    ("wechat_shop", "提现", "any", 13, 14),
    ("wechat_shop", "技术服务费", "any", 7, 8),
    ("wechat_shop", "手续费", "any", 7, 8),
    ("jzt", "广告扣费", "any", 4, 6),
    ("jzt", "消耗", "any", 4, 6),
]


def downgrade() -> None:
    op.drop_table("category_rules")
    with op.batch_alter_table("bill_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_bill_rows_account_id_trade_time")
        batch_op.drop_index("ix_bill_rows_platform_imported_at")
        batch_op.drop_index(batch_op.f("ix_bill_rows_import_id"))
    op.drop_table("bill_rows")
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_import_batches_account_id_id")
        batch_op.drop_index(batch_op.f("ix_import_batches_file_sha256"))
    op.drop_table("import_batches")
