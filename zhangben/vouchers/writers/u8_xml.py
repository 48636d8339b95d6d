"""用友 U8 EAI voucher XML: ``<ufinterface roottag="voucher" billtype="gl" …>`` with one
``<voucher>`` per voucher, its ``voucher_head`` and ``voucher_body/entry`` elements in the order
of the public generators (vouchers.md B.1, rambolee200311/klb-u8-interface). Written with the
stdlib's ``XMLGenerator`` as the elements are made (escaping is the library's; no XML is
built by string concatenation). UTF-8 by default; ``U8XmlWriter("gb18030")`` for an
EAI that expects GB18030.

``voucher_making_system`` is ``zhangben`` and ``reserve2`` the voucher's ``ref``: U8 keeps the
pair as the external business number, refuses to edit or delete such a voucher and voids it by
that id only, so a re-sent file cannot double-post. ``sender`` is the book code (the 账套
registered with EAI), ``receiver`` ``u8``. A line's dimensions go to
``auxiliary_accounting/item`` under U8's names (:data:`AUX`)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import XMLGenerator

from zhangben.vouchers.model import BookHead, Voucher, VoucherLine
from zhangben.vouchers.writers._amounts import decimal
from zhangben.vouchers.writers.errors import DimensionUnknown

PRODUCT = "u8_xml"
MAKING_SYSTEM = "zhangben"
AUX = {"客户": "cust_id", "供应商": "supplier_id", "部门": "dept_id", "职员": "personnel_id",
       "员工": "personnel_id", "项目": "item_id"}  # fmt: skip
HEAD = ("company", "voucher_type", "fiscal_year", "accounting_period", "voucher_id",
        "attachment_number", "date", "enter", "cashier", "signature", "checker", "posting_date",
        "posting_person", "voucher_making_system", "memo1", "memo2", "reserve1", "reserve2",
        "revokeflag")  # fmt: skip
ENTRY = ("entry_id", "account_code", "abstract", "settlement", "document_id", "document_date",
         "currency", "unit_price", "exchange_rate1", "exchange_rate2", "debit_quantity",
         "primary_debit_amount", "secondary_debit_amount", "natural_debit_currency",
         "credit_quantity", "primary_credit_amount", "secondary_credit_amount",
         "natural_credit_currency", "bill_type", "bill_id", "bill_date")  # fmt: skip


class _Xml:
    """Elements written as they are made (``XMLGenerator`` escapes text and attributes), one
    per line, indented: a month of vouchers is never one tree in memory."""

    def __init__(self, out: io.BytesIO, encoding: str) -> None:
        self.gen = XMLGenerator(out, encoding, short_empty_elements=True)
        self.depth = 0

    def start(self, tag: str, **attrs: str) -> None:
        if self.depth:
            self.gen.ignorableWhitespace("\n" + " " * self.depth)
        self.gen.startElement(tag, attrs)
        self.depth += 1

    def end(self, tag: str) -> None:
        self.depth -= 1
        self.gen.ignorableWhitespace("\n" + " " * self.depth)
        self.gen.endElement(tag)

    def leaf(self, tag: str, text: object, **attrs: str) -> None:
        self.gen.ignorableWhitespace("\n" + " " * self.depth)
        self.gen.startElement(tag, attrs)
        if text not in (None, ""):
            self.gen.characters(str(text))
        self.gen.endElement(tag)

    def block(self, tag: str, names: Sequence[str], values: dict) -> None:
        self.start(tag)
        for name in names:
            self.leaf(name, values.get(name))
        self.end(tag)


def _entry(book: BookHead, v: Voucher, line: VoucherLine) -> dict:
    amount = decimal(line.debit or line.credit, book.decimals)
    values = {
        "entry_id": line.seq,
        "account_code": line.subject_code,
        "abstract": line.summary or v.summary,
        "currency": book.currency_code,
        "exchange_rate2": 1,
    }
    side = "debit" if line.debit else "credit"
    values[f"primary_{side}_amount"] = amount
    values[f"natural_{side}_currency"] = amount
    other = "credit" if side == "debit" else "debit"
    values[f"natural_{other}_currency"] = decimal(0, book.decimals)
    return values


def _aux(xml: _Xml, line: VoucherLine) -> None:
    unknown = [name for name in line.aux if name not in AUX]
    if unknown:
        raise DimensionUnknown(PRODUCT, unknown, list(AUX))
    if line.aux:
        xml.start("auxiliary_accounting")
        for name, value in line.aux.items():
            xml.leaf("item", value, name=AUX[name])
        xml.end("auxiliary_accounting")


class U8XmlWriter:
    product = PRODUCT
    suffix = ".xml"
    media_type = "application/xml"
    needs_template = False

    def __init__(self, encoding: str = "utf-8") -> None:
        self.encoding = encoding

    def check_template(self, template: bytes) -> None:
        """No template: the EAI's element names are fixed."""

    def write(self, book: BookHead, vouchers: Sequence[Voucher], template: bytes | None) -> bytes:
        out = io.BytesIO()
        xml = _Xml(out, self.encoding)
        xml.gen.startDocument()
        xml.start(
            "ufinterface",
            roottag="voucher", billtype="gl", receiver="u8", sender=book.book_code,
            proc="add", codeexchanged="N",
        )  # fmt: skip
        for v in vouchers:
            xml.start("voucher", id=v.ref or f"{v.word}-{v.number}")
            xml.block("voucher_head", HEAD, {
                "company": book.book_code, "voucher_type": v.word, "fiscal_year": v.year,
                "accounting_period": v.period, "voucher_id": v.number,
                "attachment_number": v.attachments, "date": v.date.isoformat(),
                "enter": book.preparer, "voucher_making_system": MAKING_SYSTEM,
                "memo1": v.summary, "reserve2": v.ref,
            })  # fmt: skip
            xml.start("voucher_body")
            for line in v.lines:
                xml.start("entry")
                values = _entry(book, v, line)
                for name in ENTRY:
                    xml.leaf(name, values.get(name))
                _aux(xml, line)
                xml.end("entry")
            xml.end("voucher_body")
            xml.end("voucher")
        xml.end("ufinterface")
        xml.gen.endDocument()
        out.write(b"\n")
        return out.getvalue()


WRITER = U8XmlWriter()
