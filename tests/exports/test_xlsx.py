"""The streaming XLSX writer on its own: what a spreadsheet program needs (styles, frozen
header, widths, autofilter), text it must not misread, money past a float's precision, and
sheets continued past Excel's row limit. Read back with openpyxl."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import openpyxl
import pytest

from zhangben.exports import xlsx
from zhangben.exports.layout import DATETIME_FORMAT, FLOW_COLUMNS, MONEY_FORMAT, Column
from zhangben.exports.xlsx import XlsxStream, column_letter, escape, money_text

from .support import SH

COLUMNS = (
    Column("t", "文本", "text", 12),
    Column("m", "金额", "money", 14),
    Column("d", "时间", "datetime", 20),
    Column("i", "号", "integer", 8),
)


def write(rows_batches, columns=COLUMNS, name="流水") -> bytes:
    stream = XlsxStream(columns, SH, name)
    data = b"".join(stream.add(batch) for batch in rows_batches)
    return data + stream.close()


def book(data: bytes, **kw):
    return openpyxl.load_workbook(io.BytesIO(data), **kw)


def test_cells_styles_and_layout():
    when = datetime(2026, 10, 1, 0, 0, 1, 250000, tzinfo=UTC)
    data = write([[("甲", 123456, when, 7), (None, -5, None, None)], [("乙", 0, when, 2**40)]])
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    sheet = book(data)["流水"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:D4"
    assert [c.value for c in sheet[1]] == ["文本", "金额", "时间", "号"] and sheet["A1"].font.b
    assert [sheet.column_dimensions[col].width for col in "ABCD"] == [12, 14, 20, 8]
    assert sheet["B2"].value == 12.3456 and sheet["B2"].number_format == MONEY_FORMAT
    assert sheet["B3"].value == -0.0005 and sheet["B4"].value == 0
    assert sheet["C2"].number_format == DATETIME_FORMAT
    assert sheet["C2"].value == datetime(2026, 10, 1, 8, 0, 1, 250000)  # local time
    assert sheet["D4"].value == 2**40 and sheet["D4"].number_format == "0"
    assert sheet["A3"].value is None and sheet["C3"].value is None


def test_money_keeps_four_places_as_text_in_the_xml():
    data = write([[("x", -123456789012345, None, None)]])
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>-12345678901.2345</v>" in xml  # 15 digits: a number, exactly
    assert money_text(-123456789012345) == "-12345678901.2345" and money_text(5) == "0.0005"


def test_money_beyond_fifteen_digits_is_text_digit_for_digit():
    data = write([[("x", 10**15, None, None), ("y", -(10**18) + 1, None, None)]])
    sheet = book(data, read_only=True)["流水"]
    values = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == ["100000000000.0000", "-99999999999999.9999"]


@pytest.mark.parametrize(
    ("text", "xml"),
    [
        ("a<b>&c", "a&lt;b&gt;&amp;c"),
        ("bell\x07", "bell_x0007_"),
        ("_x0041_", "_x005F_x0041_"),  # literal: Excel would read _x0041_ as "A"
        ("cr\r", "cr&#13;"),
        ("=SUM(A1)", "=SUM(A1)"),  # an inline string is never a formula
        ("x" * 40000, "x" * 32767),
    ],
)
def test_text_that_excel_reads_back_unchanged(text, xml):
    assert escape(text) == xml


def test_hostile_text_survives_a_reader():
    texts = ["  leading and trailing  ", "line\nbreak", 'quote "q" & <tag>', "表情😀"]
    data = write([[(t, None, None, None) for t in texts]])
    sheet = book(data, read_only=True)["流水"]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == texts


def test_sheets_continue_past_the_row_limit(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 4)  # a header and 3 rows per sheet
    rows = [(f"r{i}", i, None, i) for i in range(8)]
    stream = XlsxStream(COLUMNS, SH, "流水")
    data = stream.add(rows[:5]) + stream.add(rows[5:]) + stream.close()
    assert stream.sheet_names == ["流水", "流水 (2)", "流水 (3)"]
    loaded = book(data)
    assert loaded.sheetnames == ["流水", "流水 (2)", "流水 (3)"]
    seen = []
    for sheet in loaded.worksheets:
        assert sheet["A1"].value == "文本" and sheet.freeze_panes == "A2"
        seen += [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert seen == [f"r{i}" for i in range(8)]
    assert loaded.worksheets[2].auto_filter.ref == "A1:D3"


def test_a_big_sheet_stays_below_zip64(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_SHEET_BYTES", 2_000)
    data = write([[("x" * 100, 1, None, 1)] * 60])
    loaded = book(data, read_only=True)
    assert len(loaded.sheetnames) > 2
    assert sum(len(list(s.iter_rows(min_row=2))) for s in loaded.worksheets) == 60


def test_column_letters_and_flow_layout():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA",
    ]  # fmt: skip
    assert len(FLOW_COLUMNS) == len({c.key for c in FLOW_COLUMNS}) == 21
    assert all(c.width >= 6 for c in FLOW_COLUMNS)
