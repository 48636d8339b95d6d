"""A streaming XLSX writer: rows in, the bytes of the workbook out as they are ready.

Why not a library: openpyxl (write-only) and XlsxWriter (constant memory) write a
21-column flow row at ≈4,000 and ≈7,000 rows/s on our machines (bench/RESULTS.md, "Flow
exports"), and both finish the archive only when the workbook is closed, so an HTTP download
starts only at the end. This writer knows four kinds of cells (:mod:`.layout`), writes each
row's XML as text straight into a deflated ZIP entry, and hands the compressed bytes on after
every batch of rows: constant memory, no temporary file, first bytes at once. Tests read its
workbooks back with openpyxl.

What it writes is the plainest SpreadsheetML: inline strings (no shared-string table, which a
stream cannot know in advance), one style per kind, a frozen and bold header row with an
autofilter, column widths. A sheet holds at most :data:`MAX_ROWS` rows (Excel's limit) and
stays far below ZIP's 4 GiB per entry; more rows continue on a new sheet
(``流水 (2)``, …), each with the header.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, tzinfo

from zhangben.exports.clock import LocalClock
from zhangben.exports.layout import DATETIME_FORMAT, INTEGER_FORMAT, MONEY_FORMAT, Column

#: Excel's rows per sheet, the header included
MAX_ROWS = 1_048_576
#: a sheet's XML is closed past this many bytes (ZIP entries above 4 GiB need ZIP64, which a
#: stream must announce before it knows the size)
MAX_SHEET_BYTES = 3_500_000_000
#: Excel's longest cell text
MAX_TEXT = 32_767
#: money beyond 15 significant digits does not fit a spreadsheet's number exactly: such a
#: value is written as text, digit for digit
MAX_EXACT_MINOR = 10**15
#: rows are encoded and compressed in runs of about this many characters
_FLUSH_CHARS = 1 << 20
#: zlib level: 1 compresses a flow sheet to ≈1.3× the size of level 6 at about twice the speed
COMPRESS_LEVEL = 1

_EXCEL_EPOCH = 693594  # date(1899, 12, 30).toordinal(): serial day 0
_NS = (
    'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
#: cell style per kind: the index into styles.xml's cellXfs
_STYLE = {"text": 0, "money": 1, "datetime": 2, "integer": 3}
_HEADER_STYLE = 4
_STYLES = (
    _HEAD + '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    f'<numFmts count="3"><numFmt numFmtId="164" formatCode="{MONEY_FORMAT}"/>'
    f'<numFmt numFmtId="165" formatCode="{DATETIME_FORMAT}"/>'
    f'<numFmt numFmtId="166" formatCode="{INTEGER_FORMAT}"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_ROOT_RELS = (
    _HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

# characters XML cannot carry as they are, and text that Excel would read as such an escape
_SPECIAL = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


def _escape_one(match: re.Match) -> str:
    found = match.group()
    if found in _ENTITIES:
        return _ENTITIES[found]
    if len(found) > 1:  # a literal "_x0041_" stays literal: its underscore escaped
        return "_x005F" + found
    return f"_x{ord(found):04X}_"  # ST_Xstring: Excel reads it back as the character


def _attribute(text: str) -> str:
    """``text`` as a quoted XML attribute value (xml.sax.saxutils' quoteattr would import
    urllib.request, ~60 ms of every CLI start)."""
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                         ("\n", "&#10;"), ("\r", "&#13;"), ("\t", "&#9;")):  # fmt: skip
        text = text.replace(char, entity)
    return f'"{text}"'


def escape(text: str) -> str:
    """``text`` as the content of an XML element that Excel reads back unchanged."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    return _SPECIAL.sub(_escape_one, text) if _SPECIAL.search(text) else text


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def money_text(minor: int) -> str:
    """Minor units (1/10000) as the exact decimal: ``-12.3400``."""
    if minor < 0:
        whole, part = divmod(-minor, 10000)
        return f"-{whole}.{part:04d}"
    whole, part = divmod(minor, 10000)
    return f"{whole}.{part:04d}"


def excel_serial(instant: datetime, tz: tzinfo) -> str:
    """An aware instant as Excel's serial date-time in ``tz`` (days since 1899-12-30)."""
    local = instant.astimezone(tz)
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return repr(local.toordinal() - _EXCEL_EPOCH + seconds / 86400)


def _row_writer(letters: Sequence[str], kinds: Sequence[str]) -> Callable:
    """``row_xml(n, row, serial)``: row ``n``'s XML, a function written for these columns
    (one statement per column, its cell's markup as a constant: no per-cell dispatch on the
    kind, which cost more than the text itself). The row's texts are checked for what needs
    escaping in one search (joined by a line break, which cannot be part of a match)."""
    lines = [
        "def row_xml(n, row, serial):",
        f"    ({''.join(f'v{i}, ' for i in range(len(kinds)))}) = row",
    ]
    texts = [f"v{i}" for i, kind in enumerate(kinds) if kind == "text"]
    if texts:
        joined = "\\n".join(f"{{{v}}}" for v in texts)
        lines.append(f'    joined = f"{joined}"')
        lines.append("    if len(joined) > MAX_TEXT or special(joined):")
        lines += [f"        {v} = None if {v} is None else escape({v})" for v in texts]
    lines.append("    a = [f'<row r=\"{n}\">']")
    for i, (letter, kind) in enumerate(zip(letters, kinds, strict=True)):
        ref = f'<c r="{letter}{{n}}"'
        if kind == "text":
            cell = f'f\'{ref} t="inlineStr"><is><t xml:space="preserve">{{v{i}}}</t></is></c>\''
        elif kind == "money":
            cell = (
                f"(f'{ref} s=\"1\"><v>{{v{i} / 10000:.4f}}</v></c>' if -BIG < v{i} < BIG "
                f'else f\'{ref} s="1" t="inlineStr"><is><t>{{money_text(v{i})}}</t></is></c>\')'
            )
        elif kind == "datetime":
            cell = f"f'{ref} s=\"2\"><v>{{serial(v{i})}}</v></c>'"
        else:
            cell = f"f'{ref} s=\"3\"><v>{{v{i}}}</v></c>'"
        lines.append(f"    if v{i} is not None:")
        lines.append(f"        a.append({cell})")
    lines.append("    a.append('</row>')")
    lines.append("    return ''.join(a)")
    scope = {
        "special": _SPECIAL.search, "escape": escape, "MAX_TEXT": MAX_TEXT,
        "BIG": MAX_EXACT_MINOR, "money_text": money_text,
    }  # fmt: skip
    exec("\n".join(lines), scope)  # noqa: S102 - our own source, from the column kinds
    return scope["row_xml"]


class _Sink:
    """The archive's output: collects what zipfile writes until it is taken (no seek, no
    tell: zipfile then writes each entry's sizes after its data)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


class XlsxStream:
    """One workbook of sheets of ``columns``. :meth:`add` takes rows (one value per column,
    of its kind; ``None`` is an empty cell) and returns the bytes ready so far; :meth:`close`
    returns the rest. The concatenation of everything returned is the file."""

    def __init__(self, columns: Sequence[Column], tz: tzinfo, sheet_name: str = "Sheet") -> None:
        self.columns, self.tz, self.sheet_name = tuple(columns), tz, sheet_name
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(
            self._sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
        )
        self._letters = [column_letter(i) for i in range(len(self.columns))]
        self._kinds = [c.kind for c in self.columns]
        self._clock = LocalClock(tz)
        self._row_xml = _row_writer(self._letters, self._kinds)
        self._sheets: list[tuple[str, int]] = []  # (name, last row) of every closed sheet
        self._sheet = None
        self._row = 0
        self._bytes = 0

    @property
    def sheet_names(self) -> list[str]:
        return [name for name, _ in self._sheets]

    def _open_sheet(self) -> None:
        number = len(self._sheets) + 1
        self._sheet = self._zip.open(f"xl/worksheets/sheet{number}.xml", "w")
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{c.width}" style="{_STYLE[c.kind]}" customWidth="1"/>'
            for i, c in enumerate(self.columns, 1)
        )
        header = "".join(
            f'<c r="{letter}1" s="{_HEADER_STYLE}" t="inlineStr"><is><t>{escape(c.header)}'
            "</t></is></c>"
            for letter, c in zip(self._letters, self.columns, strict=True)
        )
        selected = ' tabSelected="1"' if number == 1 else ""
        self._write(
            f'{_HEAD}<worksheet {_NS}><sheetViews><sheetView{selected} workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
            f'<row r="1">{header}</row>'
        )
        self._row = 1

    def _write(self, text: str) -> None:
        data = text.encode("utf-8")
        self._bytes += len(data)
        self._sheet.write(data)

    def _close_sheet(self) -> None:
        last = self._letters[-1]
        self._write(f'</sheetData><autoFilter ref="A1:{last}{self._row}"/></worksheet>')
        self._sheet.close()
        number = len(self._sheets) + 1
        name = self.sheet_name if number == 1 else f"{self.sheet_name} ({number})"
        self._sheets.append((name, self._row))
        self._sheet, self._bytes = None, 0

    def add(self, rows: Iterable[Sequence]) -> bytes:
        if self._sheet is None:
            self._open_sheet()
        parts: list[str] = []
        pending = 0  # characters in parts: at most 4 bytes each

        def flush() -> None:
            nonlocal pending
            self._write("".join(parts))
            parts.clear()
            pending = 0

        row_xml, serials, to_serial = self._row_xml, {}, self._clock.serial

        def serial(instant: datetime) -> str:  # rows often share an instant (an import's)
            text = serials.get(instant)
            if text is None:
                text = serials[instant] = to_serial(instant)
            return text

        n = self._row
        for row in rows:
            if n >= MAX_ROWS or self._bytes + 4 * pending > MAX_SHEET_BYTES:
                flush()
                if n >= MAX_ROWS or self._bytes > MAX_SHEET_BYTES:
                    self._row = n
                    self._close_sheet()
                    self._open_sheet()
                    n = self._row
            n += 1
            text = row_xml(n, row, serial)
            parts.append(text)
            pending += len(text)
            if pending > _FLUSH_CHARS:
                flush()
        self._row = n
        flush()
        return self._sink.take()

    def close(self) -> bytes:
        if self._sheet is None:
            self._open_sheet()
        self._close_sheet()
        sheets = self._sheets
        last = self._letters[-1]
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._zip.writestr(
            "xl/workbook.xml",
            f"{_HEAD}<workbook {_NS}><bookViews><workbookView/></bookViews><sheets>"
            + "".join(
                f'<sheet name={_attribute(name)} sheetId="{i}" r:id="rId{i}"/>'
                for i, (name, _) in enumerate(sheets, 1)
            )
            + "</sheets><definedNames>"
            + "".join(
                f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                f"{escape(_quoted(name))}!$A$1:${last}${rows}</definedName>"
                for i, (name, rows) in enumerate(sheets)
            )
            + "</definedNames></workbook>",
        )
        self._zip.writestr(
            "xl/_rels/workbook.xml.rels",
            f'{_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/'
                f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, len(sheets) + 1)
            )
            + f'<Relationship Id="rId{len(sheets) + 1}" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
        )
        self._zip.writestr("_rels/.rels", _ROOT_RELS)
        self._zip.writestr(
            "[Content_Types].xml",
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SHEET_TYPE}"/>'
                for i in range(1, len(sheets) + 1)
            )
            + "</Types>",
        )
        self._zip.close()
        return self._sink.take()


def _quoted(sheet: str) -> str:
    """A sheet name as a formula names it: ``'流水 (2)'``."""
    return "'" + sheet.replace("'", "''") + "'"
