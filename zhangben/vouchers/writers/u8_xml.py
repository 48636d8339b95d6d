"""用友 U8 EAI voucher XML: ``<ufinterface roottag="voucher" billtype="gl" …>`` with one
``<voucher>`` per voucher, its ``voucher_head`` and ``voucher_body/entry`` elements in the order
of the public generators (vouchers.md B.1, rambolee200311/klb-u8-interface). Built with
``xml.etree`` (escaping is the library's). UTF-8 by default; ``U8XmlWriter("gb18030")`` for an
EAI that expects GB18030.

``voucher_making_system`` is ``zhangben`` and ``reserve2`` the voucher's ``ref``: U8 keeps the
pair as the external business number, refuses to edit or delete such a voucher and voids it by
that id only, so a re-sent file cannot double-post. ``sender`` is the book code (the 账套
registered with EAI), ``receiver`` ``u8``. A line's dimensions go to
``auxiliary_accounting/item`` under U8's names (:data:`AUX`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

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


def _fill(parent: ET.Element, tag: str, names: Sequence[str], values: dict) -> ET.Element:
    element = ET.SubElement(parent, tag)
    for name in names:
        ET.SubElement(element, name).text = str(values.get(name, ""))
    return element


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


def _aux(body_entry: ET.Element, line: VoucherLine) -> None:
    unknown = [name for name in line.aux if name not in AUX]
    if unknown:
        raise DimensionUnknown(PRODUCT, unknown, list(AUX))
    if line.aux:
        aux = ET.SubElement(body_entry, "auxiliary_accounting")
        for name, value in line.aux.items():
            ET.SubElement(aux, "item", name=AUX[name]).text = value


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
        root = ET.Element(
            "ufinterface",
            roottag="voucher", billtype="gl", receiver="u8", sender=book.book_code,
            proc="add", codeexchanged="N",
        )  # fmt: skip
        for v in vouchers:
            voucher = ET.SubElement(root, "voucher", id=v.ref or f"{v.word}-{v.number}")
            _fill(voucher, "voucher_head", HEAD, {
                "company": book.book_code, "voucher_type": v.word, "fiscal_year": v.year,
                "accounting_period": v.period, "voucher_id": v.number,
                "attachment_number": v.attachments, "date": v.date.isoformat(),
                "enter": book.preparer, "voucher_making_system": MAKING_SYSTEM,
                "memo1": v.summary, "reserve2": v.ref,
            })  # fmt: skip
            body = ET.SubElement(voucher, "voucher_body")
            for line in v.lines:
                entry = _fill(body, "entry", ENTRY, _entry(book, v, line))
                _aux(entry, line)
        ET.indent(root, space=" ")
        return ET.tostring(root, encoding=self.encoding, xml_declaration=True) + b"\n"


WRITER = U8XmlWriter()
