"""跨期 on both databases: a match is booked in the month of its latest line, or in the next
open month when that one is closed; the 跨期 queue shows both kinds, and nothing is booked
into a closed period. A late bill row dated into a closed month is refused by the entries
trigger (R13) before reconciliation ever sees it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.recon.support import ACTOR, with_samples
from tests.recon.test_service import counts, row_id
from zhangben.core.errors import PeriodClosed
from zhangben.demo.bills import SampleTxn, write_wechat_trade_csv
from zhangben.demo.orders import PLANTED
from zhangben.imports.runner import import_file
from zhangben.periods import Periods
from zhangben.recon.booked import booked

SH = ZoneInfo("Asia/Shanghai")


def bill(path, when: datetime, amount: str, order_no: str):
    txn = SampleTxn(seq=1, time=when, amount=Decimal(amount), balance=Decimal(0),
                    flow_no=f"LATE{when:%m%d}", order_no=order_no, counterparty="",
                    business_type="", remark="")  # fmt: skip
    return write_wechat_trade_csv(path, [txn])


def test_late_rows_are_booked_in_the_next_open_period(ledger, tmp_path):
    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.run(actor=ACTOR)
    last = recon.groups(limit=1)[0].id  # the groups booked before the close
    periods = Periods(ledger)
    periods.close("2024-03", shop="S001", actor=ACTOR, force=True)
    sealed = periods.list_periods()[0].snapshot_sha256

    # a late bill row dated March: the entries trigger refuses it, nothing of it lands
    before = counts(ledger)
    march = bill(tmp_path / "late-march.csv", datetime(2024, 3, 30, 10), "516.88",
                 PLANTED.never_paid)  # fmt: skip
    with pytest.raises(PeriodClosed):
        import_file(ledger, march, account="WX-S001")
    assert counts(ledger) == before

    # the order never paid (520.00 less its 3.12 fee, March) is paid in April …
    april = bill(tmp_path / "april.csv", datetime(2024, 4, 2, 10), "516.88", PLANTED.never_paid)
    import_file(ledger, april, account="WX-S001")
    # … and the order of the money that came with none (66.20, March) turns up after the close
    recon.import_expected(
        rows=[{"order_no": PLANTED.no_order, "kind": "sale", "amount": "66.20",
               "occurred_at": "2024-03-20 09:00:00", "source_ref": "late-1"}],
        shop="S001", platform="wechat", actor=ACTOR,
    )  # fmt: skip
    report = recon.run(actor=ACTOR)
    assert report.counts["booked_forward"] == 1
    made = {g.key: g for g in recon.groups(state="active", limit=2)}
    assert {k: g.period for k, g in made.items()} == {
        PLANTED.never_paid: "2024-04",  # its latest line is April's
        PLANTED.no_order: "2024-04",  # both lines March's, March closed: the next open month
    }
    queue = {r.id: r.text for r in recon.queue("跨期").rows}
    assert "2024-03 → 2024-04" in queue[made[PLANTED.never_paid].id]
    assert queue[made[PLANTED.no_order].id].endswith(
        ": 2024-03, booked in 2024-04 (2024-03 closed)"
    )
    events = {e.subject_id: e.after for e in recon.events(limit=5) if e.action == "matched"}
    assert events[str(made[PLANTED.no_order].id)]["period"] == "2024-04"

    # a match by hand is booked the same way
    orphan = row_id(ledger, PLANTED.paid_twice, 1)
    g = recon.match([], [(orphan, None)], actor=ACTOR, force=True, memo="written off")
    assert g.period == "2024-04"
    after_close = [g for g in recon.groups(state="active", limit=10_000) if g.id > last]
    assert len(after_close) == 3 and {g.period for g in after_close} == {"2024-04"}
    assert periods.list_periods()[0].snapshot_sha256 == sealed
    assert periods.verify().ok


def test_booked_skips_every_closed_month():
    at = datetime(2024, 11, 30, 23, 0, tzinfo=SH)
    closed = {"": {"2024-11"}, "S1": {"2024-12"}, "S2": {"2025-01"}}
    assert booked(closed, {"S1"}, at, SH) == "2025-01"
    assert booked(closed, {"S1", "S2"}, at, SH) == "2025-02"
    assert booked(closed, {"S3"}, at, SH) == "2024-12"
    assert booked({}, {"S1"}, at, SH) == "2024-11"
