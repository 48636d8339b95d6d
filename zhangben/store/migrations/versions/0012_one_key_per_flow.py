"""Bill imports keyed by the one key rule: ``import:{platform}:{account}:{flow}`` becomes
``{platform}:{flow}``, the key a posting of the same flow made by hand carries (I6).

Postings are append-only (I8); this migration edits their keys inside the explicit escape
hatch. A flow whose new key is taken already — posted by hand *and* imported before this
change, the double posting this rule now prevents — keeps its old key: both postings stay as
they are, and ``zhangben verify`` lists nothing new; find them with
``SELECT idempotency_key FROM postings WHERE idempotency_key LIKE 'import:%'``.

Revision ID: 0012_one_key_per_flow
Revises: 0011_zb_post_v3
"""

import sqlalchemy as sa
from alembic import op

from zhangben.store.migrations.ledger_edits import ledger_rows_editable

revision = "0012_one_key_per_flow"
down_revision = "0011_zb_post_v3"
branch_labels = None
depends_on = None


def _rekey(new_key: str) -> None:
    """Rewrite every ``import:`` key whose target is free, once per key (never two to one)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, idempotency_key FROM postings WHERE idempotency_key LIKE 'import:%'")
    ).all()
    if not rows:
        return
    wanted: dict[str, list[int]] = {}
    for pid, key in rows:
        _, platform, _account, flow = key.split(":", 3)
        wanted.setdefault(new_key.format(platform=platform, flow=flow), []).append(pid)
    taken = {
        k
        for (k,) in bind.execute(
            sa.text(
                "SELECT idempotency_key FROM postings WHERE idempotency_key NOT LIKE 'import:%'"
            )
        )
    }
    moves = [
        {"id": ids[0], "key": key}
        for key, ids in wanted.items()
        if len(ids) == 1 and key not in taken
    ]
    if moves:
        with ledger_rows_editable(op):
            bind.execute(
                sa.text("UPDATE postings SET idempotency_key = :key WHERE id = :id"), moves
            )


def upgrade() -> None:
    _rekey("{platform}:{flow}")


def downgrade() -> None:
    """Keys stay in the one-rule form: the old form named the account, which the key no
    longer holds; an older zhangben deduplicates imports by their bill rows all the same."""
