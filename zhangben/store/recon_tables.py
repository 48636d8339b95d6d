"""Tables of reconciliation (核销, docs/reconciliation.md): the money each order should bring in
(``expected_items``), the bill rows' order keys and what of them is applied (``bill_recon``,
a side table keyed by the bill row, so the bill rows themselves stay as imported), the matches
as records (``match_groups`` and their ``match_lines``), the gap types and rules (data), the
runs, and the append-only audit trail ``recon_events`` with its hash chain.

Money is BIGINT minor units (1/10000). ``applied`` is signed as its item's amount; the service
keeps ``|applied| ≤ |amount|`` under a lock on the item."""

from __future__ import annotations

import sqlalchemy as sa

from zhangben.store.tables import metadata
from zhangben.store.types import BigId, UTCDateTime

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
    #: the month (yyyy-mm) the match is booked in: its latest line's, or the next open one
    sa.Column("period", sa.String(7)),
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
