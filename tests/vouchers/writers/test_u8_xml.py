"""用友 U8 EAI voucher XML: the ufinterface envelope, heads and entries read back with
xml.etree, the external id for idempotent re-sends, GB18030 on request, text escaped."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from tests.vouchers.writers.golden import check_golden
from zhangben.vouchers.writers import WRITERS
from zhangben.vouchers.writers.errors import DimensionUnknown
from zhangben.vouchers.writers.u8_xml import U8XmlWriter

WRITER = WRITERS["u8_xml"]


def _read(data: bytes) -> list[tuple]:
    root = ET.fromstring(data)
    return [(e.tag, dict(e.attrib), (e.text or "").strip()) for e in root.iter()]


def _money(text: str) -> int:
    return int(Decimal(text or "0") * 100)


def test_vouchers_as_ufinterface(book, vouchers):
    data = WRITER.write(book, vouchers, None)
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<ufinterface ')
    check_golden("u8.xml", data, _read, exact=True)
    root = ET.fromstring(data)
    assert root.tag == "ufinterface"
    assert root.attrib["billtype"] == "gl" and root.attrib["roottag"] == "voucher"
    assert root.attrib["proc"] == "add"
    xml_vouchers = root.findall("voucher")
    assert len(xml_vouchers) == 4
    for element, voucher in zip(xml_vouchers, vouchers, strict=True):
        head = element.find("voucher_head")
        assert head.findtext("voucher_type") == "记"
        assert head.findtext("voucher_id") == str(voucher.number)
        assert head.findtext("fiscal_year") == "2026"
        assert head.findtext("accounting_period") == "10"
        assert head.findtext("date") == voucher.date.isoformat()
        assert head.findtext("enter") == "张会计"
        assert head.findtext("voucher_making_system") == "zhangben"
        assert head.findtext("reserve2") == voucher.ref
        entries = element.findall("voucher_body/entry")
        assert [e.findtext("account_code") for e in entries] == [
            line.subject_code for line in voucher.lines
        ]
        debit = sum(_money(e.findtext("natural_debit_currency")) for e in entries)
        credit = sum(_money(e.findtext("natural_credit_currency")) for e in entries)
        assert debit == credit == voucher.debit_total
    red = xml_vouchers[3].findall("voucher_body/entry")[0]
    assert red.findtext("natural_debit_currency") == "-123.45"
    customer = xml_vouchers[0].findall("voucher_body/entry")[1]
    assert customer.find("auxiliary_accounting/item").attrib == {"name": "cust_id"}
    assert customer.findtext("auxiliary_accounting/item") == "TM-A"
    dept = xml_vouchers[1].find("voucher_body/entry/auxiliary_accounting/item")
    assert (dept.attrib["name"], dept.text) == ("dept_id", "电商部")


def test_gb18030_and_markup_in_text(book, vouchers):
    line = dataclasses.replace(vouchers[2].lines[0], summary='提现 <A&B> "店" 𠀀')
    voucher = dataclasses.replace(vouchers[2], lines=(line, vouchers[2].lines[1]))
    data = U8XmlWriter("gb18030").write(book, [voucher], None)
    assert data.startswith(b'<?xml version="1.0" encoding="gb18030"?>')
    assert "提现".encode("gb18030") in data
    # expat reads no multi-byte codec: the text decoded by Python, then parsed
    entry = ET.fromstring(data.decode("gb18030")).find("voucher/voucher_body/entry")
    assert entry.findtext("abstract") == '提现 <A&B> "店" 𠀀'


def test_an_unknown_dimension_is_refused(book, vouchers):
    line = dataclasses.replace(vouchers[0].lines[1], aux={"仓库": "W1"})
    voucher = dataclasses.replace(vouchers[0], lines=(vouchers[0].lines[0], line))
    with pytest.raises(DimensionUnknown, match="仓库"):
        WRITER.write(book, [voucher], None)
