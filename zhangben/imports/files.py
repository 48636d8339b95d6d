"""Reading bill files as streams of ``(line_no, cells)``: CSV (UTF-8 / GBK), XLSX and ZIP.

Nothing here holds more than one row (plus the decoder's buffer) in memory.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from zhangben.imports.rows import BillFormatError, round_seconds

Source = str | os.PathLike | bytes
SNIFF_BYTES = 64 * 1024

_HEADER_PUNCT = str.maketrans(
    {"（": "(", "）": ")", "：": ":", "，": ",", "＋": "+", "－": "-", "［": "[", "］": "]"}
)


def clean_cell(text: str) -> str:
    """Strip whitespace/tabs, a BOM and leading back-quotes (WeChat's "keep as text" mark)."""
    text = text.strip()
    if text and text[0] in "`\ufeff":
        text = text.lstrip("`\ufeff").strip()
    return text


def normalize_header(text: str) -> str:
    """Header text for matching: full-width punctuation -> ASCII, no whitespace, casefolded."""
    text = clean_cell(text).translate(_HEADER_PUNCT)
    return "".join(text.split()).casefold()


@dataclass(frozen=True)
class ZipMembers:
    detail: str
    summary: str | None


def _sniff_kind(head: bytes, filename: str | None) -> str:
    name = (filename or "").lower()
    if head.startswith(b"PK\x03\x04"):
        return "zip"  # xlsx or a zip of CSVs; told apart by its members
    if name.endswith(".xls") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise BillFormatError(None, None, "legacy .xls files are not supported; save as .xlsx")
    return "csv"


class _Input:
    """A file path or bytes, re-openable so a file can be read more than once."""

    def __init__(self, source: Source | _Input, filename: str | None = None):
        if isinstance(source, _Input):
            source = source.source
        if isinstance(source, bytes | bytearray | memoryview):
            self.source: Source = bytes(source)
            self.filename = filename
        else:
            self.source = Path(source)
            self.filename = filename or self.source.name
        with self.open_binary() as f:
            head = f.read(8)
        kind = _sniff_kind(head, self.filename)
        if kind == "zip":
            with self.open_binary() as f, zipfile.ZipFile(f) as zf:
                names = zf.namelist()
                kind = "xlsx" if "xl/workbook.xml" in names else "zip"
        self.kind = kind

    def open_binary(self) -> BinaryIO:
        if isinstance(self.source, bytes):
            return io.BytesIO(self.source)
        return open(self.source, "rb")  # noqa: SIM115 - caller closes


def _member_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437")  # zipfile decoded a non-UTF-8 name as cp437
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return info.filename  # pragma: no cover


def zip_members(zf: zipfile.ZipFile) -> ZipMembers:
    """The detail (明细) CSV of an Alipay-style ZIP, and its summary (汇总) CSV if present."""
    details, summaries = [], []
    for info in zf.infolist():
        if info.is_dir():
            continue
        shown = _member_name(info)
        if not shown.lower().endswith((".csv", ".txt")):
            continue
        (summaries if "汇总" in shown else details).append(info.filename)
    if len(details) != 1:
        found = ", ".join(details) or "none"
        raise BillFormatError(None, None, f"ZIP must hold exactly one detail CSV, found {found}")
    return ZipMembers(details[0], summaries[0] if summaries else None)


def _sniff_encoding(head: bytes) -> str:
    import codecs

    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"  # a superset of GBK / GB2312
    return "utf-8-sig"


def _csv_rows(binary: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    encoding = _sniff_encoding(binary.read(SNIFF_BYTES))
    binary.seek(0)
    text = io.TextIOWrapper(binary, encoding=encoding, newline="")
    reader = csv.reader(text)
    last = 0
    try:
        for cells in reader:
            line, last = last + 1, reader.line_num
            cells = [c.strip() for c in cells]
            joined = "".join(cells)
            if "`" in joined or "\ufeff" in joined:
                cells = [clean_cell(c) for c in cells]
            yield line, cells
    except UnicodeDecodeError:
        raise BillFormatError(last + 1, None, f"text is not valid {encoding}") from None
    except csv.Error as exc:
        raise BillFormatError(last + 1, None, f"broken CSV: {exc}") from None


def cell_text(value: object) -> str:
    """A spreadsheet cell value as bill text (datetimes as ``yyyy-MM-dd HH:mm:ss``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_cell(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return round_seconds(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    return str(value)


def _xlsx_rows(binary: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    import openpyxl

    wb = openpyxl.load_workbook(binary, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        for line, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
            yield line, [cell_text(v) for v in values]
    finally:
        wb.close()


def open_table(
    source: Source, filename: str | None = None, *, member: str | None = None
) -> Iterator[tuple[int, list[str]]]:
    """Stream ``(line_no, cleaned cells)`` from a CSV, XLSX (first sheet) or ZIP.

    ``line_no`` is the 1-based physical line (CSV: where the record starts) or sheet row.
    For a ZIP the detail CSV is read, or ``member`` when given (e.g. the 汇总 file).
    """
    src = source if isinstance(source, _Input) else _Input(source, filename)
    with src.open_binary() as binary:
        if src.kind == "csv":
            yield from _csv_rows(binary)
        elif src.kind == "xlsx":
            yield from _xlsx_rows(binary)
        else:
            with zipfile.ZipFile(binary) as zf:
                name = member or zip_members(zf).detail
                with zf.open(name) as inner:
                    yield from _csv_rows(inner)


def zip_summary_member(source: Source, filename: str | None = None) -> str | None:
    """Name of the 汇总 CSV inside an Alipay ZIP, or None (also for non-ZIP files)."""
    src = source if isinstance(source, _Input) else _Input(source, filename)
    if src.kind != "zip":
        return None
    with src.open_binary() as binary, zipfile.ZipFile(binary) as zf:
        return zip_members(zf).summary
