"""Postings from the command line: the operator's workflow (accounts, postings, transfers, flows,
balances, verify, reversal, chart) and bad input, through Typer's runner on SQLite."""

import pytest


def test_operator_workflow(cli):
    cli("db", "upgrade")
    cli("db", "upgrade")  # idempotent
    cli("account", "add", "ACC001", "测试账户", "--shop", "S001")
    cli("account", "add", "ACC002", "备用账户", "--type", "backup")
    out = cli("post", "income", "ACC001", "1000", "--trade-no", "T1", "--remark", "销售收款").output
    assert "1000.00" in out and "T1" in out
    assert (
        "idempotent replay"
        in cli(
            "post", "income", "ACC001", "1000", "--trade-no", "T1", "--remark", "销售收款"
        ).output
    )
    assert (
        "different request"
        in cli("post", "income", "ACC001", "1000", "--trade-no", "T1", ok=False).output
    )
    out = cli("transfer", "ACC001", "ACC002", "3", "--time", "2024-01-01 10:00:00").output
    assert "997.00" in out and "transfer_in" in out
    out = cli("balance").output
    assert "997.00" in out and "3.00" in out
    assert (
        "2 entries in all"
        in cli(
            "flows",
            "--account",
            "ACC002",
            "--account",
            "ACC001",
            "--type",
            "transfer_in",
            "--type",
            "transfer_out",
        ).output
    )
    assert "as of" in cli("balance", "ACC001", "--as-of", "2024-01-01 09:59:59").output
    assert "OK" in cli("verify").output
    out = cli("reverse", "--transfer", "2").output
    assert "reversal" in out
    assert "1000.00" in cli("account", "show", "ACC001").output
    cli("account", "close", "ACC002")
    assert "closed" in cli("account", "list").output
    assert "内部转账" in cli("chart", "list").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["post", "income", "ACC001", "--", "-5"], "negative"),
        (["post", "income", "ACC001", "1.23456"], "decimal places"),
        (["post", "income", "NOPE", "1"], "does not exist"),
        (["post", "expense", "ACC001", "1"], "does not allow overdraft"),
        (["transfer", "ACC001", "ACC001", "1"], "two different accounts"),
        (["flows", "--start", "yesterday"], "not a time"),
        (["reverse"], "either"),
        (["account", "add", "ACC001", "dup"], "already exists"),
    ],
)
def test_bad_input_prints_one_line_and_fails(cli, args, message):
    cli("account", "add", "ACC001", "测试账户")
    result = cli(*args, ok=False)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_transfer_shows_its_id_and_reverse_takes_it(cli):
    """`transfer` prints the transfer's id, `flows` shows it on both legs, and
    `reverse --transfer` takes what was shown (issue 14, point 18)."""
    import re

    cli("account", "add", "ACC001", "测试账户")
    cli("account", "add", "ACC002", "备用账户")
    cli("post", "income", "ACC001", "100")
    cli("post", "income", "ACC001", "1")  # postings and transfers share one numbering
    out = cli("transfer", "ACC001", "ACC002", "30", "--trade-no", "MOVE-1").output
    found = re.search(r"^transfer posted: transfer (\d+), trade no MOVE-1$", out, re.M)
    assert found, out
    transfer_id = found[1]
    replay = cli("transfer", "ACC001", "ACC002", "30", "--trade-no", "MOVE-1").output
    assert f"transfer already posted (idempotent replay): transfer {transfer_id}," in replay
    flows = cli("flows", "--type", "transfer_out", "--type", "transfer_in").output
    legs = [line for line in flows.splitlines() if "MOVE-1" in line]
    assert len(legs) == 2, flows
    for leg in legs:  # id │ transfer │ trade no …
        cells = [cell.strip() for cell in leg.strip("│ ").split("│")]
        assert cells[1] == transfer_id and cells[2] == "MOVE-1", leg
    incomes = cli("flows", "--type", "income").output
    assert "transfer" in incomes  # the column, empty for postings that are not transfers
    for row in (line for line in incomes.splitlines() if "income" in line and "│" in line):
        assert [c.strip() for c in row.strip("│ ").split("│")][1] == ""
    out = cli("reverse", "--transfer", transfer_id).output
    assert out.startswith("reversal posted: posting ")
    assert "101.00" in cli("balance", "ACC001").output
    assert "already reversed" in cli("reverse", "--transfer", transfer_id, ok=False).output
