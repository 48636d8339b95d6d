"""The import commands through Typer's runner, and the README walkthrough."""

from decimal import Decimal as D

import pytest
from typer.testing import CliRunner

from zhangben.cli import app
from zhangben.demo import bills as s
from zhangben.demo.bills import removed_index

runner = CliRunner()


@pytest.fixture
def cli(db_url):
    def run(*args, code=0):
        result = runner.invoke(app, ["--db", db_url, *args])
        assert result.exit_code == code, result.output
        return result.output

    return run


def test_import_summary_rejection_and_records(cli, tmp_path):
    cli("account", "add", "ALI001", "支付宝", "--type", "alipay", "--overdraft")
    good = s.write_alipay_csv(tmp_path / "good.csv", s.chained_txns(20))
    rows = [s.alipay_row(t) for t in s.chained_txns(40)]
    rows[31]["收入金额（+元）"] = "12,3O"
    bad = s.write_alipay_csv(tmp_path / "bad.csv", rows)
    out = cli("import", str(good), str(bad), "--account", "ALI001", code=1)
    assert "good.csv → ALI001" in out and "rows/s" in out
    assert 'rejected bad.csv: line 37, 收入金额（+元）: "12,3O" is not an amount' in out
    out = cli("import", str(good), "--account", "ALI001")
    assert " 20 " in out  # all duplicates now
    out = cli("import", str(bad), "--account", "ALI001", "--skip-bad-rows")
    assert "skipped bad rows" in out and "line 37" in out
    out = cli("imports")
    assert "good.csv" in out and "bad.csv" in out and "warnings" in out
    assert out.count("alipay") >= 3
    out = cli("import", str(tmp_path / "missing.csv"), "--account", "ALI001", code=1)
    assert "missing.csv" in out


def test_import_rules(cli):
    out = cli("import-rules", "list", "--platform", "alipay")
    assert "在线支付" in out and "20 平台收入" in out
    out = cli("import-rules", "set", "alipay", "转账", "--subject", "6", "--direction", "expense")
    assert "alipay 转账 (expense) → 4/6" in out
    assert "6 其他支出" in cli("import-rules", "list")
    out = cli("import-rules", "set", "alipay", "转账", "--category", "1", "--subject", "6", code=1)
    assert "not under category" in out
    cli("import-rules", "delete", "alipay", "转账", "--direction", "expense")
    cli("import-rules", "delete", "alipay", "转账", "--direction", "expense", code=1)


def test_readme_walkthrough(cli, tmp_path):
    """The sample bills into accounts without overdraft: each opens at the platform's balance
    and ends at the platform's closing balance (the balance column of its last row)."""
    out = cli("import-samples", str(tmp_path), "--rows", "200")
    assert "alipay_2024-03.zip" in out and "tampered" in out
    cli("account", "add", "ALI001", "支付宝-旗舰店", "--type", "alipay", "--shop", "S001")
    cli("account", "add", "JD001", "京东钱包-旗舰店", "--type", "jd_wallet", "--shop", "S001")
    out = cli("import", str(tmp_path / "alipay_2024-03.zip"), "--account", "ALI001")
    assert "summary mismatch" not in out and "continuity" not in out
    assert "opening balance 25000.00 posted (期初余额, entry 1, dated 2024-02-29 23:59:59)" in out
    out = cli("import", str(tmp_path / "jd_wallet_2024-03_tampered.csv"), "--account", "JD001")
    line = removed_index(200) + 2  # header on line 1: the row after the removed one
    assert "continuity breaks" in out and f"line {line}" in out
    assert "opening balance 8000.00 posted" in out
    out = cli("verify", code=1)
    assert f"line {line} of import" in out
    assert f"drift: 1 problem(s)\n  - jd_wallet account JD001: the ledger parts from the " \
        f"platform at line {line} of jd_wallet_2024-03_tampered.csv" in out  # fmt: skip
    out = cli("import", str(tmp_path / "jd_wallet_2024-03.csv"), "--account", "JD001")
    assert "continuity" not in out and "opening" not in out
    out = cli("verify")
    assert "bills OK" in out and "drift OK: 2 accounts, 400 platform balances checked" in out
    closing = {
        "ALI001": s.month_of_txns(200, seed=11, start_balance=D("25000.00"))[-1].balance,
        "JD001": s.month_of_txns(200, seed=23, start_balance=D("8000.00"))[-1].balance,
    }
    for number, balance in closing.items():
        assert f"│ {number} " in (out := cli("balance", number)) and f" {balance:.2f} " in out
        assert (
            f"account {number} balance {balance:.2f}; the platform's balance at the last "
            f"row {balance:.2f}"
            in cli(
                "import",
                str(
                    tmp_path
                    / (  # fmt: skip
                        "alipay_2024-03.zip" if number == "ALI001" else "jd_wallet_2024-03.csv"
                    )
                ),
                "--account",
                number,
            )
        )


def test_no_opening_balance_and_the_mismatch_are_shown(cli, tmp_path):
    cli("import-samples", str(tmp_path), "--rows", "50")
    cli("account", "add", "JD001", "京东钱包", "--type", "jd_wallet", "--overdraft")
    path = str(tmp_path / "jd_wallet_2024-03.csv")
    out = cli("import", path, "--account", "JD001", "--no-opening-balance")
    assert (
        "opening balance mismatch: before the first row the ledger holds 0.00 and the "
        "platform 8000.00 (difference -8000.00); no opening entry: --no-opening-balance" in out
    )
    assert "drift: 1 problem(s)" in cli("verify", code=1)
    # an account with earlier entries: no opening entry, and a warning
    cli("account", "add", "JD002", "京东钱包二", "--type", "jd_wallet")
    cli("post", "income", "JD002", "100", "--time", "2024-01-01 00:00:00")
    txns = s.chained_txns(50, seed=99, start_balance=D("8000.00"))  # flows of its own
    other = str(s.write_jd_wallet_csv(tmp_path / "other.csv", txns))
    out = cli("import", other, "--account", "JD002", code=1)
    assert "the account does not allow overdraft (no opening balance was posted: the " \
        "account has entries before the file's first row; before the first row the ledger " \
        "holds 100.00, the platform 8000.00)" in " ".join(out.split())  # fmt: skip
