"""A one-sheet streaming XLSX for the voucher workbooks: header rows copied as they are, then
data rows of typed cells. Why not openpyxl: its write-only mode made 100k voucher lines of the
K/3 Cloud sheet in about 2½ minutes on this machine (a cell object per formatted cell); this
writes the rows' XML as text into the deflated entry, as :mod:`zhangben.exports.xlsx` does for
the flow exports (whose writer fits only its single bold header row and 4-decimal money), and
reuses its escaping. Tests read every workbook back with openpyxl."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date
from xml.sax.saxutils import quoteattr

from zhangben.exports.xlsx import column_letter, escape

_EXCEL_EPOCH = 693594  # date(1899, 12, 30).toordinal()
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NS = (
    'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
#: cell kinds → style index: a plain cell, text shown as text (``@``, built-in format 49),
#: money with the book's decimals (164), a date (165)
_STYLE = {"int": 0, "text": 1, "money": 2, "date": 3}


def _styles(decimals: int) -> str:
    money = "0." + "0" * decimals if decimals else "0"
    return (
        _HEAD + '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<numFmts count="2"><numFmt numFmtId="164" formatCode="{money}"/>'
        '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '</cellStyleXfs><cellXfs count="4">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _money(minor: int, decimals: int) -> str:
    """Exact decimal text of minor units: ``-1234, 2`` → ``-12.34``."""
    if not decimals:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10**decimals)
    return f"{sign}{whole}.{part:0{decimals}d}"


class SheetWriter:
    """``header(values)`` for the template's rows (texts as they are, numbers as numbers),
    then ``rows(kinds, rows)``: each row a sequence of values, ``None`` an empty cell, the
    kind per column one of ``text``, ``int``, ``money`` (integer minor units), ``date``.
    :meth:`close` returns the workbook's bytes."""

    def __init__(self, sheet_name: str, decimals: int, frozen_rows: int = 0) -> None:
        self.sheet_name, self.decimals = sheet_name, decimals
        self._out = io.BytesIO()
        self._zip = zipfile.ZipFile(self._out, "w", compression=zipfile.ZIP_DEFLATED,
                                    compresslevel=1)  # fmt: skip
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w")
        self._letters: list[str] = []
        self._n = 0
        view = ""
        if frozen_rows:
            top = f"A{frozen_rows + 1}"
            view = (
                '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
                f'<pane ySplit="{frozen_rows}" topLeftCell="{top}" activePane="bottomLeft" '
                'state="frozen"/></sheetView></sheetViews>'
            )
        self._write(f"{_HEAD}<worksheet {_NS}>{view}<sheetData>")

    def _write(self, text: str) -> None:
        self._sheet.write(text.encode("utf-8"))

    def _letter(self, i: int) -> str:
        while len(self._letters) <= i:
            self._letters.append(column_letter(len(self._letters)))
        return self._letters[i]

    def header(self, values: Sequence) -> None:
        self._n += 1
        n, cells = self._n, []
        for i, v in enumerate(values):
            if v is None or v == "":
                continue
            ref = f"{self._letter(i)}{n}"
            if isinstance(v, bool) or not isinstance(v, int | float):
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">'
                             f"{escape(str(v))}</t></is></c>")  # fmt: skip
            else:
                cells.append(f'<c r="{ref}"><v>{v!r}</v></c>')
        self._write(f'<row r="{n}">{"".join(cells)}</row>')

    def rows(self, kinds: Sequence[str], rows: Iterable[Sequence]) -> None:
        letters = [self._letter(i) for i in range(len(kinds))]
        decimals, parts, size = self.decimals, [], 0
        n = self._n
        for row in rows:
            n += 1
            cells = [f'<row r="{n}">']
            for letter, kind, v in zip(letters, kinds, row, strict=True):
                if v is None or v == "":
                    continue
                if kind == "text":
                    text = escape(str(v))
                    cells.append(
                        f'<c r="{letter}{n}" s="1" t="inlineStr"><is><t xml:space="preserve">'
                        f"{text}</t></is></c>"
                    )
                elif kind == "money":
                    cells.append(f'<c r="{letter}{n}" s="2"><v>{_money(v, decimals)}</v></c>')
                elif kind == "date":
                    serial = v.toordinal() - _EXCEL_EPOCH if isinstance(v, date) else v
                    cells.append(f'<c r="{letter}{n}" s="3"><v>{serial}</v></c>')
                else:
                    cells.append(f'<c r="{letter}{n}"><v>{int(v)}</v></c>')
            cells.append("</row>")
            text = "".join(cells)
            parts.append(text)
            size += len(text)
            if size > 1 << 20:
                self._write("".join(parts))
                parts, size = [], 0
        self._write("".join(parts))
        self._n = n

    def close(self) -> bytes:
        self._write("</sheetData></worksheet>")
        self._sheet.close()
        z = self._zip
        z.writestr("xl/styles.xml", _styles(self.decimals))
        z.writestr(
            "xl/workbook.xml",
            f"{_HEAD}<workbook {_NS}><sheets><sheet name={quoteattr(self.sheet_name)} "
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'{_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/styles" Target="styles.xml"/></Relationships>',
        )
        z.writestr(
            "_rels/.rels",
            f'{_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        z.writestr(
            "[Content_Types].xml",
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            "</Types>",
        )
        z.close()
        return self._out.getvalue()
