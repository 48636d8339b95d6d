"""The registry of bill formats, and extraction: find a file's header row, tell its format,
map its columns by header text, and stream its typed rows.

The built-in formats (:data:`zhangben.imports.formats.BUILTIN`) are registered when this module
is imported; :func:`register` adds another."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import closing

from zhangben.imports.files import (
    Limits,
    Source,
    _Input,
    normalize_header,
    open_table,
    zip_summary_member,
)
from zhangben.imports.formats import BUILTIN
from zhangben.imports.formats.bill_format import BillFormat
from zhangben.imports.rows import PLATFORMS, BillFormatError, BillRow, BillSummary

# --- registry ------------------------------------------------------------------------------

_FORMATS: dict[str, BillFormat] = {}


def register(fmt: BillFormat) -> BillFormat:
    if fmt.platform not in PLATFORMS:
        raise ValueError(f"unknown platform {fmt.platform!r}")
    _FORMATS[fmt.name] = fmt
    return fmt


for _fmt in BUILTIN:
    register(_fmt)


def formats() -> list[BillFormat]:
    """All registered formats: the built-ins, in their order, then any registered later."""
    return list(_FORMATS.values())


def get_format(name: str) -> BillFormat:
    for fmt in formats():
        if fmt.name == name:
            return fmt
    raise KeyError(f"unknown bill format {name!r}; known: {sorted(_FORMATS)}")


def detect_format(header_cells: Iterable[str]) -> BillFormat:
    """The one format whose required headers are all in this header row.

    Raises BillFormatError when none or more than one matches.
    """
    cells = list(header_cells)
    found = [f for f in formats() if f.matches(cells)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise BillFormatError(None, None, "header row matches no known bill format")
    names = ", ".join(f.name for f in found)
    raise BillFormatError(None, None, f"header row is ambiguous between {names}")


# --- extraction ---------------------------------------------------------------------------

#: non-empty rows read before giving up on finding a header row
HEADER_SCAN_ROWS = 100
#: lines after the header that are neither rows nor empty (``#`` notes, a summary table):
#: a bill has a handful; their key/values are kept, so their number is bounded
MAX_NOTE_LINES = 1000

_BRACKETED = re.compile(r"([^\s\[\]:,#]+)\s*:\s*\[([^\]]*)\]")
_UNSET = object()


def _key_values(cells: list[str]) -> dict[str, str]:
    """``#账号：[2088…]`` / ``导出时间: x`` style text -> {normalised key: value}."""
    text = ",".join(cells).strip().strip(",").lstrip("#").strip()
    text = text.replace("：", ":").replace("［", "[").replace("］", "]")
    pairs = {normalize_header(k): v.strip() for k, v in _BRACKETED.findall(text)}
    if pairs:
        return pairs
    key, sep, value = text.partition(":")
    if sep and key.strip():
        return {normalize_header(key): value.strip().strip(",").strip()}
    return {}


def _is_rule(first: str) -> bool:
    """Alipay's ``#-----…账务明细列表结束`` style end-of-table marker."""
    body = first.lstrip("#").strip()
    return body.startswith("---") or (first.startswith("#") and "结束" in body)


class Extraction:
    """One bill file, its detected format and header; ``rows()`` streams its BillRows.

    ``preamble`` holds the key/value lines above the header (e.g. Alipay 账号, 起始日期, 终止日期;
    keys normalised). ``summary`` is the ZIP's 汇总 file where there is one, else the totals the
    file states after its table (None when it states none); reading it before ``rows()`` costs
    one extra pass over the file.
    """

    def __init__(
        self,
        source: Source,
        format_name: str | None = None,
        *,
        filename=None,
        limits: Limits | None = None,
    ):
        self._input = _Input(source, filename, limits)
        self.preamble: dict[str, str] = {}
        wanted = [get_format(format_name)] if format_name else formats()
        self.format, self.header_line, cells = self._find_header(wanted)
        self._map_columns(cells)
        self._summary_member = zip_summary_member(self._input)
        self._summary: BillSummary | None | object = _UNSET

    # header --------------------------------------------------------------------------------
    def _find_header(self, wanted: list[BillFormat]) -> tuple[BillFormat, int, list[str]]:
        best = None  # (share of required headers present, line, format, missing)
        seen = 0
        with closing(open_table(self._input)) as table:
            for line, cells in table:
                if not any(cells):
                    continue
                seen += 1
                if seen > HEADER_SCAN_ROWS:
                    break
                if not cells[0].startswith("#"):
                    norm = [normalize_header(c) for c in cells]
                    found = [f for f in wanted if not f.missing(norm)]
                    if len(found) == 1:
                        return found[0], line, cells
                    if found:
                        names = ", ".join(f.name for f in found)
                        raise BillFormatError(line, None, f"header is ambiguous between {names}")
                    for f in wanted:
                        missing = f.missing(norm)
                        hits = len(f.required_headers) - len(missing)
                        share = hits / len(f.required_headers)
                        if hits >= 2 and share >= 0.5 and (best is None or share > best[0]):
                            best = (share, line, f, missing)
                self.preamble.update(_key_values(cells))
        if best is not None:
            _, line, fmt, missing = best
            more = f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""
            raise BillFormatError(
                line, missing[0], f"required header of the {fmt.name} format is missing{more}"
            )
        names = ", ".join(f.name for f in wanted)
        raise BillFormatError(None, None, f"no header row of a known bill format ({names}) found")

    def _map_columns(self, cells: list[str]) -> None:
        self._columns: list[tuple[int, str]] = []
        self._unnamed: list[int] = []
        self._display: dict[str, str] = {}
        for i, text in enumerate(cells):
            norm = normalize_header(text)
            if not norm:
                self._unnamed.append(i)
                continue
            canon = self.format.canonical(norm)
            if canon is None:
                raise BillFormatError(
                    self.header_line, text, f"unknown header for the {self.format.name} format"
                )
            if canon in self._display:
                raise BillFormatError(self.header_line, text, "duplicate header")
            self._columns.append((i, canon))
            self._display[canon] = text
        self._width = len(cells)
        self.headers: tuple[str, ...] = tuple(c for _, c in self._columns)

    # rows ----------------------------------------------------------------------------------
    def rows(self) -> Iterator[BillRow]:
        """Stream the data rows. Raises BillFormatError at the first bad row."""
        return self._scan(parse=True)

    def _scan(self, parse: bool) -> Iterator[BillRow]:
        fmt, markers = self.format, self.format.summary_markers
        fields: dict[str, str] = {}
        ended = False
        summary_header: list[str] | None = None
        last = self.header_line
        lines = rows = 0  # non-empty lines after the header, and rows among them
        with closing(open_table(self._input)) as table:
            for line, cells in table:
                if line <= self.header_line or not any(cells):
                    continue
                if lines - rows >= MAX_NOTE_LINES:
                    raise BillFormatError(
                        line, None, f"more than {MAX_NOTE_LINES:,} lines of notes or totals"
                    )
                lines += 1
                last = line
                first = cells[0]
                if first[:1] in ("#", "-") and (first[0] == "#" or _is_rule(first)):
                    fields.update(_key_values(cells))
                    ended = ended or _is_rule(first)
                    continue
                if markers and not first[:1].isdigit() and normalize_header(first) in markers:
                    summary_header, ended = [normalize_header(c) for c in cells], True
                    continue
                if summary_header is not None:
                    fields.update((k, v) for k, v in zip(summary_header, cells, strict=False) if k)
                    summary_header = None
                    continue
                if ended:
                    kv = _key_values(cells) if sum(map(bool, cells)) <= 2 else {}
                    if not kv:
                        raise BillFormatError(line, None, "unexpected row after the table's end")
                    fields.update(kv)
                    continue
                rows += 1
                if parse:
                    yield self._parse(line, cells)
        if self._summary_member is None:
            self._summary = fmt.summary(fields, last) if fields else None

    def _parse(self, line: int, cells: list[str]) -> BillRow:
        n = len(cells)
        if n > self._width and any(cells[self._width :]):
            col = self._width + next(i for i, c in enumerate(cells[self._width :]) if c) + 1
            raise BillFormatError(line, f"column {col}", "cell beyond the last header")
        for i in self._unnamed:
            if i < n and cells[i]:
                raise BillFormatError(line, f"column {i + 1}", "cell under an empty header")
        values = {canon: (cells[i] if i < n else "") for i, canon in self._columns}
        try:
            return self.format.parse_row(line, values)
        except BillFormatError as exc:
            shown = self._display.get(exc.column or "")
            if shown and shown != exc.column:
                raise BillFormatError(exc.line, shown, exc.message) from None
            raise

    # summary -------------------------------------------------------------------------------
    @property
    def summary(self) -> BillSummary | None:
        if self._summary is _UNSET:
            if self._summary_member is not None:
                table = open_table(self._input, member=self._summary_member)
                with closing(table):
                    self._summary = self.format.summary_file(table)
            else:
                for _ in self._scan(parse=False):
                    pass
        return self._summary  # type: ignore[return-value]


def extract(
    path: Source, format_name: str | None = None, *, filename=None, limits: Limits | None = None
) -> Extraction:
    """Open a bill file (path or bytes), detect or check its format, and find its header.
    ``limits`` bound what the file may make the reader do (default: :class:`Limits`)."""
    return Extraction(path, format_name, filename=filename, limits=limits)
