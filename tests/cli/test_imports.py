"""The import commands through Typer's runner, and the README walkthrough."""

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
    out = cli("import-samples", str(tmp_path), "--rows", "200")
    assert "alipay_2024-03.zip" in out and "tampered" in out
    cli("account", "add", "ALI001", "支付宝-旗舰店", "--type", "alipay", "--shop", "S001",
        "--overdraft")  # fmt: skip
    cli("account", "add", "JD001", "京东钱包-旗舰店", "--type", "jd_wallet", "--shop", "S001",
        "--overdraft")  # fmt: skip
    out = cli("import", str(tmp_path / "alipay_2024-03.zip"), "--account", "ALI001")
    assert "summary mismatch" not in out and "continuity" not in out
    out = cli("import", str(tmp_path / "jd_wallet_2024-03_tampered.csv"), "--account", "JD001")
    line = removed_index(200) + 2  # header on line 1: the row after the removed one
    assert "continuity breaks" in out and f"line {line}" in out
    out = cli("verify", code=1)
    assert f"line {line} of import" in out
    out = cli("import", str(tmp_path / "jd_wallet_2024-03.csv"), "--account", "JD001")
    assert "continuity" not in out
    assert "bills OK" in cli("verify")
