"""The Recon facade on both databases: order files in (and refused whole), runs and dry runs,
people's matches with partial amounts, undo, void, ignore, the audit trail's hash chain, and
every planted case of the samples in its queue."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from tests.recon.support import ACTOR, with_samples
from zhangben.core.errors import (
    NotFound,
    OrderFileError,
    OverApplied,
    PeriodClosed,
    ReconState,
    ValidationError,
)
from zhangben.demo.orders import PLANTED
from zhangben.periods import Periods
from zhangben.recon.service import Recon
from zhangben.store.bills_tables import bill_rows
from zhangben.store.recon_tables import (
    bill_recon,
    expected_items,
    match_groups,
    match_lines,
    recon_events,
    recon_runs,
)

TABLES = (expected_items, bill_recon, match_groups, match_lines, recon_events, recon_runs)


def counts(ledger) -> dict[str, int]:
    with ledger.engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() for t in TABLES
        }


def row_id(ledger, order_no: str, n: int = 0) -> int:
    with ledger.engine.connect() as conn:
        ids = conn.execute(
            sa.select(bill_rows.c.id).where(bill_rows.c.order_no == order_no).order_by("id")
        ).scalars()
        return list(ids)[n]


def expected_id(ledger, order_no: str, kind: str) -> int:
    with ledger.engine.connect() as conn:
        t = expected_items.c
        return conn.execute(
            sa.select(t.id).where(t.order_no == order_no, t.kind == kind)
        ).scalar_one()


def test_every_planted_case_lands_in_its_queue(ledger, tmp_path):
    recon, files = with_samples(ledger, tmp_path)
    first = recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    assert (first.new, first.existing) == (first.lines, 0)
    again = recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    assert (again.new, again.existing) == (0, first.lines)

    report = recon.run(actor=ACTOR)
    # + the partial refund (its payment, its refund), the paid part of the refund not out, and
    # one of the two payments of the order paid twice
    assert report.counts["auto_exact"] == len(PLANTED.exact) + 4
    assert report.counts["auto_within_tolerance"] == len(PLANTED.commission)
    assert report.counts["suggested_with_difference"] == 1

    def keys(name):
        return sorted({r.key for r in recon.queue(name).rows})

    assert keys("已发货未收款") == [PLANTED.never_paid]
    assert keys("已退款未退出") == [PLANTED.refund_not_out]
    assert keys("到账无订单") == [PLANTED.no_order]
    assert keys("疑似重复") == [PLANTED.paid_twice]
    assert keys("金额差异") == [PLANTED.difference]
    summary = {q.code: q for q in recon.queues()}
    assert summary["shipped_not_paid"].total == 5_200_000 - 31_200  # 520.00 less its fee
    assert summary["refunded_not_out"].total == -500_000
    assert summary["paid_no_order"].total == 666_000 - 4_000  # 66.60 less its 0.40 fee
    assert summary["amount_difference"].total == -2_982_000  # 695.80 paid, 1000 - 6 expected
    assert summary["awaiting"].counted is False
    for q in summary.values():  # every count is its rows'
        assert q.count == len(recon.queue(q.code).rows) == sum(q.ageing.values())
    assert summary["shipped_not_paid"].ageing[">30"] == 2

    # a second run finds nothing new, and replaces its suggestion
    again = recon.run(actor=ACTOR)
    assert again.counts.get("auto_exact", 0) == 0 and again.counts["superseded"] == 1
    assert keys("金额差异") == [PLANTED.difference]
    assert recon.verify_chain() == (len(recon.events(limit=10_000)), [])


def test_a_dry_run_writes_nothing(ledger, tmp_path):
    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    before = counts(ledger)
    dry = recon.run(dry_run=True, actor=ACTOR)
    assert dry.run_id is None and dry.counts["auto_exact"] > 0
    assert counts(ledger) == before
    real = recon.run(actor=ACTOR)
    assert real.counts == dry.counts and real.sha256 == dry.sha256


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("订单号,类型,发生时间\nA1,sale,2024-03-01 10:00:00\n", 1, "金额", "missing column"),
        ("订单号,类型,金额,发生时间\nA1,sale,1.00,2024-03-01\nA2,gift,1.00,2024-03-01\n", 3,
         "类型", "unknown kind"),
        ("订单号,类型,金额,发生时间\nA1,sale,1.00,2024-03-01\nA2,sale,12,30,2024-03-01\n", 3,
         None, ""),
        ("订单号,类型,金额,发生时间\nA1,sale,1.2.3,2024-03-01\n", 2, "金额", "not an amount"),
        ("订单号,类型,金额,发生时间\nA1,sale,1.00,2024-13-01\n", 2, "发生时间", ""),
        ("订单号,类型,金额,发生时间\n,sale,1.00,2024-03-01\n", 2, "订单号", "is empty"),
    ],
)  # fmt: skip
def test_a_bad_order_file_is_refused_whole_naming_line_and_column(
    ledger, tmp_path, text, line, column, message
):
    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8")
    before = counts(ledger)
    with pytest.raises(OrderFileError) as caught:
        Recon(ledger).import_expected(path, shop="S001", actor=ACTOR)
    assert caught.value.code == "order_file" and caught.value.line == line
    if column:
        assert caught.value.column == column
    assert message in caught.value.message
    assert counts(ledger) == before


def test_headers_are_mapped_and_amounts_take_their_kinds_sign(ledger, tmp_path):
    path = tmp_path / "shop-export.csv"
    path.write_text(
        "外部订单号,款项类型,应收金额,发货时间,我的备注\n"
        "t-1,销售,120.00,2024-03-01 10:00:00,x\nt-1,佣金,6,2024-03-01 10:00:00,y\n",
        encoding="utf-8",
    )
    recon = Recon(ledger)
    recon.import_expected(
        path, shop="S9", platform="alipay", mapping={"备注": "我的备注"}, actor=ACTOR
    )
    with ledger.engine.connect() as conn:
        t = expected_items.c
        rows = conn.execute(sa.select(t.order_no, t.kind, t.amount, t.memo).order_by(t.id)).all()
    assert [tuple(r) for r in rows] == [("T-1", "sale", 1_200_000, "x"),
                                        ("T-1", "commission", -60_000, "y")]  # fmt: skip


def test_rows_from_an_api_are_idempotent_on_shop_source_and_reference(ledger):
    recon = Recon(ledger)
    rows = [{"order_no": "A1", "kind": "sale", "amount": "10.00",
             "occurred_at": "2024-03-01 10:00:00", "source_ref": "r1"}]  # fmt: skip
    assert recon.import_expected(rows=rows, shop="S1", actor=ACTOR).new == 1
    assert recon.import_expected(rows=rows, shop="S1", actor=ACTOR).new == 0
    assert recon.import_expected(rows=rows, shop="S2", actor=ACTOR).new == 1
    with pytest.raises(OrderFileError, match="line 1, amount"):
        recon.import_expected(rows=[{**rows[0], "amount": "ten"}], shop="S1", actor=ACTOR)


def test_manual_match_with_parts_preview_gap_types_force_and_undo(ledger, tmp_path):
    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.run(actor=ACTOR)
    orphan = row_id(ledger, PLANTED.no_order)  # 66.20 net
    sale = expected_id(ledger, PLANTED.never_paid, "sale")  # 520.00

    # part of the sale against the orphan: 66.20 exactly
    preview = recon.preview([(sale, 662_000)], [(orphan, None)])
    assert (preview.difference, preview.outcome) == (0, "exact")
    # the whole sale: a difference that needs a gap type (or force)
    with pytest.raises(ValidationError, match="gap type"):
        recon.match([(sale, None)], [(orphan, None)], actor=ACTOR)
    with pytest.raises(ValidationError, match="unknown gap type"):
        recon.match([(sale, None)], [(orphan, None)], actor=ACTOR, gap_type="NOPE")
    with pytest.raises(ValidationError, match="memo"):
        recon.match([(sale, None)], [(orphan, None)], actor=ACTOR, force=True, memo="ok")
    # a 0.0001 difference is a difference
    with pytest.raises(ValidationError, match="0.0001"):
        recon.match([(sale, 661_999)], [(orphan, None)], actor=ACTOR)
    # more than the line holds
    with pytest.raises(OverApplied):
        recon.match([(sale, 5_200_001)], [(orphan, None)], actor=ACTOR, force=True, memo="over")
    before = counts(ledger)
    group = recon.match([(sale, 662_000)], [(orphan, None)], actor=ACTOR)
    assert group.outcome == "exact" and group.state == "active"
    assert counts(ledger)["match_groups"] == before["match_groups"] + 1
    # the orphan is used up; the sale has 453.80 left
    with pytest.raises(OverApplied):
        recon.match([(sale, 10_000)], [(orphan, 10_000)], actor=ACTOR)
    assert recon.queue("到账无订单").count == 0
    left = {r.id: r.amount for r in recon.queue("已发货未收款").rows}
    assert left[sale] == 5_200_000 - 662_000

    undone = recon.undo(group.id, reason="wrong order", actor=ACTOR)
    assert undone.state == "undone"
    with pytest.raises(ReconState):
        recon.undo(group.id, reason="again", actor=ACTOR)
    with pytest.raises(ValidationError, match="reason"):
        recon.undo(group.id, reason=" ", actor=ACTOR)
    assert recon.queue("到账无订单").count == 1

    forced = recon.match(
        [(sale, None)], [(orphan, None)], actor=ACTOR, force=True, memo="customer paid cash"
    )
    assert forced.outcome == "forced" and forced.difference == 662_000 - 5_200_000
    history = [e.action for e in recon.events(subject=("group", str(group.id)))]
    assert history == ["undone", "matched"]  # newest first; the group is kept
    assert recon.events(limit=1)[0].action == "forced"
    assert recon.verify_chain()[1] == []


def test_undo_is_refused_in_a_closed_period(ledger, tmp_path):
    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.run(actor=ACTOR)
    group = next(g for g in recon.groups(state="active") if g.key == PLANTED.exact[0])
    Periods(ledger).close("2024-03", shop="S001", actor=ACTOR, force=True)
    before = counts(ledger)
    with pytest.raises(PeriodClosed, match="2024-03"):
        recon.undo(group.id, reason="late", actor=ACTOR)
    assert counts(ledger) == before


def test_void_and_ignore_take_items_out_of_the_queues(ledger, tmp_path):
    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.run(actor=ACTOR)
    refund = expected_id(ledger, PLANTED.refund_not_out, "refund")
    with pytest.raises(ValidationError):
        recon.void(refund, reason="", actor=ACTOR)
    recon.void(refund, reason="buyer cancelled the refund", actor=ACTOR)
    assert recon.queue("已退款未退出").count == 0
    with pytest.raises(ReconState):
        recon.void(refund, reason="twice", actor=ACTOR)
    matched = expected_id(ledger, PLANTED.exact[0], "sale")
    with pytest.raises(ReconState, match="undo"):
        recon.void(matched, reason="matched already", actor=ACTOR)
    orphan = row_id(ledger, PLANTED.no_order)
    recon.ignore(orphan, reason="a test payment", actor=ACTOR)
    assert recon.queue("到账无订单").count == 0
    with pytest.raises(NotFound):
        recon.ignore(10**9, reason="none", actor=ACTOR)
    assert [e.action for e in recon.events(limit=2)] == ["ignored", "voided"]


def test_a_key_set_by_hand_is_matched_by_the_next_run(ledger, tmp_path):
    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.run(actor=ACTOR)
    orphan = row_id(ledger, PLANTED.no_order)
    recon.set_key(orphan, "w2403999", actor=ACTOR, reason="order number from the buyer")
    recon.import_expected(
        rows=[{"order_no": "W2403999", "kind": "sale", "amount": "66.20",
               "occurred_at": "2024-03-20 10:00:00", "source_ref": "late-1"}],
        shop="S001", platform="wechat", actor=ACTOR,
    )  # fmt: skip
    assert recon.run(actor=ACTOR).counts["auto_exact"] == 1
    assert recon.queue("到账无订单").count == 0
    event = recon.events(subject=("bill_row", str(orphan)))[0]
    assert event.action == "key_set" and event.after["match_key"] == "W2403999"


def test_the_audit_trail_is_append_only_and_its_chain_is_verified(ledger, tmp_path):
    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.run(actor=ACTOR)
    for stmt in (recon_events.update().values(actor="x"), recon_events.delete()):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with ledger.engine.begin() as conn:
                conn.execute(stmt)
    assert recon.verify_chain()[1] == []
    with ledger.engine.begin() as conn:  # an edit behind the triggers' back
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("ALTER TABLE recon_events DISABLE TRIGGER USER"))
        else:
            conn.execute(sa.text("DROP TRIGGER zb_recon_events_append_only_update"))
        conn.execute(recon_events.update().where(recon_events.c.id == 3).values(actor="x"))
    checked, problems = recon.verify_chain()
    assert problems == ["recon event 3: its hash does not match its content"]
    from zhangben.imports.service import Imports

    assert Imports(ledger).verify().check("recon").problems == problems


def test_eight_people_matching_the_same_line_at_once_exactly_one_wins(ledger, tmp_path):
    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.run(actor=ACTOR)
    orphan = row_id(ledger, PLANTED.no_order)
    sales = [expected_id(ledger, PLANTED.never_paid, "sale")]
    results: list = []
    barrier = threading.Barrier(8)

    def person(n: int) -> None:
        barrier.wait()
        try:
            g = Recon(ledger).match([(sales[0], 662_000)], [(orphan, None)], actor=f"user:p{n}")
            results.append(g)
        except OverApplied as exc:
            results.append(exc)

    threads = [threading.Thread(target=person, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in results if not isinstance(r, Exception)]
    assert len(won) == 1 and len(results) == 8
    with ledger.engine.connect() as conn:
        applied = conn.execute(
            sa.select(bill_recon.c.applied).where(bill_recon.c.bill_row_id == orphan)
        ).scalar_one()
    assert applied == 662_000


def test_cross_period_matches_and_balance_breaks_have_their_queues(ledger, tmp_path):
    from zhangben.demo import bills as s
    from zhangben.imports.runner import import_file

    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.import_expected(
        rows=[{"order_no": "W2404001", "kind": "sale", "amount": "66.20",
               "occurred_at": "2024-04-02 10:00:00", "source_ref": "april-1"}],
        shop="S001", platform="wechat", actor=ACTOR,
    )  # fmt: skip
    recon.run(actor=ACTOR)
    april = expected_id(ledger, "W2404001", "sale")
    group = recon.match([(april, None)], [(row_id(ledger, PLANTED.no_order), None)], actor=ACTOR)
    rows = recon.queue("跨期").rows
    assert [(r.subject, r.id) for r in rows] == [("group", group.id)]
    assert "2024-03 → 2024-04" in rows[0].text
    assert recon.queue("余额断链").count == 0
    ledger.open_account(number="JD1", name="京东", type="jd_wallet", shop_code="S001")
    import_file(ledger, s.write_demo_files(tmp_path / "jd", rows=20)["tampered"], account="JD1")
    breaks = recon.queue("balance_break")
    assert breaks.count == 1 and "JD1" in breaks.rows[0].text


def test_small_pages_give_the_same_run_as_one_page(ledger, tmp_path, monkeypatch):
    """A run reads whole (shop, key) groups page by page (``queues.page_end``): pages of two
    items a side match exactly what one page matches, and a second run finds nothing."""
    import zhangben.recon.run as run

    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    whole = recon.run(dry_run=True, actor=ACTOR)
    monkeypatch.setattr(run, "PAGE_ROWS", 2)
    paged = recon.run(actor=ACTOR)
    assert paged.counts["groups"] > 4  # several pages were read
    assert (paged.counts, paged.sha256) == (whole.counts, whole.sha256)
    again = recon.run(actor=ACTOR)
    assert again.counts.get("auto_exact", 0) == 0 and again.counts["superseded"] == 1
    assert recon.verify_chain() == (len(recon.events(limit=10_000)), [])
