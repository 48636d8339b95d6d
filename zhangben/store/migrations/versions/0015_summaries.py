"""Daily and monthly summaries of the flow (issue 15): per account, business day or month,
category and subject, folded from the entries up to ``summary_state.last_entry_id``.

The tables start empty at entry 0: the first report (or ``zhangben summaries rebuild``)
folds every entry there is. See docs/reports.md.

Revision ID: 0015_summaries
Revises: 0014_opening_balance
"""

import sqlalchemy as sa
from alembic import op

import zhangben.store.types

revision = "0015_summaries"
down_revision = "0014_opening_balance"
branch_labels = None
depends_on = None


SUMS = ["entries", "income_hi", "income_lo", "expense_hi", "expense_lo"]


def _summary(name: str, period: str) -> None:
    op.create_table(
        name,
        sa.Column("account_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column(period, sa.Date(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("subject_id", sa.Integer(), nullable=False, autoincrement=False),
        *(sa.Column(n, sa.BigInteger(), nullable=False) for n in SUMS),
        sa.PrimaryKeyConstraint(
            "account_id",
            period,
            "category_id",
            "subject_id",
            name=op.f(f"pk_{name}"),
            postgresql_include=SUMS,
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f(f"ix_{name}_{period}"),
        name,
        [period],
        unique=False,
        postgresql_include=["account_id", "category_id", "subject_id", *SUMS],
    )


def upgrade() -> None:
    _summary("daily_summaries", "day")
    _summary("monthly_summaries", "month")
    state = op.create_table(
        "summary_state",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("last_entry_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("updated_at", zhangben.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_state")),
    )
    op.bulk_insert(state, [{"id": 1, "last_entry_id": 0}])


def downgrade() -> None:
    op.drop_table("summary_state")
    op.drop_table("monthly_summaries")
    op.drop_table("daily_summaries")
