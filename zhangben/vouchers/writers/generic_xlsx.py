"""Voucher workbook for 用友 T+ / 好会计, 金蝶精斗云 and 柠檬云: columns mapped by header text.

Their import layouts are known only from help pages (vouchers.md B.1, unconfirmed), so the
customer's own template drives the file: its first sheet with a header row holding the
required headers (摘要, 科目编码, 借方金额, 贷方金额) within its first :data:`SCAN_ROWS` rows is
the one written; the rows down to that header are copied as they are, data follows. A header
is read without spaces, ``*`` marks and bracketed notes (``*借方金额(元)`` is 借方金额) and
through :data:`ALIASES`; a header this writer does not know is left blank, unless a line's
``aux`` has a dimension of that name. Every line repeats the voucher's date, word and number
(the products group lines by them); with no 凭证字 column the number is written ``记-1``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from zhangben.vouchers.model import BookHead, Voucher, VoucherLine
from zhangben.vouchers.writers._sheet import SheetWriter
from zhangben.vouchers.writers._xlsx import open_template
from zhangben.vouchers.writers.errors import TemplateError

PRODUCT = "generic_xlsx"
REQUIRED = ("摘要", "科目编码", "借方金额", "贷方金额")
SCAN_ROWS = 10
ALIASES = {"附件数": "附单据数", "单据数": "附单据数", "附件张数": "附单据数",
           "分录号": "分录序号", "序号": "分录序号",
           "科目代码": "科目编码", "会计科目编码": "科目编码",
           "借方": "借方金额", "贷方": "贷方金额", "币种": "币别", "原币": "原币金额",
           "员工": "职员", "凭证日期": "日期", "制单": "制单人"}  # fmt: skip
DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "generic_voucher.xlsx"


def header_name(text: object) -> str:
    """A header cell as the name it maps by: ``*借方金额(元)`` → ``借方金额``."""
    name = re.sub(r"[（(【\[][^）)】\]]*[）)】\]]", "", str(text or ""))
    name = re.sub(r"[\s*＊:：]", "", name)
    return ALIASES.get(name, name)


Getter = Callable[[BookHead, Voucher, VoucherLine], object]


def _fields(has_word: bool) -> dict[str, tuple[str, Getter]]:
    number: tuple[str, Getter] = (
        ("int", lambda b, v, line: v.number)
        if has_word
        else ("text", lambda b, v, line: f"{v.word}-{v.number}")
    )
    dim: Callable[[str], tuple[str, Getter]] = lambda name: (  # noqa: E731
        "text",
        lambda b, v, line: line.aux.get(name) or line.aux.get(ALIASES.get(name, "")),
    )
    return {
        "日期": ("date", lambda b, v, line: v.date),
        "凭证字": ("text", lambda b, v, line: v.word),
        "凭证号": number,
        "附单据数": ("int", lambda b, v, line: v.attachments),
        "分录序号": ("int", lambda b, v, line: line.seq),
        "摘要": ("text", lambda b, v, line: line.summary or v.summary),
        "科目编码": ("text", lambda b, v, line: line.subject_code),
        "科目名称": ("text", lambda b, v, line: line.subject_name),
        "借方金额": ("money", lambda b, v, line: line.debit or None),
        "贷方金额": ("money", lambda b, v, line: line.credit or None),
        "币别": ("text", lambda b, v, line: b.currency_code),
        "汇率": ("int", lambda b, v, line: 1),
        "原币金额": ("money", lambda b, v, line: line.debit or line.credit),
        "制单人": ("text", lambda b, v, line: b.preparer),
        **{name: dim(name) for name in ("客户", "供应商", "部门", "职员", "项目")},
    }


def _read(template: bytes) -> tuple[str, list[list]]:
    """The sheet's name and its rows down to the header row."""
    wb = open_template(PRODUCT, template)
    try:
        best: list[str] = []
        for ws in wb.worksheets:
            rows = [list(r) for r in ws.iter_rows(max_row=SCAN_ROWS, values_only=True)]
            for n, row in enumerate(rows):
                names = {header_name(v) for v in row}
                found = [h for h in REQUIRED if h in names]
                if len(found) == len(REQUIRED):
                    return ws.title, rows[: n + 1]
                if len(found) > len(best):
                    best = found
    finally:
        wb.close()
    missing = [h for h in REQUIRED if h not in best]
    where = f"the first {SCAN_ROWS} rows of any sheet"
    raise TemplateError(PRODUCT, f"no header row with {', '.join(missing)} in {where}")


def check_template(template: bytes) -> None:
    _read(template)


def default_template() -> bytes:
    return DEFAULT_TEMPLATE.read_bytes()


class GenericXlsxWriter:
    product = PRODUCT
    suffix = ".xlsx"
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    needs_template = True

    def check_template(self, template: bytes) -> None:
        check_template(template)

    def write(self, book: BookHead, vouchers: Sequence[Voucher], template: bytes | None) -> bytes:
        title, rows = _read(template if template is not None else default_template())
        headers = [header_name(v) for v in rows[-1]]
        while headers and not headers[-1]:
            headers.pop()
        fields = _fields(has_word="凭证字" in headers)
        columns = [
            fields.get(h) or ("text", lambda b, v, line, h=h: line.aux.get(h) if h else None)
            for h in headers
        ]
        sheet = SheetWriter(title, book.decimals, frozen_rows=len(rows))
        for row in rows:
            sheet.header(row)
        sheet.rows(
            [kind for kind, _ in columns],
            ([get(book, v, line) for _, get in columns] for v in vouchers for line in v.lines),
        )
        return sheet.close()


WRITER = GenericXlsxWriter()
