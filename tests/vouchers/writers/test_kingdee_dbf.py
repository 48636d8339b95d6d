"""金蝶 KIS / K3 WISE voucher DBF: the customer's header copied, GBK text, FDC as the template
has it; read back with the ``dbf`` package (not our code); bad templates refused."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import dbf
import pytest

from tests.vouchers.writers.golden import check_golden
from tests.vouchers.writers.templates import (
    FIXTURES,
    check_built,
    dbf_template,
)
from zhangben.vouchers.writers import WRITERS, TemplateError
from zhangben.vouchers.writers.kingdee_dbf import parse

WRITER = WRITERS["kingdee_dbf"]
CUSTOMER = (FIXTURES / "k3wise_customer.dbf").read_bytes()


def _read(data: bytes) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.dbf"
        path.write_bytes(data)
        table = dbf.Table(str(path), codepage="cp936")
        with table.open(dbf.READ_ONLY):
            names = [n.lower() for n in table.field_names]
            rows = [
                {n: (v.strip() if isinstance(v, str) else v) for n, v in zip(names, r, strict=True)}
                for r in table
            ]
    return rows


@pytest.mark.parametrize("name", ["kingdee_voucher.dbf", "k3wise_customer.dbf"])
def test_the_shipped_templates_are_what_the_builders_make(name):
    check_built(name)


def test_customer_template_numeric_fdc_learnt_from_its_record(book, vouchers):
    data = WRITER.write(book, vouchers, CUSTOMER)
    check_golden("k3wise.dbf", data, _read, exact=True)
    header_length = int.from_bytes(CUSTOMER[8:10], "little")
    assert data[4:8] == (9).to_bytes(4, "little")
    assert data[1:4] == bytes((126, 10, 31))  # last update: the latest voucher's date
    assert data[32:header_length] == CUSTOMER[32:header_length]  # the descriptors, as they were
    assert data[29] == CUSTOMER[29]  # the language driver
    rows = _read(data)
    assert len(rows) == 9
    # the template's own record says FDC 1 is a debit
    assert [r["fdc"] for r in rows[:2]] == [1, 0]
    first = rows[0]
    assert (first["fgroup"], first["fnum"], first["fentryid"], first["fperiod"]) == ("记", 1, 0, 10)
    assert str(first["fdate"]) == "2026-10-01"
    assert (first["facctid"], first["fexp"]) == ("1012.01", "天猫A店 10-01 交易 3笔")
    assert first["fprepare"] == "张会计"  # GBK names survive
    assert (rows[1]["fclsname1"], rows[1]["fobjid1"]) == ("客户", "TM-A")
    assert (rows[2]["fclsname1"], rows[2]["fobjname1"]) == ("部门", "电商部")
    assert rows[7]["fdebit"] == -123.45  # the red voucher: negative, still on its side
    for number, voucher in enumerate(vouchers, 1):
        lines = [r for r in rows if r["fnum"] == number]
        debit = sum(round(r["fdebit"] * 100) for r in lines)
        assert debit == sum(round(r["fcredit"] * 100) for r in lines) == voucher.debit_total
        assert {r["freference"] for r in lines} == {voucher.ref}


def test_no_template_uses_the_stand_in_with_fdc_as_letters(book, vouchers):
    rows = _read(WRITER.write(book, vouchers, None))
    assert [r["fdc"] for r in rows[:3]] == ["D", "C", "D"]
    assert rows[0]["fcyid"] == "PRE"  # the book's code, cut to the template's C(3)


def test_numeric_fdc_without_a_record_is_0_for_a_debit(book, vouchers):
    rows = _read(WRITER.write(book, vouchers[:1], dbf_template("FDC N(1,0)")))
    assert [r["fdc"] for r in rows] == [0, 1]


def test_gbk_text_is_cut_at_a_character_and_text_outside_gbk_replaced(book, vouchers):
    long = "天猫" * 60 + "𠀀"
    line = dataclasses.replace(vouchers[2].lines[0], summary=long)
    voucher = dataclasses.replace(vouchers[2], lines=(line, vouchers[2].lines[1]))
    rows = _read(WRITER.write(book, [voucher], None))
    assert rows[0]["fexp"] == "天猫" * 25  # C(100): 50 GBK characters
    line = dataclasses.replace(line, summary="提现𠀀")
    voucher = dataclasses.replace(vouchers[2], lines=(line, vouchers[2].lines[1]))
    assert _read(WRITER.write(book, [voucher], None))[0]["fexp"] == "提现?"


@pytest.mark.parametrize(
    ("template", "named"),
    [
        (b"", "not a dBase file"),
        (b"\x03" + b"\0" * 40, "not a dBase file"),
        (dbf_template(drop=("FDC", "FACCTID")), "lacks the fields FACCTID, FDC"),
        (dbf_template("FDC D"), "FDC is D, not C/N"),
    ],
)
def test_bad_templates_are_refused_naming_what_is_wrong(book, vouchers, template, named):
    with pytest.raises(TemplateError) as refused:
        WRITER.check_template(template)
    assert named in refused.value.message
    with pytest.raises(TemplateError):
        WRITER.write(book, vouchers, template)


def test_an_amount_wider_than_its_field_is_refused(book, vouchers):
    narrow = dbf_template(swap={"FFCYAMT N(19,2)": "FFCYAMT N(6,2)"})
    assert "FFCYAMT" in [f.name for f in parse(narrow).fields]
    with pytest.raises(TemplateError, match=r"FFCYAMT N\(6,2\) cannot hold 12345.67"):
        WRITER.write(book, vouchers, narrow)
