"""金蝶云星空 voucher workbook: the customer's header rows, head fields once per voucher, codes
as text, amounts with two decimals, dimensions by their label; bad templates refused."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook

from tests.vouchers.writers.golden import check_golden, xlsx_cells
from tests.vouchers.writers.templates import (
    FIXTURES,
    K3_DEFAULT_DIMS,
    check_built,
    k3cloud_template,
)
from zhangben.vouchers.writers import WRITERS, TemplateError
from zhangben.vouchers.writers.k3cloud_xlsx import SHEET

WRITER = WRITERS["k3cloud_xlsx"]
CUSTOMER = (FIXTURES / "k3cloud_customer.xlsx").read_bytes()


def _sheet(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == [SHEET]
    return wb[SHEET]


def _rows(ws) -> list[dict]:
    keys = [c.value for c in ws[1]]
    return [
        {k: c for k, c in zip(keys, row, strict=True) if c.value is not None}
        for row in ws.iter_rows(min_row=3)
    ]


@pytest.mark.parametrize("name", ["k3cloud_voucher.xlsx", "k3cloud_customer.xlsx"])
def test_the_shipped_templates_are_what_the_builders_make(name):
    check_built(name)


def test_customer_template_drives_the_columns(book, vouchers):
    data = WRITER.write(book, vouchers, CUSTOMER)
    check_golden("k3cloud.xlsx", data, xlsx_cells, exact=False)
    ws = _sheet(data)
    template = load_workbook(io.BytesIO(CUSTOMER))[SHEET]
    for n in (1, 2):
        assert [c.value for c in ws[n]] == [c.value for c in template[n]]
    rows = _rows(ws)
    assert len(rows) == sum(len(v.lines) for v in vouchers) == 9
    # head fields on each voucher's first row only
    heads = [r for r in rows if "FBillHead(GL_VOUCHER)" in r]
    assert [r["FBillHead(GL_VOUCHER)"].value for r in heads] == [1, 2, 3, 4]
    assert [r["FVOUCHERGROUPNO"].value for r in heads] == [1, 2, 3, 4]
    assert [rows.index(r) for r in heads] == [0, 2, 5, 7]
    assert not any("FDate" in r or "FAccountBookID" in r for r in rows if r not in heads)
    first = heads[0]
    assert first["FDate"].value == datetime(2026, 10, 1)
    assert first["FVOUCHERGROUPID"].value == "PRE001"
    assert first["FATTACHMENTS"].value == 3
    assert (first["FYEAR"].value, first["FPERIOD"].value) == (2026, 10)
    # codes are text cells formatted as text, even a code that looks like a number
    bank = rows[5]["FACCOUNTID"]
    assert (bank.value, bank.data_type, bank.number_format) == ("1002", "s", "@")
    assert rows[0]["FAccountBookID"].value == "001"
    # amounts: numbers shown with 2 decimals; the red voucher negative on its own side
    debit = rows[0]["FDEBIT"]
    assert (debit.value, debit.number_format) == (12345.67, "0.00")
    assert "FCREDIT" not in rows[0] and rows[1]["FCREDIT"].value == 12345.67
    assert rows[7]["FDEBIT"].value == -123.45 and rows[8]["FCREDIT"].value == -123.45
    for v, group in zip(vouchers, [rows[0:2], rows[2:5], rows[5:7], rows[7:9]], strict=True):
        debit = sum(round(r["FDEBIT"].value * 100) for r in group if "FDEBIT" in r)
        credit = sum(round(r["FCREDIT"].value * 100) for r in group if "FCREDIT" in r)
        assert debit == credit == v.debit_total
    # dimensions land in the column whose label names them; an unknown one stays blank
    assert rows[1]["FDetailID#FF100002"].value == "TM-A"
    assert rows[2]["FDetailID#FF100003"].value == "电商部"
    assert not any("FDetailID#FFLEX9" in r for r in rows)


def test_no_template_uses_the_shipped_stand_in(book, vouchers):
    rows = _rows(_sheet(WRITER.write(book, vouchers, None)))
    assert rows[1]["FDetailID#FFLEX6"].value == "TM-A"  # 客户 in the stand-in
    assert rows[2]["FDetailID#FFLEX5"].value == "电商部"  # 部门


def _xlsx(sheet: str, rows: list[list]) -> bytes:
    wb = Workbook()
    wb.active.title = sheet
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("template", "named"),
    [
        (b"PK\x03\x04 not really", "not an xlsx workbook"),
        (b"FDATE,FNUM\n", "not an xlsx workbook"),
        (_xlsx("Sheet1", [["FBillHead(GL_VOUCHER)"]]), "no sheet '凭证#单据头(FBillHead)'"),
        (_xlsx(SHEET, []), "lacks the keys FBillHead(GL_VOUCHER), FAccountBookID"),
        (
            k3cloud_template(K3_DEFAULT_DIMS, drop=("*Split*1", "FDEBIT")),
            "lacks the keys *Split*1, FDEBIT",
        ),
    ],
)
def test_bad_templates_are_refused_naming_what_is_missing(book, vouchers, template, named):
    with pytest.raises(TemplateError) as refused:
        WRITER.check_template(template)
    assert named in refused.value.message
    assert refused.value.code == "voucher_template_invalid"
    with pytest.raises(TemplateError):
        WRITER.write(book, vouchers, template)
