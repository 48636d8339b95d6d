"""金蝶云星空 (K/3 Cloud) voucher import workbook (vouchers.md B.1, B.2.3).

The sheet ``凭证#单据头(FBillHead)``: row 1 the field keys, row 2 their labels, both copied from
the customer's own template (its ``FDetailID#…`` dimension columns are per tenant), data from
row 3. The keys before ``*Split*1`` belong to the voucher head and are filled on a voucher's
first row only; the keys after it to its entries. A key this writer does not know stays blank.
A dimension column ``FDetailID#<flex>`` is filled from a line's ``aux`` by the dimension its
row-2 label names (``客户``, ``部门`` …). Code cells are text (``@``), amounts numbers showing
the book's decimals.

Streams (:mod:`._sheet`): rows are made one at a time and written into the deflated sheet as
they come, so memory holds the compressed file and one run of rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from zhangben.vouchers.model import BookHead, Voucher, VoucherLine
from zhangben.vouchers.writers._sheet import SheetWriter
from zhangben.vouchers.writers._xlsx import open_template
from zhangben.vouchers.writers.errors import TemplateError

PRODUCT = "k3cloud_xlsx"
SHEET = "凭证#单据头(FBillHead)"
HEAD_KEY = "FBillHead(GL_VOUCHER)"
SPLIT = "*Split*1"
#: keys a template must have in row 1 for the import to carry a voucher
REQUIRED_KEYS = (HEAD_KEY, "FAccountBookID", "FDate", "FVOUCHERGROUPID", "FVOUCHERGROUPNO",
                 SPLIT, "FEntity", "FEXPLANATION", "FACCOUNTID", "FCURRENCYID",
                 "FEXCHANGERATETYPE", "FDEBIT", "FCREDIT")  # fmt: skip
#: 凭证字 → its code in a standard K/3 Cloud data centre (PRE001 is 记); other words pass as is
GROUP_CODES = {"记": "PRE001"}
#: the shipped stand-in template, for a book that has not uploaded its own
DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "k3cloud_voucher.xlsx"


class _Ctx:
    """What a cell is made from: the book, the voucher, its position in the file, the line."""

    __slots__ = ("book", "index", "line", "voucher")

    def __init__(self, book: BookHead) -> None:
        self.book = book
        self.index = 0
        self.voucher: Voucher | None = None
        self.line: VoucherLine | None = None


def _dims(label: str) -> str:
    """A dimension column's row-2 label as the bare dimension name:
    ``(分录)核算维度.客户#编码`` → ``客户``."""
    name = re.sub(r"^\*|\(分录\)|（分录）|核算维度|#编码$|#名称$|#Name$", "", label.strip())
    return name.strip(".#:：- ")


#: aux keys the same dimension goes by in different books
ALIASES = {"员工": "职员", "职员": "员工"}


def _aux(line: VoucherLine, name: str) -> str | None:
    value = line.aux.get(name)
    if value is None and name in ALIASES:
        value = line.aux.get(ALIASES[name])
    return value or None


# kind: "text" (a code, a name), "date", "int", "money"
Field = tuple[str, Callable[[_Ctx], object]]

HEAD_FIELDS: dict[str, Field] = {
    HEAD_KEY: ("int", lambda c: c.index),
    "FAccountBookID": ("text", lambda c: c.book.book_code),
    "FAccountBookID#Name": ("text", lambda c: c.book.name),
    "FDate": ("date", lambda c: c.voucher.date),
    "FBUSDATE": ("date", lambda c: c.voucher.date),
    "FYEAR": ("int", lambda c: c.voucher.year),
    "FPERIOD": ("int", lambda c: c.voucher.period),
    "FVOUCHERGROUPID": ("text", lambda c: GROUP_CODES.get(c.voucher.word, c.voucher.word)),
    "FVOUCHERGROUPID#Name": ("text", lambda c: c.voucher.word),
    "FVOUCHERGROUPNO": ("int", lambda c: c.voucher.number),
    "FATTACHMENTS": ("int", lambda c: c.voucher.attachments),
    "FACCBOOKORGID": ("text", lambda c: c.book.org_code),
}
ENTRY_FIELDS: dict[str, Field] = {
    "FEntity": ("int", lambda c: c.line.seq),
    "FEXPLANATION": ("text", lambda c: c.line.summary or c.voucher.summary),
    "FACCOUNTID": ("text", lambda c: c.line.subject_code),
    "FACCOUNTID#Name": ("text", lambda c: c.line.subject_name),
    "FCURRENCYID": ("text", lambda c: c.book.currency_code),
    "FEXCHANGERATETYPE": ("text", lambda c: c.book.rate_type),
    "FEXCHANGERATE": ("int", lambda c: 1),
    "FAMOUNTFOR": ("money", lambda c: c.line.debit or c.line.credit),
    "FDEBIT": ("money", lambda c: c.line.debit or None),
    "FCREDIT": ("money", lambda c: c.line.credit or None),
}


def _read(template: bytes) -> tuple[list, list]:
    """Rows 1 and 2 of the template's voucher sheet, refused when it is not one."""
    wb = open_template(PRODUCT, template)
    try:
        if SHEET not in wb.sheetnames:
            found = "、".join(wb.sheetnames) or "none"
            raise TemplateError(PRODUCT, f"no sheet {SHEET!r} (sheets: {found})")
        rows = list(wb[SHEET].iter_rows(min_row=1, max_row=2, values_only=True))
    finally:
        wb.close()
    keys = [str(v).strip() if v is not None else "" for v in (rows[0] if rows else ())]
    labels = list(rows[1]) if len(rows) > 1 else []
    labels += [None] * (len(keys) - len(labels))
    missing = [k for k in REQUIRED_KEYS if k not in keys]
    if missing:
        raise TemplateError(PRODUCT, f"row 1 of {SHEET!r} lacks the keys {', '.join(missing)}")
    while keys and not keys[-1]:
        keys.pop()
    return keys, labels[: len(keys)]


def check_template(template: bytes) -> None:
    _read(template)


def default_template() -> bytes:
    return DEFAULT_TEMPLATE.read_bytes()


def _plan(keys: list, labels: list) -> tuple[list, list]:
    """(column, kind, getter) for the head columns and for the entry columns."""
    split = keys.index(SPLIT)
    head, entry = [], []
    for col, key in enumerate(keys):
        if col < split:
            if key in HEAD_FIELDS:
                head.append((col, *HEAD_FIELDS[key]))
        elif key in ENTRY_FIELDS:
            entry.append((col, *ENTRY_FIELDS[key]))
        elif key.startswith("FDetailID#") and not key.endswith("#Name"):
            name = _dims(str(labels[col] or ""))
            entry.append((col, "text", lambda c, name=name: _aux(c.line, name)))
    return head, entry


class K3CloudXlsxWriter:
    product = PRODUCT
    suffix = ".xlsx"
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    needs_template = True

    def check_template(self, template: bytes) -> None:
        check_template(template)

    def write(self, book: BookHead, vouchers: Sequence[Voucher], template: bytes | None) -> bytes:
        keys, labels = _read(template if template is not None else default_template())
        head, entry = _plan(keys, labels)
        sheet = SheetWriter(SHEET, book.decimals, frozen_rows=2)
        sheet.header(keys)
        sheet.header(labels)
        kinds = ["text"] * len(keys)
        for col, kind, _ in head + entry:
            kinds[col] = kind
        sheet.rows(kinds, _rows(book, vouchers, head, entry, len(keys)))
        return sheet.close()


def _rows(book: BookHead, vouchers: Sequence[Voucher], head: list, entry: list, width: int):
    ctx = _Ctx(book)
    for index, voucher in enumerate(vouchers, 1):
        ctx.index, ctx.voucher = index, voucher
        for n, line in enumerate(voucher.lines):
            ctx.line = line
            row: list = [None] * width
            if n == 0:
                for col, _, get in head:
                    row[col] = get(ctx)
            for col, _, get in entry:
                row[col] = get(ctx)
            yield row


WRITER = K3CloudXlsxWriter()
