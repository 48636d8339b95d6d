"""The queue workbook's round trip (docs/reconciliation.md#the-excel-round-trip): a queue's
XLSX comes back with its ``动作`` column filled in, and each row becomes one action.

Pure: cells in, :class:`ActionRow` (or :class:`RowError`, naming the sheet row and the
column) out; the service checks each row against the database and carries it out.

======  ==============================  =============================================
动作    also                            what it does (columns it reads)
======  ==============================  =============================================
忽略    ignore                          ignore a bill row (备注: the reason)
作废    void                            void an expected line (备注: the reason)
设订单号  set_key, key                  set a bill row's order key (订单号; 备注)
核销    match                           match the row with the open lines of the other
                                        side under 订单号 (差异类型 for a difference,
                                        核销金额 for a part, 备注 the memo); a 对账组 row
                                        (a suggestion) is confirmed as it stands
(blank)                                 nothing
======  ==============================  =============================================
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from zhangben.core.errors import ActionFileError
from zhangben.core.money import to_minor
from zhangben.imports.files import normalize_header, open_table
from zhangben.imports.rows import BillFormatError, parse_amount

ACTIONS = {
    "忽略": "ignore",
    "ignore": "ignore",
    "作废": "void",
    "void": "void",
    "设订单号": "set_key",
    "set_key": "set_key",
    "key": "set_key",
    "核销": "match",
    "match": "match",
}
#: the action's Chinese name, as the reports say it
NAMES = {"ignore": "忽略", "void": "作废", "set_key": "设订单号", "match": "核销"}
SUBJECTS = {
    "expected": "expected",
    "应收/应付": "expected",
    "应收": "expected",
    "bill_row": "bill_row",
    "账单行": "bill_row",
    "group": "group",
    "对账组": "group",
    "import": "import",
    "导入批次": "import",
}
#: canonical column → the header texts it is found by (the first is what the export writes)
HEADERS = {
    "对象": ("对象", "subject"),
    "ID": ("ID", "id"),
    "店铺": ("店铺", "shop"),
    "订单号": ("订单号", "key", "order_no"),
    "动作": ("动作", "action"),
    "差异类型": ("差异类型", "缺口类型", "gap_type"),
    "核销金额": ("核销金额", "match_amount"),
    "备注": ("备注", "memo", "reason"),
}
REQUIRED = ("对象", "ID", "动作")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str | None
    message: str

    @property
    def where(self) -> str:
        return f"row {self.line}" + (f", {self.column}" if self.column else "")


@dataclass(frozen=True, slots=True)
class ActionRow:
    line: int
    action: str  # ignore | void | set_key | match
    subject: str  # expected | bill_row | group
    id: int
    shop: str | None
    key: str | None
    gap_type: str | None
    amount: int | None  # 核销金额 in minor units, a magnitude; None: the whole open amount
    memo: str | None


def _header(cells: list[str]) -> dict[str, int] | None:
    wanted = {normalize_header(h): canon for canon, hs in HEADERS.items() for h in hs}
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        canon = wanted.get(normalize_header(cell))
        if canon and canon not in found:
            found[canon] = i
    return found if all(c in found for c in REQUIRED) else None


def check_row(cells: dict[str, str], line: int) -> ActionRow | RowError | None:
    """One sheet row → its action, the error naming its column, or None (动作 blank)."""

    def text(c: str) -> str:
        return (cells.get(c) or "").strip()

    raw = text("动作")
    if not raw:
        return None
    action = ACTIONS.get(raw.lower())
    if action is None:
        known = ", ".join(f"{zh} ({en})" for en, zh in NAMES.items())
        return RowError(line, "动作", f"unknown action {raw[:40]!r}: one of {known}, or blank")
    subject = SUBJECTS.get(text("对象"))
    if subject is None or subject == "import":
        return RowError(line, "对象", f"{text('对象')[:40]!r} is not expected, bill_row or group")
    if not text("ID").isdigit() or len(text("ID")) > 18:
        return RowError(line, "ID", f"{text('ID')[:40]!r} is not a row id")
    amount = None
    if text("核销金额"):
        if action != "match":
            return RowError(line, "核销金额", f"only 核销 takes an amount, not {NAMES[action]}")
        try:
            value = parse_amount(text("核销金额"), line, "核销金额")
        except BillFormatError as exc:
            return RowError(line, "核销金额", exc.message)
        amount = abs(to_minor(value))
        if amount == 0:
            return RowError(line, "核销金额", "is zero")
    for column, limit in (("备注", 500), ("订单号", 128), ("差异类型", 32), ("店铺", 64)):
        if len(text(column)) > limit or "\x00" in text(column):
            return RowError(line, column, f"at most {limit} characters, no NUL")
    return ActionRow(
        line, action, subject, int(text("ID")), text("店铺") or None, text("订单号") or None,
        text("差异类型") or None, amount, text("备注") or None,
    )  # fmt: skip


def read_file(source: str | Path | bytes) -> Iterator[ActionRow | RowError]:
    """Every row of an action file (the queue's XLSX, first sheet; or a CSV of the same
    columns) with an action, checked; a file without the header refuses the whole file."""
    header = None
    name = "actions.xlsx" if isinstance(source, bytes) else None
    try:
        for line, cells in open_table(source, name):
            if header is None:
                header = _header(cells)
                continue
            values = {c: (cells[i] if i < len(cells) else "") for c, i in header.items()}
            row = check_row(values, line)
            if row is not None:
                yield row
    except BillFormatError as exc:
        where = f"row {exc.line}" if exc.line else "file"
        raise ActionFileError([(where, exc.message)]) from None
    except OSError as exc:
        raise ActionFileError([("file", f"cannot read it: {exc.strerror or exc}")]) from None
    if header is None:
        columns = ", ".join(REQUIRED)
        raise ActionFileError([("file", f"no header row with the columns {columns}")])
