"""The second approver of the Recon facade, on both databases: a forced match above the
approval amount is stored pending with its lines held; a second, different person approves
it (applied) or rejects it (its lines released), each an event of the hash-chained trail; the
person who forced it is refused, and a refusal writes nothing."""

from __future__ import annotations

import pytest

from tests.recon.support import ACTOR, with_samples
from tests.recon.test_service import counts, expected_id, row_id
from zhangben.core.errors import OverApplied, ReconState, SecondApproverNeeded, ValidationError
from zhangben.demo.orders import PLANTED
from zhangben.recon.service import FORCE_APPROVAL_ABOVE, Recon

SECOND = "user:controller"
MEMO = "customer paid the rest in cash"


@pytest.fixture
def case(ledger, tmp_path):
    """The samples imported and run; the never-paid sale (520.00) and the orphan (66.20)."""
    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.run(actor=ACTOR)
    sale = expected_id(ledger, PLANTED.never_paid, "sale")
    orphan = row_id(ledger, PLANTED.no_order)
    return Recon(ledger, force_approval_above=100 * 10_000), sale, orphan


def _force(recon: Recon, sale: int, orphan: int, actor: str = ACTOR):
    return recon.match([(sale, None)], [(orphan, None)], actor=actor, force=True, memo=MEMO)


def test_a_forced_match_above_the_amount_waits_and_holds_its_lines(ledger, case):
    recon, sale, orphan = case
    group = _force(recon, sale, orphan)  # |66.20 - 520.00| = 453.80 > 100.00
    assert (group.state, group.outcome, group.difference) == ("pending", "forced", -4_538_000)
    assert recon.expected(sale).applied == 5_200_000  # held: nobody else can apply it
    with pytest.raises(OverApplied):
        recon.match([(sale, 10_000)], [], actor=SECOND, force=True, memo=MEMO)
    with pytest.raises(OverApplied):
        recon.match([], [(orphan, None)], actor=SECOND, force=True, memo=MEMO)
    assert sale not in {r.id for r in recon.queue("已发货未收款").rows}
    assert recon.queue("到账无订单").count == 0
    [event] = recon.events(subject=("group", str(group.id)))
    assert (event.action, event.after["state"], event.reason) == ("forced", "pending", MEMO)

    before = counts(ledger)
    with pytest.raises(SecondApproverNeeded, match="second, different person"):
        recon.approve(group.id, actor=ACTOR)
    with pytest.raises(SecondApproverNeeded):
        recon.reject(group.id, reason="no", actor=ACTOR)
    with pytest.raises(ReconState, match="pending"):
        recon.undo(group.id, reason="not yet", actor=SECOND)
    assert counts(ledger) == before

    approved = recon.approve(group.id, actor=SECOND, memo="checked the receipt")
    assert approved.state == "active" and approved.lines == group.lines
    assert recon.expected(sale).applied == 5_200_000
    with pytest.raises(ReconState, match="not pending"):
        recon.approve(group.id, actor="user:third")
    history = recon.events(subject=("group", str(group.id)))
    assert [(e.action, e.actor) for e in history] == [("approved", SECOND), ("forced", ACTOR)]
    assert (history[0].before, history[0].after) == ({"state": "pending"}, {"state": "active"})
    assert recon.verify_chain()[1] == []
    # an approved match is undone as any other
    assert recon.undo(group.id, reason="wrong order", actor=ACTOR).state == "undone"
    assert recon.expected(sale).applied == 0


def test_a_rejected_match_releases_its_lines(ledger, case):
    recon, sale, orphan = case
    group = _force(recon, sale, orphan)
    before = counts(ledger)
    with pytest.raises(ValidationError, match="reason"):
        recon.reject(group.id, reason=" ", actor=SECOND)
    assert counts(ledger) == before
    rejected = recon.reject(group.id, reason="the buyer never paid", actor=SECOND)
    assert rejected.state == "rejected"
    assert recon.expected(sale).applied == 0
    assert recon.queue("到账无订单").count == 1
    assert sale in {r.id for r in recon.queue("已发货未收款").rows}
    with pytest.raises(ReconState):
        recon.approve(group.id, actor=SECOND)
    [latest, _] = recon.events(subject=("group", str(group.id)))
    assert (latest.action, latest.actor, latest.reason) == (
        "rejected",
        SECOND,
        "the buyer never paid",
    )
    # the lines are free again: matched by hand as any others
    again = recon.match([(sale, 662_000)], [(orphan, None)], actor=SECOND)
    assert again.state == "active"
    assert recon.verify_chain()[1] == []


def test_at_or_below_the_amount_a_forced_match_applies_at_once(ledger, case):
    _, sale, orphan = case
    at_the_amount = Recon(ledger, force_approval_above=4_538_000)
    assert _force(at_the_amount, sale, orphan).state == "active"
    assert Recon(ledger).force_approval_above == FORCE_APPROVAL_ABOVE == 1000 * 10_000


def test_an_unforced_match_never_waits(ledger, case):
    _, sale, orphan = case
    strict = Recon(ledger, force_approval_above=0)
    group = strict.match([(sale, None)], [(orphan, None)], actor=ACTOR, gap_type="OTHER")
    assert (group.outcome, group.state) == ("with_difference", "active")
