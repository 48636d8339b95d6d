"""The base class of a bill format, and the helpers its ``parse_row`` uses to read cells.

A format module only *extracts*: it declares its headers and turns one row of cells (keyed by
canonical header) into a :class:`~zhangben.imports.rows.BillRow`. Reading files is
:mod:`zhangben.imports.files`; the header search, the row loop and the registry of formats are
:mod:`zhangben.imports.extract`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import ClassVar

from zhangben.imports.files import normalize_header
from zhangben.imports.rows import BillFormatError, BillRow, BillSummary, parse_amount, parse_time


class BillFormat:
    """Declares a bill layout and turns one row into a BillRow. Subclass it, and list an
    instance in :data:`zhangben.imports.formats.BUILTIN`.

    ``required_headers``/``optional_headers`` are canonical header texts; ``aliases`` maps
    other spellings to them. Headers are compared after
    :func:`~zhangben.imports.files.normalize_header`. ``summary_markers`` are first cells
    (normalised) that start the file's summary table.
    """

    name: ClassVar[str]
    platform: ClassVar[str]
    has_balance: ClassVar[bool]
    required_headers: ClassVar[tuple[str, ...]]
    optional_headers: ClassVar[tuple[str, ...]] = ()
    aliases: ClassVar[Mapping[str, str]] = {}
    summary_markers: ClassVar[tuple[str, ...]] = ()
    #: which cells identify a row when it has no flow number (documentation for unique_key)
    key_cells: ClassVar[tuple[str, ...]] = ()

    _map: dict[str, str]

    def __init__(self) -> None:
        self._map = {}
        for h in (*self.required_headers, *self.optional_headers):
            self._map[normalize_header(h)] = h
        for alias, h in self.aliases.items():
            self._map[normalize_header(alias)] = h
        self._required = frozenset(normalize_header(h) for h in self.required_headers)

    def canonical(self, normalized: str) -> str | None:
        """The canonical header for a normalised header text, or None if not in this format."""
        return self._map.get(normalized)

    def missing(self, normalized_headers: Iterable[str]) -> list[str]:
        """Required headers (canonical) absent from a normalised header row."""
        present = {self._map.get(h) for h in normalized_headers}
        return [h for h in self.required_headers if h not in present]

    def matches(self, header_cells: Iterable[str]) -> bool:
        """True when the header row holds all required headers of this format."""
        return not self.missing(normalize_header(c) for c in header_cells)

    def parse_row(self, line: int, cells: Mapping[str, str]) -> BillRow:  # pragma: no cover
        raise NotImplementedError

    def summary(self, fields: Mapping[str, str], line: int | None) -> BillSummary | None:
        """Totals from the file's own footer/summary, given as normalised key -> text."""
        return None

    def summary_file(self, table: Iterable[tuple[int, list[str]]]) -> BillSummary | None:
        """Totals from a separate summary file (Alipay ZIP's 汇总 CSV)."""
        return None

    def __repr__(self) -> str:
        return f"<BillFormat {self.name}>"


# helpers for format modules


def required(cells: Mapping[str, str], column: str, line: int) -> str:
    """A cell that must be non-empty (ids)."""
    value = cells.get(column, "")
    if not value:
        raise BillFormatError(line, column, "required value is empty")
    return value


def optional(cells: Mapping[str, str], column: str) -> str | None:
    return cells.get(column) or None


def amount(cells: Mapping[str, str], column: str, line: int) -> Decimal:
    return parse_amount(cells.get(column, ""), line, column)


def time_cell(cells: Mapping[str, str], column: str, line: int, *, date_only_ok=False):
    value = cells.get(column, "")
    if not value:
        raise BillFormatError(line, column, "required time is empty")
    return parse_time(value, line, column, date_only_ok=date_only_ok)


def non_negative(value: Decimal, line: int, column: str) -> Decimal:
    if value < 0:
        raise BillFormatError(line, column, f'"{value}" must not be negative')
    return value


def count(text: str, line: int | None, column: str) -> int:
    text = text.strip().replace(",", "")
    if not text.isdigit():
        raise BillFormatError(line, column, f'"{text}" is not a count')
    return int(text)
