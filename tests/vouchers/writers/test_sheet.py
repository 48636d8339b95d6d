"""The one-sheet streaming XLSX of the voucher workbooks: exact money text, hostile text read
back as written."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from zhangben.vouchers.writers._sheet import SheetWriter, _money


def _as_excel_reads(text: str) -> str:
    """openpyxl leaves ST_Xstring escapes (``_x0001_``) as they are; Excel decodes them."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m[1], 16)), text)


@given(st.integers(-(10**17), 10**17), st.integers(0, 4))
def test_money_text_is_the_exact_decimal(minor, decimals):
    assert Decimal(_money(minor, decimals)) == Decimal(minor).scaleb(-decimals)


def test_cells_read_back_as_written():
    hostile = "a\x01b <&> _x0041_ \"'\t 天猫 𠀀"
    sheet = SheetWriter("凭证 <1>", decimals=2, frozen_rows=1)
    sheet.header(["摘要", 7, None, "x"])
    sheet.rows(
        ["text", "money", "date", "int"],
        [[hostile, -1_234_567_890_123, date(2026, 10, 31), 3], [None, 5, None, None]],
    )
    ws = load_workbook(io.BytesIO(sheet.close()))["凭证 <1>"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("摘要", 7, None, "x")
    assert _as_excel_reads(rows[1][0]) == hostile
    assert rows[1][1] == -12345678901.23
    assert rows[1][2].date() == date(2026, 10, 31) and rows[1][3] == 3
    assert rows[2] == (None, 0.05, None, None)
    assert ws.freeze_panes == "A2"
    assert [c.number_format for c in ws[2]] == ["@", "0.00", "yyyy-mm-dd", "General"]
