"""Reading bill files as streams of ``(line_no, cells)``: CSV (UTF-8 / GBK), XLSX and ZIP.

Nothing here holds more than one row (plus the decoder's buffer) in memory, and a hostile
file cannot make it: :class:`Limits` bounds what a ZIP or XLSX may inflate to, how much it
may be compressed, the length of a line, the cells of a row and the empty lines of a file.
Each is checked while the file streams (a ZIP's sizes before a byte is inflated), and a file
over one is refused with one :class:`BillFormatError`. So is a truncated or damaged ZIP or
XLSX.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from zhangben.imports.rows import BillFormatError, round_seconds

Source = str | os.PathLike | bytes
SNIFF_BYTES = 64 * 1024

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


@dataclass(frozen=True)
class Limits:
    """What one bill file may make the importer read; over any of them, the file is refused.

    The defaults pass a finance team's real monthly bill (5M rows of ≈150–400 bytes, i.e. up
    to ≈2 GB of CSV, compressed 3–10 times; tens of columns; a handful of blank lines) with
    room to spare, and stop a ZIP bomb in milliseconds, its memory bounded.
    """

    #: bytes a ZIP's or an XLSX's members may inflate to, all together (checked on the sizes
    #: the ZIP declares, which zipfile then holds each member to)
    inflated: int = 4 * GiB
    #: inflated size : compressed size of one member inflating to more than RATIO_FLOOR;
    #: text compresses 3–20 times, a bomb of repeated bytes about 1000 times
    ratio: int = 100
    #: characters of one CSV record (a quoted cell's line breaks included); a bill row has a
    #: few hundred, a remark at most 2,000
    line: int = 64 * KiB
    #: cells of one row, up to its last non-empty cell; a bill has tens of columns
    cells: int = 1000
    #: empty lines (every cell empty) in the file
    empty: int = 10_000

    @classmethod
    def parse(cls, items: Iterable[str], base: Limits | None = None) -> Limits:
        """``["inflated=8GiB", "ratio=200"]`` over ``base`` (default: the defaults). Sizes
        take ``KiB``, ``MiB`` and ``GiB``. Raises ValueError naming the bad item."""
        known = {f.name for f in fields(cls)}
        changes: dict[str, int] = {}
        for item in items:
            name, sep, text = item.partition("=")
            name = name.strip()
            if not sep or name not in known:
                raise ValueError(f"{item!r}: expected NAME=VALUE, NAME one of {sorted(known)}")
            match = _SIZE.fullmatch(text.strip().replace("_", ""))
            if match is None or int(match[1]) < 1:
                raise ValueError(f"{item!r}: the value is not a positive number")
            changes[name] = int(match[1]) * _UNITS[(match[2] or "").lower()]
        return replace(base or cls(), **changes)


_SIZE = re.compile(r"(\d+)\s*(KiB|MiB|GiB)?", re.IGNORECASE | re.ASCII)
_UNITS = {"": 1, "kib": KiB, "mib": MiB, "gib": GiB}
DEFAULT_LIMITS = Limits()
#: the compression ratio is checked on members that inflate to more than this
RATIO_FLOOR = 1 * MiB
#: an XLSX's shared strings are held in memory whole (openpyxl): at most this, inflated
MAX_SHARED_STRINGS = 256 * MiB
#: what reading a truncated or damaged ZIP or XLSX raises (zipfile, zlib, openpyxl's XML)
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ValueError, SyntaxError)


def _damaged(kind: str, exc: BaseException) -> str:
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return f"the {kind} is truncated or damaged ({detail})"


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

    def __init__(
        self, source: Source | _Input, filename: str | None = None, limits: Limits | None = None
    ):
        if isinstance(source, _Input):
            limits = limits or source.limits
            source = source.source
        self.limits = limits or DEFAULT_LIMITS
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
            try:
                with self.open_binary() as f, zipfile.ZipFile(f) as zf:
                    infos = zf.infolist()
            except _DAMAGED as exc:
                shown = "XLSX" if (self.filename or "").lower().endswith(".xlsx") else "ZIP"
                raise BillFormatError(None, None, _damaged(shown, exc)) from None
            kind = "xlsx" if any(i.filename == "xl/workbook.xml" for i in infos) else "zip"
            check_members(infos, self.limits, kind)
        self.kind = kind

    def open_binary(self) -> BinaryIO:
        if isinstance(self.source, bytes):
            return io.BytesIO(self.source)
        return open(self.source, "rb")  # noqa: SIM115 - caller closes


def check_members(infos: list[zipfile.ZipInfo], limits: Limits, kind: str = "zip") -> None:
    """Refuse a ZIP (or XLSX) whose members would inflate past ``limits``, from the sizes it
    declares: zipfile stops each member at its declared size (and fails its CRC if the data
    says otherwise), so nothing is inflated to find out."""
    total = 0
    for info in infos:
        size = info.file_size
        total += size
        name = _member_name(info)
        if total > limits.inflated:
            raise BillFormatError(
                None,
                None,
                f"the {kind.upper()} would inflate to more than {_bytes(limits.inflated)} "
                f"(at {name}): over the limit inflated={spec(limits.inflated)}",
            )
        if size > RATIO_FLOOR and size > limits.ratio * max(info.compress_size, 1):
            ratio = size / max(info.compress_size, 1)
            raise BillFormatError(
                None,
                None,
                f"{name} is compressed {ratio:,.0f} to 1: over the limit ratio={limits.ratio} "
                "(a ZIP bomb?)",
            )
        if kind == "xlsx" and name == "xl/sharedStrings.xml" and size > MAX_SHARED_STRINGS:
            raise BillFormatError(
                None, None, f"{name} would inflate to more than {_bytes(MAX_SHARED_STRINGS)}"
            )


def _bytes(n: int) -> str:
    text = spec(n)
    return f"{n:,} bytes" if text.isdigit() else f"{text[:-3]} {text[-3:]}"


def spec(n: int) -> str:
    """A size as a limit is written: ``4GiB``, ``64KiB``, or plain digits."""
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


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


class _LineTooLong(Exception):
    pass


def _lines(text: io.TextIOBase, limit: int, used: list[int]) -> Iterator[str]:
    """The physical lines of ``text`` for the CSV reader, never more than ``limit`` characters
    for one record: ``used[0]`` counts the current record's, and the reader resets it."""
    readline = text.readline
    while True:
        line = readline(limit - used[0] + 1)
        if not line:
            return
        used[0] += len(line)
        if used[0] > limit:
            raise _LineTooLong
        yield line


class _RowLimits:
    """The per-row limits every table reader applies: cells, and empty lines."""

    __slots__ = ("limits", "empty")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.empty = 0

    def check(self, line: int, cells: list[str]) -> list[str]:
        if len(cells) > self.limits.cells:
            width = len(cells)
            while width and not cells[width - 1]:
                width -= 1
            if width > self.limits.cells:
                raise BillFormatError(
                    line, None, f"{width:,} cells: over the limit cells={self.limits.cells}"
                )
            cells = cells[: self.limits.cells]  # the rest are empty
        if not any(cells):
            self.empty += 1
            if self.empty > self.limits.empty:
                raise BillFormatError(
                    line,
                    None,
                    f"more than {self.limits.empty:,} empty lines: over the limit "
                    f"empty={self.limits.empty}",
                )
        return cells


def _csv_rows(
    binary: BinaryIO, limits: Limits = DEFAULT_LIMITS, kind: str = "CSV"
) -> Iterator[tuple[int, list[str]]]:
    encoding = "utf-8"
    rows = _RowLimits(limits)
    last = 0
    try:
        encoding = _sniff_encoding(binary.read(SNIFF_BYTES))
        binary.seek(0)
        text = io.TextIOWrapper(binary, encoding=encoding, newline="")
        used = [0]
        reader = csv.reader(_lines(text, limits.line, used))
        for cells in reader:
            line, last = last + 1, reader.line_num
            used[0] = 0
            cells = [c.strip() for c in cells]
            joined = "".join(cells)
            if "`" in joined or "\ufeff" in joined:
                cells = [clean_cell(c) for c in cells]
            yield line, rows.check(line, cells)
    except UnicodeDecodeError:
        raise BillFormatError(last + 1, None, f"text is not valid {encoding}") from None
    except csv.Error as exc:
        raise BillFormatError(last + 1, None, f"broken CSV: {exc}") from None
    except BillFormatError:
        raise
    except _LineTooLong:
        raise BillFormatError(
            last + 1,
            None,
            f"a record of more than {limits.line:,} characters: over the limit "
            f"line={spec(limits.line)}",
        ) from None
    except _DAMAGED as exc:  # a ZIP member's data: truncated, or not what it claims
        raise BillFormatError(last + 1, None, _damaged(kind, exc)) from None


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


def _xlsx_rows(
    binary: BinaryIO, limits: Limits = DEFAULT_LIMITS
) -> Iterator[tuple[int, list[str]]]:
    import openpyxl

    rows = _RowLimits(limits)
    line = 0
    try:
        wb = openpyxl.load_workbook(binary, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
        raise BillFormatError(None, None, _damaged("XLSX", exc)) from None
    try:
        ws = wb.worksheets[0]
        for line, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
            if len(values) > limits.cells:  # trailing empty cells are nothing
                width = len(values)
                while width and values[width - 1] in (None, ""):
                    width -= 1
                values = values[: max(width, limits.cells)]
            yield line, rows.check(line, [cell_text(v) for v in values])
    except BillFormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - as above, while the sheet streams
        raise BillFormatError(line + 1, None, _damaged("XLSX", exc)) from None
    finally:
        wb.close()


def open_table(
    source: Source, filename: str | None = None, *, member: str | None = None
) -> Iterator[tuple[int, list[str]]]:
    """Stream ``(line_no, cleaned cells)`` from a CSV, XLSX (first sheet) or ZIP.

    ``line_no`` is the 1-based physical line (CSV: where the record starts) or sheet row.
    For a ZIP the detail CSV is read, or ``member`` when given (e.g. the 汇总 file). The
    source's :class:`Limits` apply (a path or bytes: the defaults; pass an ``_Input`` made
    with other limits to change them).
    """
    src = source if isinstance(source, _Input) else _Input(source, filename)
    limits = src.limits
    with src.open_binary() as binary:
        if src.kind == "csv":
            yield from _csv_rows(binary, limits)
        elif src.kind == "xlsx":
            yield from _xlsx_rows(binary, limits)
        else:
            try:
                zf = zipfile.ZipFile(binary)
                name = member or zip_members(zf).detail
                inner = zf.open(name)
            except BillFormatError:
                raise
            except _DAMAGED as exc:
                raise BillFormatError(None, None, _damaged("ZIP", exc)) from None
            with zf, inner:
                yield from _csv_rows(inner, limits, "ZIP")


def zip_summary_member(source: Source, filename: str | None = None) -> str | None:
    """Name of the 汇总 CSV inside an Alipay ZIP, or None (also for non-ZIP files)."""
    src = source if isinstance(source, _Input) else _Input(source, filename)
    if src.kind != "zip":
        return None
    try:
        with src.open_binary() as binary, zipfile.ZipFile(binary) as zf:
            return zip_members(zf).summary
    except BillFormatError:
        raise
    except _DAMAGED as exc:
        raise BillFormatError(None, None, _damaged("ZIP", exc)) from None
