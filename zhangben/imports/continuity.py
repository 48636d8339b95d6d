"""The continuity check (对账): each row's balance = previous balance + income − expense.

Fed rows in the platform's (chronological) order, :class:`ChainChecker` reports every break
with the rows around it, and tells three kinds apart:

* ``duplicate`` — the row repeats the one before it (same key, or same time, amounts and
  balance) and the balance does not move;
* ``reordered`` — the row and the next one chain when swapped;
* ``missing`` — anything else: the balance moved by an amount no row accounts for (a row
  missing between them, or an edited amount or balance).

``join`` breaks are found by :func:`join_break`: a file's first row against the stored row
just before it (or its last row against the stored row just after it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from zhangben.core.money import format_amount, from_minor

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class ChainPoint:
    """One row as the check sees it; money in minor units."""

    line: int
    flow_no: str | None
    trade_time: datetime
    net: int
    balance: int
    key: str
    import_id: int | None = None

    def label(self) -> str:
        where = f"line {self.line}"
        if self.import_id is not None:
            where += f" of import {self.import_id}"
        when = self.trade_time.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        flow = f"flow {self.flow_no}, " if self.flow_no else ""
        return f"{where} ({flow}{when})"


@dataclass(frozen=True, slots=True)
class Break:
    """A place where the chain does not hold: ``row`` does not follow ``previous``."""

    kind: str  # missing | duplicate | reordered | join
    previous: ChainPoint
    row: ChainPoint
    expected: int  # the balance ``row`` should show
    following: ChainPoint | None = None  # the swapped partner of a reordering

    @property
    def gap(self) -> int:
        """What moved the balance between the two rows that no row accounts for."""
        return self.row.balance - self.expected

    def __str__(self) -> str:
        prev, row = self.previous, self.row
        if self.kind == "duplicate":
            return f"{row.label()} repeats {prev.label()}: duplicate row"
        if self.kind == "reordered":
            assert self.following is not None
            return (
                f"{row.label()} and {self.following.label()} are out of order: "
                f"after {prev.label()} they chain only when swapped"
            )
        where = "does not join" if self.kind == "join" else "does not follow"
        return (
            f"{row.label()} {where} {prev.label()}: expected balance {_m(self.expected)} "
            f"({_m(prev.balance)} {'+' if row.net >= 0 else '-'} {_m(abs(row.net))}), "
            f"found {_m(row.balance)}; {_m(self.gap)} unaccounted for (a missing row?)"
        )


class ChainChecker:
    """Feed rows in order with :meth:`feed`, then call :meth:`finish` for the breaks."""

    def __init__(self, previous: ChainPoint | None = None) -> None:
        self.previous = previous
        self.breaks: list[Break] = []
        self._suspect: tuple[ChainPoint, ChainPoint] | None = None
        self.checked = 0

    def feed(self, row: ChainPoint) -> None:
        self.checked += 1
        if self._suspect is not None:
            before, bad = self._suspect
            self._suspect = None
            if _chains(before, row) and _chains(row, bad):
                self.breaks.append(Break("reordered", before, bad, before.balance + bad.net, row))
                self.previous = bad
                return
            self.breaks.append(_classify(before, bad))
            self.previous = bad
        prev = self.previous
        self.previous = row
        if prev is not None and not _chains(prev, row):
            self._suspect = (prev, row)

    def finish(self) -> list[Break]:
        if self._suspect is not None:
            self.breaks.append(_classify(*self._suspect))
            self._suspect = None
        return self.breaks


def _chains(prev: ChainPoint, row: ChainPoint) -> bool:
    return prev.balance + row.net == row.balance


def _classify(prev: ChainPoint, row: ChainPoint) -> Break:
    same = row.key == prev.key or (
        row.trade_time == prev.trade_time and row.net == prev.net and row.balance == prev.balance
    )
    kind = "duplicate" if same and row.balance == prev.balance else "missing"
    return Break(kind, prev, row, prev.balance + row.net)


def join_break(stored: ChainPoint | None, first: ChainPoint | None) -> Break | None:
    """The break between a stored row and the file's row that should follow it, if any."""
    if stored is None or first is None or _chains(stored, first) or stored.key == first.key:
        return None
    return Break("join", stored, first, stored.balance + first.net)


def _m(minor: int) -> str:
    return format_amount(from_minor(minor), 2)
