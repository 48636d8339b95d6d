"""core ledger tables

Revision ID: 0001_core
Revises:
Create Date: 2026-11-24 23:59:14.238788
"""

import sqlalchemy as sa
from alembic import op

import zhangben.store.types

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chart",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["chart.id"], name=op.f("fk_chart_parent_id_chart")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chart")),
        sa.UniqueConstraint("parent_id", "name", name=op.f("uq_chart_parent_id_name")),
    )
    op.create_table(
        "integrators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("flag", sa.String(length=64), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("methods", sa.JSON(), nullable=False),
        sa.Column("shop_codes", sa.JSON(), nullable=True),
        sa.Column("account_numbers", sa.JSON(), nullable=True),
        sa.Column("ip_allow", sa.JSON(), nullable=True),
        sa.Column("data_mask", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
        sa.Column("response_style", sa.String(length=16), server_default="seed", nullable=False),
        sa.Column("created_at", zhangben.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "token_rotated_at", zhangben.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrators")),
        sa.UniqueConstraint("flag", name=op.f("uq_integrators_flag")),
    )
    op.create_table(
        "postings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("trade_no", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "reverses_posting_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", zhangben.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reverses_posting_id"],
            ["postings.id"],
            name=op.f("fk_postings_reverses_posting_id_postings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_postings_idempotency_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postings_trade_no"), ["trade_no"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=128), server_default="", nullable=False),
        sa.Column("role", sa.String(length=16), server_default="user", nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", zhangben.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=32), server_default="main", nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="CNY", nullable=False),
        sa.Column("shop_code", sa.String(length=64), nullable=True),
        sa.Column("owner_user_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("allow_overdraft", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", zhangben.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", zhangben.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_accounts_owner_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("number", name=op.f("uq_accounts_number")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_accounts_owner_user_id"), ["owner_user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_accounts_shop_code"), ["shop_code"], unique=False)

    op.create_table(
        "entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "posting_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("trade_no", sa.String(length=64), nullable=False),
        sa.Column("trade_time", zhangben.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", zhangben.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("counterparty", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("remark", sa.Text(), server_default="", nullable=False),
        sa.Column("source", sa.String(length=32), server_default="manual", nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column(
            "reverses_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("platform_balance", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_entries_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["chart.id"], name=op.f("fk_entries_category_id_chart")
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"], ["postings.id"], name=op.f("fk_entries_posting_id_postings")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_entry_id"], ["entries.id"], name=op.f("fk_entries_reverses_entry_id_entries")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["chart.id"], name=op.f("fk_entries_subject_id_chart")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entries")),
        sa.UniqueConstraint("reverses_entry_id", name=op.f("uq_entries_reverses_entry_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.create_index("ix_entries_account_id_id", ["account_id", "id"], unique=False)
        batch_op.create_index(
            "ix_entries_account_id_trade_time", ["account_id", "trade_time"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_entries_posting_id"), ["posting_id"], unique=False)
        batch_op.create_index("ix_entries_trade_time", ["trade_time"], unique=False)
    chart = sa.table(
        "chart",
        sa.column("id", sa.Integer),
        sa.column("parent_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("kind", sa.String),
    )
    op.bulk_insert(
        chart,
        [dict(zip(("id", "parent_id", "name", "kind"), row, strict=True)) for row in DEFAULT_CHART],
    )


#: The default chart of categories and subjects (类目/科目). Category 24 内部转账 with subject
#: 25 转账转出 are the ids the 壹川 data uses; admins add more from id 100 on.
DEFAULT_CHART = [
    (1, None, "收入", "income"),
    (2, 1, "销售收款", "income"),
    (3, 1, "其他收入", "income"),
    (4, None, "支出", "expense"),
    (5, 4, "采购付款", "expense"),
    (6, 4, "其他支出", "expense"),
    (7, None, "手续费", "expense"),
    (8, 7, "平台手续费", "expense"),
    (9, 7, "提现手续费", "expense"),
    (10, None, "退款", "any"),
    (11, 10, "销售退款", "expense"),
    (12, 10, "退款收回", "income"),
    (13, None, "提现", "expense"),
    (14, 13, "提现到银行卡", "expense"),
    (15, None, "充值", "income"),
    (16, 15, "账户充值", "income"),
    (17, None, "冲正", "reversal"),
    (18, 17, "冲正", "reversal"),
    (19, None, "平台账单", "any"),
    (20, 19, "平台收入", "income"),
    (21, 19, "平台支出", "expense"),
    (24, None, "内部转账", "transfer"),
    (25, 24, "转账转出", "transfer"),
    (26, 24, "转账转入", "transfer"),
]


def downgrade() -> None:
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_index("ix_entries_trade_time")
        batch_op.drop_index(batch_op.f("ix_entries_posting_id"))
        batch_op.drop_index("ix_entries_account_id_trade_time")
        batch_op.drop_index("ix_entries_account_id_id")

    op.drop_table("entries")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_shop_code"))
        batch_op.drop_index(batch_op.f("ix_accounts_owner_user_id"))

    op.drop_table("accounts")
    op.drop_table("users")
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postings_trade_no"))

    op.drop_table("postings")
    op.drop_table("integrators")
    op.drop_table("chart")
