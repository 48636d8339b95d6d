"""The Excel round trip of a queue on both databases: download a queue's XLSX, fill its 动作
column with openpyxl, upload: the dry run writes nothing, the apply lands every row in the
queue and the audit trail, a second upload of the same file applies nothing twice, and a
file with a bad action, an unknown row or a bad amount is refused whole, naming the row and
the column, with nothing written."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.recon.support import ACTOR, with_samples
from tests.recon.test_service import counts, expected_id, row_id
from zhangben.core.errors import ActionFileError
from zhangben.demo.orders import PLANTED
from zhangben.recon.queues import write_xlsx


def download(recon, name, tmp_path) -> openpyxl.Workbook:
    path = write_xlsx(recon.queue(name), tmp_path / f"{name}.xlsx", recon.ledger.tz)
    return openpyxl.load_workbook(path)


def fill(book: openpyxl.Workbook, **by_id: dict) -> bytes:
    """Set cells by header text on the rows whose ID is given; ``extra`` rows appended."""
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        cells = by_id.get(str(row[header.index("ID")].value))
        for name, value in (cells or {}).items():
            row[header.index(name)].value = value
    for extra in by_id.get("extra", []):
        sheet.append([extra.get(h) for h in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def recon(ledger, tmp_path):
    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.run(actor=ACTOR)
    return recon


def test_a_filled_queue_dry_runs_then_applies_once(recon, ledger, tmp_path):
    sale = expected_id(ledger, PLANTED.never_paid, "sale")
    fee = expected_id(ledger, PLANTED.never_paid, "service_fee")
    orphan = row_id(ledger, PLANTED.no_order)
    assert [r.id for r in recon.queue("已发货未收款").rows] == [sale, fee]
    data = fill(
        download(recon, "已发货未收款", tmp_path),
        **{
            str(sale): {"动作": "核销", "订单号": PLANTED.no_order, "核销金额": 66.2,
                        "备注": "buyer paid part by another order"},
            str(fee): {"动作": "void", "备注": "fee waived"},
        },
    )  # fmt: skip
    before = counts(ledger)

    dry = recon.apply_actions(data, actor=ACTOR, dry_run=True)
    assert [(r.line, r.status, r.column) for r in dry.rows] == [(2, "apply", None)] * 1 + [
        (3, "apply", None)
    ]
    assert "exact" in dry.rows[0].message and f"B{orphan}" in dry.rows[0].message
    assert counts(ledger) == before  # the dry run wrote nothing

    done = recon.apply_actions(data, actor=ACTOR)
    assert [r.status for r in done.rows] == ["applied", "applied"]
    assert recon.expected(sale).applied == 662_000
    assert recon.expected(fee).state == "void"
    assert [r.id for r in recon.queue("已发货未收款").rows] == [sale]
    assert recon.queue("到账无订单").count == 0
    events = recon.events(limit=3)
    assert [e.action for e in events] == ["file_applied", "voided", "matched"]
    assert events[0].subject_id == done.sha256 and events[0].after["lines"] == [2, 3]
    assert events[1].reason == "fee waived" and events[1].actor == ACTOR

    after = counts(ledger)
    again = recon.apply_actions(data, actor=ACTOR)  # the same file: nothing twice
    assert [r.status for r in again.rows] == ["done", "done"]
    assert "applied from this file already" in again.rows[0].message
    assert counts(ledger) == after
    assert recon.expected(sale).applied == 662_000
    assert recon.verify_chain()[1] == []


def test_the_state_itself_makes_another_file_idempotent(recon, ledger, tmp_path):
    """A second download, filled the same way, finds the effects in place: done, not twice."""
    orphan = row_id(ledger, PLANTED.no_order)
    action = {str(orphan): {"动作": "忽略", "备注": "a test payment"}}
    recon.apply_actions(fill(download(recon, "到账无订单", tmp_path), **action), actor=ACTOR)
    book = download(recon, "awaiting", tmp_path)  # another file: the row's own id still names it
    data = fill(book, extra=[{"对象": "bill_row", "ID": orphan, "动作": "ignore", "备注": "x"}])
    before = counts(ledger)
    report = recon.apply_actions(data, actor=ACTOR)
    assert [(r.status, r.message) for r in report.rows] == [
        ("done", f"bill row {orphan} is ignored already")
    ]
    assert counts(ledger) == before


def test_a_suggestion_is_confirmed_with_a_gap_type_by_its_chinese_name(recon, ledger, tmp_path):
    (row,) = recon.queue("金额差异").rows
    data = fill(
        download(recon, "金额差异", tmp_path),
        **{str(row.id): {"动作": "核销", "差异类型": "其他", "备注": "agreed with the shop"}},
    )
    report = recon.apply_actions(data, actor=ACTOR)
    assert report.rows[0].status == "applied", report.rows[0].message
    assert recon.queue("金额差异").count == 0
    group = recon.groups(state="active", limit=1)[0]
    assert (group.outcome, group.gap_type, group.memo) == (
        "with_difference", "OTHER", "agreed with the shop",
    )  # fmt: skip
    assert group.difference == row.amount


def test_bad_rows_refuse_the_whole_file_naming_row_and_column(recon, ledger, tmp_path):
    orphan = row_id(ledger, PLANTED.no_order)
    sale = expected_id(ledger, PLANTED.never_paid, "sale")
    data = fill(
        download(recon, "到账无订单", tmp_path),
        **{
            str(orphan): {"动作": "忽略", "备注": "fine on its own"},
            "extra": [
                {"对象": "bill_row", "ID": orphan, "动作": "删除"},
                {"对象": "bill_row", "ID": 999_999, "动作": "忽略", "备注": "no such row"},
                {"对象": "expected", "ID": sale, "动作": "核销", "订单号": PLANTED.no_order,
                 "核销金额": "12.345678"},
                {"对象": "expected", "ID": sale, "动作": "作废"},
                {"对象": "bill_row", "ID": orphan, "动作": "作废", "备注": "wrong kind"},
            ],
        },
    )  # fmt: skip
    before = counts(ledger)
    dry = recon.apply_actions(data, actor=ACTOR, dry_run=True)
    assert [(r.line, r.status, r.column) for r in dry.rows] == [
        (2, "apply", None),
        (3, "error", "动作"),
        (4, "error", "ID"),
        (5, "error", "核销金额"),
        (6, "error", "备注"),
        (7, "error", "对象"),
    ]
    assert "unknown action '删除'" in dry.rows[1].message
    assert "bill row 999999 does not exist" in dry.rows[2].message
    with pytest.raises(ActionFileError) as refused:
        recon.apply_actions(data, actor=ACTOR)
    assert refused.value.problems[0][0] == "row 3, 动作"
    assert [w for w, _ in refused.value.problems] == [
        "row 3, 动作", "row 4, ID", "row 5, 核销金额", "row 6, 备注", "row 7, 对象",
    ]  # fmt: skip
    assert counts(ledger) == before  # nothing written, not even the good row 2


def test_a_file_that_is_not_a_queue_is_refused(recon, tmp_path):
    with pytest.raises(ActionFileError, match="file: no header row"):
        recon.apply_actions(b"a,b\n1,2\n", actor=ACTOR)
    with pytest.raises(ActionFileError, match="XLSX"):
        recon.apply_actions(b"PK\x03\x04 not really a zip", actor=ACTOR)
