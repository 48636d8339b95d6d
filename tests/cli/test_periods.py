"""``zhangben period close|reopen|list|show|check|verify`` and the refusal of a posting dated into
a closed period, through Typer's runner (on SQLite; the facade on both databases)."""

import pytest


@pytest.fixture
def books(cli):
    cli("account", "add", "ACC001", "测试账户", "--shop", "S001")
    cli("account", "add", "ALI", "支付宝", "--type", "alipay", "--shop", "S002", "--overdraft")
    cli("post", "income", "ACC001", "1000", "--time", "2024-03-05 10:00:00")
    cli("post", "expense", "ACC001", "250.5", "--time", "2024-03-06 10:00:00")
    cli("post", "income", "ALI", "8", "--time", "2024-03-06 10:00:00")
    return cli


def test_close_refuse_reopen_list_show_verify(books):
    cli = books
    out = cli("period", "close", "2024-03", "--shop", "S001").output
    assert "closed period 2024-03 of shop S001: 1 accounts, sha256 " in out
    assert "1000.00" in out and "250.50" in out and "749.50" in out
    refused = cli("post", "income", "ACC001", "1", "--time", "2024-03-20 10:00:00", ok=False)
    assert refused.exit_code == 1
    assert (
        "error: period 2024-03 is closed (shop S001 is closed through 2024-03): account ACC001 "
        "takes no entry dated 2024-03-20 10:00:00; date a correction on or after 2024-04-01"
    ) in refused.output
    cli("post", "income", "ACC001", "1", "--time", "2024-04-01 00:00:00")  # after it: written
    listed = cli("period", "list").output
    assert "2024-03" in listed and "shop S001" in listed and "closed" in listed
    assert "shop S001 is closed through 2024-03" in listed
    assert "already" in cli("period", "close", "2024-03", "--shop", "S001", ok=False).output
    no_reason = cli("period", "reopen", "2024-03", "--shop", "S001", ok=False)
    assert "reason: is required" in no_reason.output
    out = cli("period", "reopen", "2024-03", "--shop", "S001", "--reason", "补记漏单").output
    assert "reopened period 2024-03 of shop S001: 补记漏单" in out
    shown = cli("period", "show", "2024-03", "--shop", "S001").output
    assert "period 2024-03 of shop S001: reopened" in shown
    assert "reopen by cli" in shown and "补记漏单" in shown
    cli("post", "income", "ACC001", "1", "--time", "2024-03-20 10:00:00")  # open again
    cli("period", "close", "2024-03", "--shop", "S001", "--operator", "finance", ok=False)
    cli("user", "add", "finance", "--role", "staff", "--password", "finance-pass-1")
    cli("period", "close", "2024-03", "--shop", "S001", "--operator", "finance")
    assert "close by user:finance" in cli("period", "show", "2024-03", "--shop", "S001").output
    assert "periods OK: 1 closed periods checked" in cli("period", "verify").output
    assert "periods OK: 1 closed periods checked" in cli("verify").output


def test_checks_are_listed_and_force_acknowledges_them(books):
    cli = books
    check = cli("period", "check", "2024-03", "--shop", "S002", ok=False)
    assert check.exit_code == 1
    assert "[missing_import_days] account ALI: no import for 2024-03-01..2024-03-31" in (
        check.output
    )
    refused = cli("period", "close", "2024-03", "--shop", "S002", ok=False)
    assert "period 2024-03 of shop S002 cannot be closed: 1 check(s) failed:" in refused.output
    assert "[missing_import_days] account ALI" in refused.output
    assert "--force" in refused.output
    assert "no period has been closed" in cli("period", "list").output
    out = cli("period", "close", "2024-03", "--shop", "S002", "--force").output
    assert "acknowledged [missing_import_days] account ALI" in out
    assert "every check passed" in cli("period", "check", "2024-03", "--shop", "S001").output


@pytest.mark.parametrize(
    "args,message",
    [
        (["close", "2026-13"], "month: '2026-13' is not a month like 2026-10"),
        (["close", "2024-03", "--shop", "S404"], "shop: no account has shop code 'S404'"),
        (["close", "2999-01"], "period 2999-01 of the ledger has not ended"),
        (["reopen", "2024-03", "--reason", "x"], "period 2024-03 of the ledger is not closed"),
        (["show", "24-03"], "month: '24-03' is not a month"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(books, args, message):
    result = books("period", *args, ok=False)
    assert result.exit_code == 1 and message in result.output
