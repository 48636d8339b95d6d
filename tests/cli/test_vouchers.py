"""``zhangben voucher …`` (on SQLite; the facade runs on both databases): books, 科目 imported,
accounts mapped, rules replaced, a preview listing unmapped flows, a flow tested; every refusal
one line, exit 1, nothing written."""

from __future__ import annotations

import json
import re

import pytest

from tests.vouchers.support import MONTH, import_month, month_entry_ids


@pytest.fixture
def book(cli, ledger, tmp_path):
    import_month(ledger, tmp_path)
    out = cli("voucher", "book", "add", "U8", "--product", "u8_xml", "--shop", "S3",
              "--standard", "sbe2013").output  # fmt: skip
    assert "book U8: u8_xml, sbe2013, shop S3" in out and "rounding to 5603.99" in out
    return "U8"


def test_books_chart_map_rules_preview_and_test(cli, book, ledger, tmp_path):
    assert "U8" in cli("voucher", "book", "list").output
    chart = cli("voucher", "chart", "list", "--book", book).output
    assert "5603.01" in chart and "6603.01" not in chart
    cli("voucher", "map", "ALI", "1012.02", "--book", book, "--aux", "客户=天猫A店")
    entry = month_entry_ids(ledger)[0]
    tested = cli("voucher", "test", str(entry), "--book", book).output
    assert "rule 收款" in tested and "1012.02" in tested
    rules = json.loads(cli("voucher", "rules", "--book", book).output)
    path = tmp_path / "rules.json"
    path.write_text(json.dumps([r for r in rules if r["name"] != "平台收入"]), "utf-8")
    assert f"{len(rules) - 1} rules" in cli("voucher", "rules", "--book", book, "--set",
                                            str(path)).output  # fmt: skip
    preview = cli("voucher", "generate", MONTH, "--book", book, "--preview").output
    assert re.search(r"未映射业务类型: 京东钱包/平台收入, \d+ 笔", preview)
    both = cli("voucher", "rules", "--book", book, "--set", str(path), "--add-defaults", ok=False)
    assert both.exit_code == 1 and "one or the other" in both.output
    refused = cli("voucher", "generate", MONTH, "--book", book, ok=False)
    assert refused.exit_code == 1 and "未映射业务类型: 京东钱包/平台收入" in refused.output
    assert "│" not in cli("voucher", "batches", "--book", book).output  # no batch row
    jd = month_entry_ids(ledger)[-1]
    none = cli("voucher", "test", str(jd), "--book", book, ok=False)
    assert none.exit_code == 1 and "no rule matches" in none.output
    # the default it lacks, back after its own rules; then nothing more to add
    added = cli("voucher", "rules", "--book", book, "--add-defaults").output
    assert "added 平台收入" in added and "1 default rules added" in added
    assert json.loads(cli("voucher", "rules", "--book", book).output)[-1]["name"] == "平台收入"
    assert "0 default rules added" in cli("voucher", "rules", "--book", book,
                                          "--add-defaults").output  # fmt: skip
    assert "rule 平台收入" in cli("voucher", "test", str(jd), "--book", book).output


def test_refusals_are_one_line(cli, book, tmp_path):
    bad = cli("voucher", "book", "add", "X", "--product", "sap", ok=False)
    assert bad.exit_code == 1 and "product: 'sap' is not one of" in bad.output
    dup = tmp_path / "科目表.csv"
    dup.write_text("科目编码,科目名称\n1002,银行存款\n1002,银行\n", encoding="utf-8")
    out = cli("voucher", "chart", "import", str(dup), "--book", book, ok=False).output
    assert "duplicate code 1002 (lines 2 and 3)" in out
    leaf = cli("voucher", "map", "ALI", "1012", "--book", book, ok=False).output
    assert "科目 1012 is not a leaf" in leaf
    notjson = tmp_path / "rules.json"
    notjson.write_text("[", encoding="utf-8")
    assert "not JSON" in cli("voucher", "rules", "--book", book, "--set", str(notjson),
                             ok=False).output  # fmt: skip
    template = tmp_path / "t.xlsx"
    template.write_bytes(b"PK not a workbook")
    out = cli("voucher", "book", "add", "K3", "--product", "k3cloud_xlsx", "--template",
              str(template), ok=False).output  # fmt: skip
    assert "template" in out
    assert "K3" not in cli("voucher", "book", "list").output
