"""Reading bill files: cell cleaning, header normalisation, spreadsheet values, XLSX line
numbers and ZIP members. (Streams of whole files are exercised through each format's tests.)"""

import zipfile
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from zhangben.demo import bills as s
from zhangben.imports import BillFormatError, extract, normalize_header
from zhangben.imports.files import _member_name, cell_text, clean_cell

SH = ZoneInfo("Asia/Shanghai")
D = Decimal


def test_cleaning_and_header_normalisation():
    assert clean_cell("`4200001234\t") == "4200001234"
    assert clean_cell("\ufeff账务流水号") == "账务流水号"
    assert clean_cell("  54632446537371\t") == "54632446537371"
    assert normalize_header("收入金额（+元）") == normalize_header(" 收入金额 (+元)\t")
    assert normalize_header("`计划ID") == normalize_header("计划id")


def test_cell_text_for_spreadsheet_values():
    assert cell_text(None) == ""
    assert cell_text(12.5) == "12.5"
    assert cell_text(100.0) == "100"
    assert cell_text(0.1 + 0.2) == "0.30000000000000004"  # then rejected as an amount
    assert cell_text(datetime(2024, 3, 1, 9, 59, 59, 999_700)) == "2024-03-01 10:00:00"


def test_zip_member_names_in_gbk_are_decoded():
    info = zipfile.ZipInfo("x")
    info.filename = "2088_账务明细(汇总).csv".encode("gbk").decode("cp437")
    info.flag_bits = 0
    assert _member_name(info) == "2088_账务明细(汇总).csv"


def test_zip_without_detail_is_an_error(tmp_path):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a_汇总.csv", "x")
    with pytest.raises(BillFormatError, match="detail CSV"):
        extract(path)


def test_xlsx_line_numbers_count_empty_sheet_rows(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.cell(row=3, column=1, value="#京东精准通账单")
    for j, h in enumerate(s.JZT_HEADERS, 1):
        ws.cell(row=5, column=j, value=h)
    for j, v in enumerate(["J1", "acc", datetime(2024, 3, 2), "扣费", 881, 12.5], 1):
        ws.cell(row=8, column=j, value=v)
    wb.save(tmp_path / "z.xlsx")
    ex = extract(tmp_path / "z.xlsx")
    assert ex.header_line == 5
    (row,) = ex.rows()
    assert (row.line, row.expense, row.extra["plan_id"]) == (8, D("12.5"), "881")
    assert row.trade_time == datetime(2024, 3, 2, tzinfo=SH)
