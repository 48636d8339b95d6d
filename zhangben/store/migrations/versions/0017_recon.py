"""Reconciliation (核销): expected items, the bill rows' keys and applied amounts, match
groups and lines, gap types (seeded), match rules, runs, and the append-only audit trail
``recon_events`` (UPDATE and DELETE refused by triggers, as ``period_events``).

The tables are a frozen copy of ``zhangben/store/recon_tables.py`` as of this revision.

Revision ID: 0017_recon
Revises: 0016_periods
"""

import sqlalchemy as sa
from alembic import op

from zhangben.store.types import BigId, UTCDateTime

revision = "0017_recon"
down_revision = "0016_periods"
branch_labels = None
depends_on = None

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
# the referred tables, by name only (they exist already)
sa.Table("bill_rows", metadata, sa.Column("id", BigId, primary_key=True))

#: 应收/应退: one line per expected money movement of an order, + is money expected in.
expected_items = sa.Table(
    "expected_items",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("shop_code", sa.String(64), nullable=False),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("order_no", sa.String(128), nullable=False),  # the normalised order key
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("applied", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # csv | xlsx | api
    sa.Column("source_ref", sa.String(128), nullable=False),
    sa.Column("memo", sa.Text),
    sa.Column("state", sa.String(16), nullable=False, server_default="open"),  # open | void
    sa.Column("void_reason", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("shop_code", "source", "source_ref"),
    sa.Index("ix_expected_items_shop_code_order_no", "shop_code", "order_no"),
    sqlite_autoincrement=True,
)

#: A bill row's side of reconciliation: its order key, scope and what of it is applied.
bill_recon = sa.Table(
    "bill_recon",
    metadata,
    sa.Column("bill_row_id", BigId, sa.ForeignKey("bill_rows.id"), primary_key=True),
    sa.Column("shop_code", sa.String(64), nullable=False),
    sa.Column("match_key", sa.String(128)),
    sa.Column("key_source", sa.String(64), nullable=False),  # column | rule:<name> | manual:<who>
    # order | internal_transfer | fee_no_order | other
    sa.Column("scope", sa.String(24), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default="open"),  # open | ignored
    sa.Column("applied", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("ignore_reason", sa.Text),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_bill_recon_shop_code_match_key", "shop_code", "match_key"),
)

#: 核销单: a match (or a stored suggestion) of expected lines with bill rows.
match_groups = sa.Table(
    "match_groups",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("group_no", sa.String(32), nullable=False, unique=True),
    sa.Column("shop_code", sa.String(64), nullable=False),
    sa.Column("match_key", sa.String(128)),
    sa.Column("origin", sa.String(16), nullable=False),  # auto | manual
    # exact | within_tolerance | with_difference | forced
    sa.Column("outcome", sa.String(24), nullable=False),
    sa.Column("expected_total", sa.BigInteger, nullable=False),
    sa.Column("actual_total", sa.BigInteger, nullable=False),
    sa.Column("difference", sa.BigInteger, nullable=False),  # actual - expected
    sa.Column("gap_type_code", sa.String(32)),
    sa.Column("rule_id", sa.Integer),
    sa.Column("memo", sa.Text),
    sa.Column("run_id", BigId),
    # active | undone | suggested | superseded (a suggestion a later run replaced)
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("undone_event_id", BigId),
    sa.Index("ix_match_groups_state_shop_code", "state", "shop_code"),
    sqlite_autoincrement=True,
)

match_lines = sa.Table(
    "match_lines",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("group_id", BigId, sa.ForeignKey("match_groups.id"), nullable=False, index=True),
    sa.Column("side", sa.String(8), nullable=False),  # expected | actual
    sa.Column("item_id", BigId, nullable=False),  # expected_items.id or bill_rows.id
    sa.Column("amount_applied", sa.BigInteger, nullable=False),  # same sign as the item
    sa.Index("ix_match_lines_side_item_id", "side", "item_id"),
    sqlite_autoincrement=True,
)

#: 差异类型 (seeded by the migration).
gap_types = sa.Table(
    "gap_types",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("shop_code", sa.String(64)),  # None: every shop
    sa.Column("writeoff_subject_code", sa.String(64)),
    sa.Column("auto_allowed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
)

#: Matching rules as data, tried in ``priority`` order; none stored: the built-in defaults.
match_rules = sa.Table(
    "match_rules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("shop_code", sa.String(64)),
    sa.Column("platform", sa.String(16)),
    sa.Column("split", sa.String(16), nullable=False, server_default="net"),
    sa.Column("tol_abs", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("tol_bp", sa.Integer, nullable=False, server_default="0"),
    sa.Column("date_window_days", sa.Integer, nullable=False, server_default="31"),
    sa.Column("conditions", sa.Text, nullable=False, server_default="[]"),  # JSON
    sa.Column("on_within_tolerance", sa.String(32)),
    sa.Column("action", sa.String(16), nullable=False, server_default="auto_confirm"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)

#: One row per run that wrote (a dry run writes nothing, this row included).
recon_runs = sa.Table(
    "recon_runs",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("cut_bill_row_id", sa.BigInteger, nullable=False),
    sa.Column("cut_expected_id", sa.BigInteger, nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("counts", sa.Text, nullable=False),  # JSON
    sa.Column("report_sha256", sa.String(64), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)

#: The audit trail: append-only (triggers refuse UPDATE and DELETE), each row hashed with the
#: previous row's hash (``zhangben.store.recon_chain``).
recon_events = sa.Table(
    "recon_events",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(24), nullable=False),
    sa.Column("subject_type", sa.String(16), nullable=False),
    sa.Column("subject_id", sa.String(64), nullable=False),
    sa.Column("before", sa.Text),  # canonical JSON
    sa.Column("after", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_recon_events_subject_type_subject_id", "subject_type", "subject_id"),
    sqlite_autoincrement=True,
)


TABLES = (expected_items, bill_recon, match_groups, match_lines, gap_types, match_rules,
          recon_runs, recon_events)  # fmt: skip

GAP_TYPES = (
    ("ROUNDING", "四舍五入", True),
    ("COMMISSION", "佣金差异", True),
    ("FREIGHT", "运费差异", True),
    ("PROMO", "优惠/补贴差异", True),
    ("PARTIAL_REFUND", "部分退款", False),
    ("CROSS_PERIOD", "跨期", False),
    ("SHIPPED_NOT_PAID", "已发货未收款", False),
    ("PAID_NO_ORDER", "到账无订单", False),
    ("DUPLICATE", "重复到账", False),
    ("OTHER", "其他", False),
)

PG_EVENTS_APPEND_ONLY = """
CREATE FUNCTION zb_recon_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'ZB405', MESSAGE = 'recon_events are append-only';
END $$
"""


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind)
    op.bulk_insert(
        gap_types,
        [{"code": c, "name": n, "auto_allowed": a, "active": True} for c, n, a in GAP_TYPES],
    )
    if bind.dialect.name == "postgresql":
        op.execute(PG_EVENTS_APPEND_ONLY)
        op.execute(
            "CREATE TRIGGER zb_recon_events_append_only BEFORE UPDATE OR DELETE "
            "ON recon_events FOR EACH ROW EXECUTE FUNCTION zb_recon_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER zb_recon_events_append_only_truncate BEFORE TRUNCATE "
            "ON recon_events FOR EACH STATEMENT EXECUTE FUNCTION zb_recon_events_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER zb_recon_events_append_only_{action.lower()} "
            f"BEFORE {action} ON recon_events BEGIN "
            "SELECT RAISE(ABORT, 'recon_events are append-only'); END"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS zb_recon_events_append_only ON recon_events")
        op.execute("DROP TRIGGER IF EXISTS zb_recon_events_append_only_truncate ON recon_events")
        op.execute("DROP FUNCTION IF EXISTS zb_recon_events_append_only()")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS zb_recon_events_append_only_{action}")
    for table in reversed(TABLES):
        table.drop(bind)
