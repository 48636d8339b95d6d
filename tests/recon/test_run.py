"""The matching run's own parts (zhangben/recon/run.py), on both databases: the event text it
writes directly equals the canonical JSON the rest of recon writes, a failure in the thread
that writes the pages leaves nothing behind, and PostgreSQL's item tables leave room on each
page for the run's updates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as s

from tests.recon.support import ACTOR, with_samples
from tests.recon.test_service import counts
from zhangben.recon import store as st
from zhangben.recon.run import _after_text
from zhangben.recon.service import _event_after
from zhangben.store import recon_chain
from zhangben.store.recon_tables import match_groups

texts = s.text(alphabet=s.characters(codec="utf-8"), max_size=12)
lines = s.lists(
    s.tuples(s.sampled_from([st.E, st.A]), s.integers(1, 2**53), s.integers(-(10**18), 10**18)),
    min_size=1,
    max_size=4,
)


@given(
    group_no=texts,
    outcome=s.sampled_from(["exact", "within_tolerance", "with_difference"]),
    difference=s.integers(-(10**18), 10**18),
    gap=s.none() | texts,
    ls=lines,
    period=s.none() | texts,
)
def test_the_written_event_text_is_the_canonical_json(group_no, outcome, difference, gap, ls,
                                                      period):  # fmt: skip
    """The run writes a match's event ``after`` by hand (one per match); the hash chain and
    ``verify`` need it to be exactly the canonical JSON of what a person's match records."""
    row = {"group_no": group_no, "outcome": outcome, "difference": difference,
           "gap_type_code": gap, "period": period}  # fmt: skip
    lines = [{"side": side, "item_id": item, "amount_applied": amount} for side, item, amount in ls]
    rows = [(7, side, item, amount) for side, item, amount in ls]
    assert _after_text(group_no, outcome, difference, gap, rows, period) == (
        recon_chain.canonical(_event_after(row, lines))
    )


def test_a_failed_page_write_leaves_nothing(ledger, tmp_path):
    """The thread that writes the pages fails (a group number already taken): the run raises
    that error, everything it wrote is rolled back (keys, groups, events), and the next run
    on the same ledger works."""
    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    now = datetime.now(UTC)
    with ledger.engine.begin() as conn:  # takes the number the run's first group will get
        conn.execute(
            match_groups.insert().values(
                id=1, group_no=st.group_no(2, now), shop_code="S001", origin="auto",
                outcome="exact", expected_total=0, actual_total=0, difference=0,
                state="superseded", created_by="test", created_at=now,
            )
        )  # fmt: skip
    before = counts(ledger)
    with pytest.raises(sa.exc.IntegrityError):
        recon.run(actor=ACTOR)
    assert counts(ledger) == before
    with ledger.engine.begin() as conn:
        conn.execute(match_groups.delete())
    report = recon.run(actor=ACTOR)
    assert report.counts["auto_exact"] > 0
    assert recon.verify_chain()[1] == []


def test_item_tables_leave_room_for_updates(ledger):
    """PostgreSQL: fillfactor 50 on the two tables whose ``applied`` a run updates
    (migration 0021), so that the updates stay on their page (HOT)."""
    if ledger.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL storage setting")
    with ledger.engine.connect() as conn:
        options = dict(
            conn.execute(
                sa.text(
                    "SELECT relname, reloptions FROM pg_class "
                    "WHERE relname IN ('expected_items', 'bill_recon')"
                )
            ).all()
        )
    assert options == {"expected_items": ["fillfactor=50"], "bill_recon": ["fillfactor=50"]}
