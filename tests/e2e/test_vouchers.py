"""The newcomer's vouchers (docs/vouchers.md, the "Done when" of issue 18) through the CLI, on
SQLite and PostgreSQL: the sample bills imported, the month's vouchers generated with the
default rules and written as the 金蝶云星空 workbook and the 用友 U8 XML, both read back balanced
and complete (every flow of the month in exactly one voucher); a flow reversed after export
gives a red (红字) voucher in the next batch."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from zhangben.cli import app
from zhangben.store.engine import make_engine

runner = CliRunner()
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def zb(db_url):
    def run(*args: str, ok: bool = True):
        result = runner.invoke(app, ["--db", db_url, *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


def k3_vouchers(path) -> dict[int, list[tuple[Decimal, Decimal]]]:
    """(借, 贷) of each entry row of the 星空 workbook, by voucher number (head row only)."""
    sheet = openpyxl.load_workbook(path)["凭证#单据头(FBillHead)"]
    keys = [c.value for c in sheet[1]]
    col = {k: i for i, k in enumerate(keys)}
    found, number = defaultdict(list), None
    for row in sheet.iter_rows(min_row=3, values_only=True):
        if row[col["FVOUCHERGROUPNO"]] not in (None, ""):
            number = int(row[col["FVOUCHERGROUPNO"]])
        d, c = (Decimal(str(row[col[k]] or 0)) for k in ("FDEBIT", "FCREDIT"))
        found[number].append((d, c))
    return found


def u8_vouchers(path) -> dict[int, list[tuple[Decimal, Decimal]]]:
    root = ET.parse(path).getroot()
    assert root.tag == "ufinterface" and root.get("billtype") == "gl"
    found = {}
    for v in root.iter("voucher"):
        number = int(v.findtext("voucher_head/voucher_id"))
        found[number] = [
            (Decimal(e.findtext("natural_debit_currency") or "0"),
             Decimal(e.findtext("natural_credit_currency") or "0"))
            for e in v.iter("entry")
        ]  # fmt: skip
    return found


def test_sample_month_to_vouchers_and_a_red_voucher(zb, db_url, tmp_path):
    zb("import-samples", str(tmp_path), "--rows", "300")
    zb("account", "add", "ALI-V", "支付宝-天猫A店", "--type", "alipay", "--shop", "S030")
    zb("account", "add", "JD-V", "京东钱包-京东店", "--type", "jd_wallet", "--shop", "S030")
    zb("import", str(tmp_path / "alipay_2024-03.zip"), "--account", "ALI-V")
    zb("import", str(tmp_path / "jd_wallet_2024-03.csv"), "--account", "JD-V")
    zb("voucher", "book", "add", "星空", "--product", "k3cloud_xlsx", "--shop", "S030",
       "--book-code", "001", "--org-code", "100", "--preparer", "张会计")  # fmt: skip
    xlsx, xml = tmp_path / "凭证-2024-03.xlsx", tmp_path / "凭证-2024-03.xml"
    out = zb("voucher", "generate", "2024-03", "--book", "星空", "--out", str(xlsx)).output
    batch = int(re.search(r"batch (\d+): (\d+) vouchers of 600 flows", out).group(1))
    zb("voucher", "export", str(batch), "--product", "u8_xml", "--out", str(xml))

    engine = make_engine(db_url)
    start, end = datetime(2024, 3, 1, tzinfo=TZ), datetime(2024, 4, 1, tzinfo=TZ)
    with engine.connect() as conn:
        month = conn.execute(
            sa.text("SELECT id, amount FROM entries WHERE trade_time >= :a AND trade_time < :b"),
            {"a": start.astimezone(UTC), "b": end.astimezone(UTC)},
        ).all()
        sources = conn.execute(
            sa.text(
                "SELECT entry_id, count(*) FROM voucher_sources WHERE live GROUP BY entry_id"
            )  # fmt: skip
        ).all()
    assert len(month) == 600
    assert {e for e, _ in sources} == {e for e, _ in month} and {n for _, n in sources} == {1}
    gross = sum(abs(a) for _, a in month) / Decimal(10000)

    for read in (k3_vouchers(xlsx), u8_vouchers(xml)):
        assert read and sorted(read) == list(range(1, len(read) + 1))
        for number, lines in read.items():
            assert sum(d for d, _ in lines) == sum(c for _, c in lines), number
        assert sum(d for lines in read.values() for d, _ in lines) == gross

    # a flow reversed after export: the next batch holds its red voucher
    entry = min(e for e, _ in month)
    zb("reverse", str(entry))
    now = datetime.now(TZ).strftime("%Y-%m")
    out = zb("voucher", "generate", now, "--book", "星空").output
    red = int(re.search(r"batch (\d+): 1 vouchers of 1 flows", out).group(1))
    shown = zb("voucher", "show", str(red)).output
    assert "冲销 2024-03 记-1" in shown and "-" in shown.split("冲销", 1)[1]
    again = zb("voucher", "generate", "2024-03", "--book", "星空", ok=False)
    assert again.exit_code == 1 and "already vouchered" in again.output
    listed = zb("voucher", "batches", "--book", "星空").output
    assert re.search(rf"{batch}\s*│\s*星空\s*│\s*2024-03\s*│\s*exported", listed)
    engine.dispose()
