"""A small ledger for the export and find tests, and the rows an export must hold for it.

``books(ledger, tmp_path)``: three accounts in two shops, postings made by hand with hostile
texts (a formula, a comma, quotes, a line break, a control character), a transfer, a reversal,
and a 30-row Alipay bill imported (flow numbers, merchant order numbers, counterparties)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl

from zhangben.core.money import format_amount
from zhangben.demo import bills as samples
from zhangben.exports.layout import FLOW_COLUMNS, MONEY_FORMAT, TYPE_LABELS
from zhangben.imports.runner import import_file

SH = ZoneInfo("Asia/Shanghai")
HEADERS = [c.header for c in FLOW_COLUMNS]
BILL_ROWS = 30


def books(ledger, tmp_path) -> None:
    ledger.open_account(number="ACC001", name="主账户", shop_code="S001")
    ledger.open_account(number="ACC002", name='备用, "二号"', type="backup", shop_code="S002")
    ledger.open_account(
        number="ALI001", name="支付宝-旗舰店", type="alipay", shop_code="S001", allow_overdraft=True
    )
    ledger.income(
        "ACC001",
        "1000.1234",
        trade_no="T-1",
        counterparty='=HYPERLINK("http://x")',
        description='a,b "c"\n第二行',
        remark="销售\x01收款",
        trade_time=datetime(2024, 2, 1, 9, 30, tzinfo=SH),
    )
    cost = ledger.expense(
        "ACC001", "12.5", trade_no="T-2", counterparty="+8613800000000", remark="-退款"
    )
    ledger.transfer("ACC001", "ACC002", "3", trade_no="T-3", description="调拨")
    ledger.reverse_entry(cost.entries[0].id)
    bill = samples.write_alipay_csv(
        tmp_path / "alipay.csv", list(samples.chained_txns(BILL_ROWS, seed=5))
    )
    import_file(ledger, bill, account="ALI001")


def local(instant: datetime) -> str:
    return instant.astimezone(SH).strftime("%Y-%m-%d %H:%M:%S")


def safe(text):
    return "'" + text if text and text[0] in "=+-@\t\r" else text


def csv_cells(e) -> list[str]:
    """The CSV row an entry must give, from its Entry record (the JSON list's fields)."""
    cells = [
        e.id, local(e.trade_time), safe(e.trade_no), safe(e.account_number),
        safe(e.account_name), safe(e.shop_code), TYPE_LABELS[e.type],
        format_amount(e.amount) if e.amount >= 0 else None,
        format_amount(-e.amount) if e.amount < 0 else None,
        format_amount(e.balance_after), e.currency, safe(e.category_name),
        safe(e.subject_name), safe(e.counterparty), safe(e.description), safe(e.remark),
        safe(e.source), safe(e.external_id), e.posting_id, e.reverses_entry_id,
        local(e.recorded_at),
    ]  # fmt: skip
    return ["" if c is None else str(c) for c in cells]


def excel_text(text):
    """A text as the XML holds it: a control character as Excel's escape ``_x0001_``, which
    Excel reads back as the character (openpyxl leaves it as it is)."""
    if text is None:
        return None
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: f"_x{ord(m[0]):04X}_", text)


def xlsx_cells(e) -> list:
    """The typed XLSX row an entry must give, as openpyxl reads it back (money as Decimal,
    times as naive local datetimes, empty text as None)."""

    def when(t):
        return t.astimezone(SH).replace(tzinfo=None)

    return [
        e.id, when(e.trade_time), e.trade_no, e.account_number, e.account_name, e.shop_code,
        TYPE_LABELS[e.type], e.amount if e.amount >= 0 else None,
        -e.amount if e.amount < 0 else None, e.balance_after, e.currency, e.category_name,
        e.subject_name, e.counterparty, e.description or None, excel_text(e.remark) or None,
        e.source,
        e.external_id, e.posting_id, e.reverses_entry_id, when(e.recorded_at),
    ]  # fmt: skip


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM"
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    assert rows[0] == HEADERS
    return rows[1:]


def read_xlsx(path) -> list[list]:
    """The data rows of every sheet, typed back: money cells must show two decimals and
    hold the exact value (a float whose shortest text is the 4-place decimal)."""
    book = openpyxl.load_workbook(path, read_only=True)
    rows = []
    money = [i for i, c in enumerate(FLOW_COLUMNS) if c.kind == "money"]
    for sheet in book.worksheets:
        cells = list(sheet.iter_rows())
        assert [c.value for c in cells[0]] == HEADERS
        for row in cells[1:]:
            values = [c.value for c in row] + [None] * (len(HEADERS) - len(row))
            for i in money:
                if values[i] is not None:
                    assert row[i].number_format == MONEY_FORMAT
                    values[i] = Decimal(repr(values[i])).quantize(Decimal("0.0001"))
            rows.append(values)
    book.close()
    return rows


def same_rows(got: list[list], want: list[list]) -> None:
    """Row for row; instants within a millisecond (a spreadsheet's serial date is a float)."""
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        for a, b in zip(g, w, strict=True):
            if isinstance(b, datetime):
                assert isinstance(a, datetime) and abs(a - b) < timedelta(milliseconds=1), (g, w)
            else:
                assert a == b, (g, w)
