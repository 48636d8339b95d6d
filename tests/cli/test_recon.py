"""``zhangben recon …`` through Typer's runner, on SQLite: the newcomer's walk
through the samples (docs/reconciliation.md), every planted case in its queue, a match by
hand, its undo, a forced match, an exported queue and the audit trail."""

import re

from openpyxl import load_workbook

from zhangben.demo.orders import PLANTED


def test_the_samples_walkthrough(cli, tmp_path):
    out = cli("import-samples", str(tmp_path), "--rows", "20").output
    assert "orders_2024-03.csv" in out and "wechat_2024-03.csv" in out
    cli("account", "add", "WX-S001", "微信支付-旗舰店", "--type", "wechat", "--shop", "S001")
    cli("import", str(tmp_path / "wechat_2024-03.csv"), "--account", "WX-S001")
    out = cli("recon", "import", str(tmp_path / "orders_2024-03.csv"), "--shop", "S001").output
    assert "56 lines, 56 new, 0 already imported" in out
    out = cli("recon", "import", str(tmp_path / "orders_2024-03.csv"), "--shop", "S001").output
    assert "56 lines, 0 new, 56 already imported" in out
    before = cli("recon", "queues").output
    assert "56 exception(s)" in before  # every expected line overdue: nothing matched yet
    dry = cli("recon", "run", "--dry-run").output
    assert "dry run (nothing written)" in dry and "auto exact: 24" in dry
    assert cli("recon", "queues").output == before  # the dry run wrote nothing
    out = cli("recon", "run").output
    assert "run 1:" in out and "auto within_tolerance: 3" in out
    queues = cli("recon", "queues").output
    assert "6 exception(s)" in queues

    def rows(name: str) -> list[list[str]]:
        out = cli("recon", "queue", name).output
        return [line.split("│")[1:-1] for line in out.splitlines() if line.count("│") > 3]

    for name, order in (
        ("已发货未收款", PLANTED.never_paid), ("已退款未退出", PLANTED.refund_not_out),
        ("到账无订单", PLANTED.no_order), ("疑似重复", PLANTED.paid_twice),
        ("金额差异", PLANTED.difference),
    ):  # fmt: skip
        assert {r[3].strip() for r in rows(name)} == {order}, name

    orphan = rows("到账无订单")[0][1].strip()
    sale = next(r[1].strip() for r in rows("已发货未收款") if "sale" in r[7])
    out = cli("recon", "match", "--expected", f"{sale}:66.20", "--actual", orphan, "--preview")
    assert "difference 0.00: exact" in out.output
    refused = cli("recon", "match", "--expected", sale, "--actual", orphan, ok=False)
    assert refused.exit_code == 1 and "needs a gap type (or force)" in refused.output
    no_memo = cli("recon", "match", "--expected", sale, "--actual", orphan, "--force", ok=False)
    assert "memo: needs at least 4 characters" in no_memo.output
    out = cli("recon", "match", "--expected", f"{sale}:66.20", "--actual", orphan).output
    group = re.search(r"matched group (\d+) \((HX[\d-]+)\): exact", out)
    assert group, out
    again = cli("recon", "match", "--expected", f"{sale}:1", "--actual", orphan, ok=False)
    assert f"bill row {orphan} is applied in full already (amount 66.20)" in again.output
    over = cli("recon", "match", "--expected", f"{sale}:453.81", "--actual", orphan, ok=False)
    assert "applying 453.81 would exceed its open amount 453.80" in over.output
    assert "undone group" in cli("recon", "undo", group[2], "--reason", "wrong order").output
    assert "reason: is required" in cli("recon", "undo", group[1], ok=False).output
    out = cli("recon", "match", "--expected", sale, "--actual", orphan, "--force",
              "--memo", "buyer paid the rest in cash").output  # fmt: skip
    assert "forced" in out and "difference -453.80" in out

    xlsx = tmp_path / "dupes.xlsx"
    out = cli("recon", "queue", "duplicate", "--xlsx", str(xlsx)).output
    sheet = load_workbook(xlsx).active
    assert sheet.title == "疑似重复" and sheet.max_row == 2  # the header and the one row
    assert [c.value for c in sheet[1]][-1] == "动作"

    events = cli("recon", "events", "--group", group[1]).output
    assert "undone" in events and "matched" in events and "wrong order" in events
    assert "hash chain intact" in cli("recon", "verify").output
    assert re.search(r"recon OK: \d+ reconciliation events checked", cli("verify").output)
    unknown = cli("recon", "queue", "nope", ok=False)
    assert "no queue 'nope'" in unknown.output


def test_a_bad_order_file_names_line_and_column_and_writes_nothing(cli, tmp_path):
    bad = tmp_path / "orders.csv"
    bad.write_text("订单号,类型,金额,发生时间\nA1,sale,1.00,2024-03-01\nA2,gift,2,2024-03-01\n")
    out = cli("recon", "import", str(bad), "--shop", "S1", ok=False)
    assert out.exit_code == 1 and "line 3, 类型: unknown kind 'gift'" in out.output
    assert "0 exception(s)" in cli("recon", "queues").output
    out = cli("recon", "events").output
    assert "imported" not in out


def _recon_ready(cli, tmp_path) -> None:
    cli("import-samples", str(tmp_path), "--rows", "20")
    cli("account", "add", "WX-S001", "微信支付-旗舰店", "--type", "wechat", "--shop", "S001")
    cli("import", str(tmp_path / "wechat_2024-03.csv"), "--account", "WX-S001")
    cli("recon", "import", str(tmp_path / "orders_2024-03.csv"), "--shop", "S001")
    cli("recon", "run")


def test_recon_apply_dry_runs_applies_and_refuses_a_bad_file(cli, tmp_path):
    _recon_ready(cli, tmp_path)
    xlsx = tmp_path / "orphans.xlsx"
    cli("recon", "queue", "到账无订单", "--xlsx", str(xlsx))
    book = load_workbook(xlsx)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    orphan = sheet.cell(2, header.index("ID") + 1).value
    sheet.cell(2, header.index("动作") + 1).value = "忽略"
    sheet.cell(2, header.index("备注") + 1).value = "a test payment"
    book.save(xlsx)

    dry = cli("recon", "apply", str(xlsx), "--dry-run").output
    assert "would apply" in dry and "dry run (nothing written): 1 would apply" in dry
    assert f"忽略 bill row {orphan}: a test payment" in dry
    assert "1 row(s), total 66.20" in cli("recon", "queue", "到账无订单").output  # still there
    out = cli("recon", "apply", str(xlsx)).output
    assert "applied 1 row(s), 0 done already" in out
    assert "0 row(s)" in cli("recon", "queue", "到账无订单").output
    assert "applied 0 row(s), 1 done already" in cli("recon", "apply", str(xlsx)).output
    events = cli("recon", "events", "--limit", "2").output
    assert "file_applied" in events and "ignored" in events

    sheet.cell(2, header.index("动作") + 1).value = "删除"
    sheet.append(["bill_row", 999_999, "", "", None, None, None, "", "", None, "", "忽略"])
    book.save(xlsx)
    before = cli("recon", "events").output
    out = cli("recon", "apply", str(xlsx), ok=False)
    assert out.exit_code == 1
    assert "row 2, 动作: unknown action '删除'" in out.output
    assert "row 3, ID: bill row 999999 does not exist" in out.output
    assert "2 problem(s); nothing applied" in out.output
    assert cli("recon", "events").output == before
    out = cli("recon", "apply", str(tmp_path / "orders_2024-03.csv"), ok=False)
    assert "file: no header row with the columns 对象, ID, 动作" in out.output


def test_a_forced_match_above_the_amount_waits_for_a_second_person(cli, tmp_path, monkeypatch):
    from zhangben.settings import get_settings

    monkeypatch.setenv("ZHANGBEN_RECON_FORCE_APPROVAL_ABOVE", "100")
    get_settings.cache_clear()
    monkeypatch.setattr("zhangben.cli.common.get_settings", get_settings)
    _recon_ready(cli, tmp_path)
    cli("user", "add", "boss2", "--role", "supervisor", "--password", "password-boss2")
    orphan = next(
        line.split("│")[2].strip()
        for line in cli("recon", "queue", "到账无订单").output.splitlines()
        if line.count("│") > 3
    )
    sale = next(
        line.split("│")[2].strip()
        for line in cli("recon", "queue", "已发货未收款").output.splitlines()
        if "sale" in line
    )
    forced = ("recon", "match", "--expected", sale, "--actual", orphan, "--force", "--memo",
              "buyer paid the rest in cash")  # fmt: skip
    out = cli(*forced).output
    group = re.search(r"matched group (\d+) \(HX[\d-]+\): forced", out)[1]
    assert "pending: its lines are held until a second person approves it" in out
    assert "0 exception" not in cli("recon", "queues").output
    same = cli("recon", "approve", group, ok=False)
    assert same.exit_code == 1 and "a second, different person must approve" in same.output
    assert "reason: is required" in cli("recon", "reject", group, "--operator", "boss2",
                                        ok=False).output  # fmt: skip
    out = cli("recon", "reject", group, "--reason", "no proof", "--operator", "boss2").output
    assert f"rejected group {group}" in out
    again = re.search(r"matched group (\d+)", cli(*forced).output)[1]
    out = cli("recon", "approve", again, "--operator", "boss2", "--memo", "receipt seen").output
    assert f"approved group {again}" in out and "pending" not in out
    events = cli("recon", "events", "--group", again).output
    assert "approved" in events and "user:boss2" in events and "forced" in events
    assert "active" in cli("recon", "groups", "--state", "active").output
    get_settings.cache_clear()
