"""T+ / 好会计 / 精斗云 / 柠檬云 voucher workbook: columns found by header text in the customer's
template, unknown headers blank, a template without the required headers refused."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook

from tests.vouchers.writers.golden import check_golden, xlsx_cells
from tests.vouchers.writers.templates import (
    FIXTURES,
    GENERIC_CUSTOMER,
    GENERIC_HEADERS,
    check_built,
    xlsx,
)
from zhangben.vouchers.writers import WRITERS, TemplateError
from zhangben.vouchers.writers.generic_xlsx import header_name

WRITER = WRITERS["generic_xlsx"]
CUSTOMER = (FIXTURES / "generic_customer.xlsx").read_bytes()


def _rows(data: bytes, header_row: int) -> tuple[object, list[dict]]:
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[header_row]]
    rows = [
        {h: c for h, c in zip(headers, row, strict=False) if c.value is not None}
        for row in ws.iter_rows(min_row=header_row + 1)
    ]
    return ws, rows


@pytest.mark.parametrize("name", ["generic_voucher.xlsx", "generic_customer.xlsx"])
def test_the_shipped_templates_are_what_the_builders_make(name):
    check_built(name)


@pytest.mark.parametrize(
    ("text", "name"),
    [("*日期", "日期"), ("借方金额(元)", "借方金额"), ("贷方金额（元）", "贷方金额"),
     (" 附件数 ", "附单据数"), ("科目代码", "科目编码"), ("备注", "备注"), (None, "")],
)  # fmt: skip
def test_header_names(text, name):
    assert header_name(text) == name


def test_customer_template_mapped_by_header_text(book, vouchers):
    data = WRITER.write(book, vouchers, CUSTOMER)
    check_golden("generic.xlsx", data, xlsx_cells, exact=False)
    ws, rows = _rows(data, 2)
    assert ws.title == "凭证导入"  # the sheet with the headers, not the notes before it
    assert [[c.value for c in r] for r in ws.iter_rows(max_row=2)] == [
        GENERIC_CUSTOMER[0] + [None] * 11,
        GENERIC_CUSTOMER[1],
    ]
    assert len(rows) == 9
    first = rows[0]
    assert first["*日期"].value == datetime(2026, 10, 1)
    assert first["凭证号"].value == "记-1"  # no 凭证字 column: the number carries the word
    assert first["附件数"].value == 3
    assert (first["*科目编码"].value, first["*科目编码"].data_type) == ("1012.01", "s")
    assert first["*科目编码"].number_format == "@"
    assert (first["借方金额(元)"].value, first["借方金额(元)"].number_format) == (12345.67, "0.00")
    assert "贷方金额（元）" not in first
    assert first["制单人"].value == "张会计"
    assert rows[1]["客户"].value == "TM-A" and rows[2]["部门"].value == "电商部"
    assert not any("备注" in r for r in rows)  # unknown header: blank
    assert rows[7]["借方金额(元)"].value == -123.45  # the red voucher
    for v in vouchers:
        lines = [r for r in rows if r["凭证号"].value == f"记-{v.number}"]
        debit = sum(round(r["借方金额(元)"].value * 100) for r in lines if "借方金额(元)" in r)
        credit = sum(round(r["贷方金额（元）"].value * 100) for r in lines if "贷方金额（元）" in r)
        assert debit == credit == v.debit_total


def test_no_template_uses_the_stand_in_with_every_header(book, vouchers):
    ws, rows = _rows(WRITER.write(book, vouchers, None), 1)
    assert [c.value for c in ws[1]] == GENERIC_HEADERS
    second = rows[1]
    assert (second["凭证字"].value, second["凭证号"].value) == ("记", 1)
    assert (second["分录序号"].value, second["原币金额"].value) == (2, 12345.67)
    assert (second["币别"].value, second["汇率"].value) == ("PRE001", 1)


@pytest.mark.parametrize(
    ("template", "named"),
    [
        (b"not a workbook", "not an xlsx workbook"),
        (xlsx({"S": [["日期", "凭证号", "金额"]]}),
         "no header row with 摘要, 科目编码, 借方金额, 贷方金额"),
        (xlsx({"S": [["摘要", "科目编码", "借方"]]}), "no header row with 贷方金额"),
        (xlsx({"S": [[None]] * 10 + [["摘要", "科目编码", "借方金额", "贷方金额"]]}),
         "no header row with 摘要"),
    ],
)  # fmt: skip
def test_bad_templates_are_refused_naming_the_missing_headers(book, vouchers, template, named):
    with pytest.raises(TemplateError) as refused:
        WRITER.check_template(template)
    assert named in refused.value.message
    with pytest.raises(TemplateError):
        WRITER.write(book, vouchers, template)


@pytest.mark.parametrize("product", ["generic_xlsx", "k3cloud_xlsx"])
@pytest.mark.parametrize(
    ("mib", "says"),
    [(20, "compressed 1,0"), (80, "would inflate to more than 64 MiB")],
)
def test_a_zip_bomb_template_is_refused_before_it_is_inflated(product, mib, says):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (mib * 1024 * 1024))
    with pytest.raises(TemplateError) as refused:
        WRITERS[product].check_template(out.getvalue())
    assert says in refused.value.message
