"""金蝶 KIS / K3 WISE "标准凭证引入" DBF (vouchers.md B.1, ourworldcn/PowerLms), in GBK.

The field list, types, widths and decimals are those of the customer's own 引出 file: its
header is copied byte for byte (version, language driver, every field descriptor); only the
date of last update and the record count are set. Each voucher line is one record; the head
fields (FDATE, FGROUP, FNUM …) repeat on every line, as the import expects.

``FDC`` (借贷方向) differs between versions: a C field gets ``D``/``C``; an N field gets the
numbers the template's own records use (learnt from its first record with an amount), else
PowerLms's ``0`` 借 / ``1`` 贷. The 核算项目 of a line fill ``FCLSNAMEn`` (the category, e.g.
客户), ``FOBJIDn`` (the code) and ``FOBJNAMEn`` in the order of its ``aux``.

Written by hand rather than with the ``dbf`` package (which the tests use as the independent
reader): the header must be the customer's bytes, not a library's re-creation of it, and rows
stream as bytes. Text outside GBK is written as ``?``.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from zhangben.vouchers.model import BookHead, Voucher, VoucherLine
from zhangben.vouchers.writers._amounts import decimal
from zhangben.vouchers.writers.errors import TemplateError

PRODUCT = "kingdee_dbf"
ENCODING = "gbk"
#: fields a template must have, with the types each may take
REQUIRED = {"FDATE": "DC", "FPERIOD": "NF", "FGROUP": "C", "FNUM": "NF", "FENTRYID": "NF",
            "FEXP": "C", "FACCTID": "C", "FDC": "CN", "FDEBIT": "NF", "FCREDIT": "NF"}  # fmt: skip
#: FDC as a number when the template has no record to learn it from (PowerLms: 0 借, 1 贷)
NUMERIC_DC = {"D": 0, "C": 1}
VERSIONS = {0x03, 0x83, 0x8B, 0xF5, 0x30, 0x31, 0x32, 0x43, 0x63, 0xCB, 0xFB}
DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "kingdee_voucher.dbf"


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    offset: int  # in the record, after the deletion flag
    length: int
    decimals: int


@dataclass(frozen=True, slots=True)
class Template:
    header: bytes
    record_length: int
    fields: tuple[Field, ...]
    dc: dict[str, object]  # "D"/"C" → what FDC holds for it


def _refuse(message: str) -> TemplateError:
    return TemplateError(PRODUCT, message)


def parse(template: bytes) -> Template:
    """The template's header and fields, refused when it is not a voucher DBF."""
    if len(template) < 33 or template[0] not in VERSIONS:
        raise _refuse("not a dBase file (no dBase header)")
    count, header_length, record_length = struct.unpack_from("<IHH", template, 4)
    if header_length > len(template) or header_length < 33:
        raise _refuse("not a dBase file (its header length is out of the file)")
    fields, pos, offset = [], 32, 1
    while pos + 32 <= header_length and template[pos] != 0x0D:
        raw = template[pos : pos + 32]
        name = raw[:11].split(b"\0", 1)[0].decode("ascii", "replace").strip().upper()
        fields.append(Field(name, chr(raw[11]), offset, raw[16], raw[17]))
        offset += raw[16]
        pos += 32
    if pos >= header_length or template[pos] != 0x0D or offset != record_length:
        raise _refuse("not a dBase file (its field descriptors do not add up)")
    by_name = {f.name: f for f in fields}
    missing = [name for name in REQUIRED if name not in by_name]
    if missing:
        raise _refuse(f"the DBF lacks the fields {', '.join(missing)}")
    wrong = [
        f"{name} is {by_name[name].type}, not {'/'.join(types)}"
        for name, types in REQUIRED.items()
        if by_name[name].type not in types
    ]
    if wrong:
        raise _refuse("; ".join(wrong))
    t = Template(template[:header_length], record_length, tuple(fields), {})
    t.dc.update(_learn_dc(t, template[header_length:], count))
    return t


def _learn_dc(t: Template, body: bytes, count: int) -> dict[str, object]:
    """What the template's own records put in FDC for a debit and for a credit."""
    f = {f.name: f for f in t.fields}
    fdc, debit, credit = f["FDC"], f["FDEBIT"], f["FCREDIT"]
    if fdc.type == "C":
        return {"D": "D", "C": "C"}
    learnt: dict[str, object] = {}
    for i in range(min(count, len(body) // t.record_length)):
        record = body[i * t.record_length : (i + 1) * t.record_length]

        def value(field: Field, record: bytes = record) -> str:
            return record[field.offset : field.offset + field.length].decode("ascii", "replace")

        try:
            code = int(value(fdc).strip() or "x")
            side = "D" if Decimal(value(debit).strip() or "0") else None
            side = side or ("C" if Decimal(value(credit).strip() or "0") else None)
        except (ArithmeticError, ValueError):
            continue
        if side:
            learnt[side] = code
            learnt.setdefault("C" if side == "D" else "D", 1 - code if code in (0, 1) else None)
            break
    if not learnt or None in learnt.values():
        return dict(NUMERIC_DC)
    return learnt


def check_template(template: bytes) -> None:
    parse(template)


def default_template() -> bytes:
    return DEFAULT_TEMPLATE.read_bytes()


def _text(value: str, length: int) -> bytes:
    data = value.encode(ENCODING, "replace")
    if len(data) > length:  # cut at a character, never inside a GBK pair
        data = data[:length].decode(ENCODING, "ignore").encode(ENCODING)
    return data.ljust(length, b" ")


def _cell(field: Field, value: object) -> bytes:
    kind, length = field.type, field.length
    if kind in "NF":
        if value is None or value == "":
            value = 0
        text = f"{Decimal(value):.{field.decimals}f}"
        if len(text) > length or Decimal(text) != Decimal(value):
            raise _refuse(
                f"field {field.name} {kind}({length},{field.decimals}) cannot hold {value}"
            )
        return text.rjust(length).encode("ascii")
    if kind == "D":
        return value.strftime("%Y%m%d").encode() if isinstance(value, date) else b" " * 8
    if kind == "L":
        return b"T" if value is True else b"F" if value is False or value is None else b"?"
    if kind == "C":
        return _text("" if value is None else str(value), length)
    return b"\0" * length if kind in "IBY0" else b" " * length  # memo, binary: left empty


class _Ctx:
    __slots__ = ("aux", "book", "dc", "index", "line", "voucher")


def _dim(kind: str, n: int) -> Callable[[_Ctx], object]:
    def get(c: _Ctx) -> object:
        if n > len(c.aux):
            return None
        name, value = c.aux[n - 1]
        return name if kind == "CLS" else value

    return get


def _side(line: VoucherLine) -> str:
    return "D" if line.debit else "C"


GETTERS: dict[str, Callable[[_Ctx], object]] = {
    "FDATE": lambda c: c.voucher.date,
    "FTRANSDATE": lambda c: c.voucher.date,
    "FPERIOD": lambda c: c.voucher.period,
    "FYEAR": lambda c: c.voucher.year,
    "FGROUP": lambda c: c.voucher.word,
    "FNUM": lambda c: c.voucher.number,
    "FENTRYID": lambda c: c.line.seq - 1,  # K3 WISE numbers entries from 0
    "FEXP": lambda c: c.line.summary or c.voucher.summary,
    "FACCTID": lambda c: c.line.subject_code,
    "FACCTNAME": lambda c: c.line.subject_name,
    "FCYID": lambda c: c.book.currency_code,
    "FEXCHRATE": lambda c: 1,
    "FDC": lambda c: c.dc[_side(c.line)],
    "FFCYAMT": lambda c: decimal(c.line.debit or c.line.credit, c.book.decimals),
    "FDEBIT": lambda c: decimal(c.line.debit, c.book.decimals),
    "FCREDIT": lambda c: decimal(c.line.credit, c.book.decimals),
    "FPREPARE": lambda c: c.book.preparer,
    "FATTCHMENT": lambda c: c.voucher.attachments,
    "FPOSTED": lambda c: False,
    "FDELETED": lambda c: False,
    "FREFERENCE": lambda c: c.voucher.ref,
}
for _n in range(1, 16):
    GETTERS[f"FCLSNAME{_n}"] = _dim("CLS", _n)
    GETTERS[f"FOBJID{_n}"] = _dim("OBJ", _n)
    GETTERS[f"FOBJNAME{_n}"] = _dim("OBJ", _n)


class KingdeeDbfWriter:
    product = PRODUCT
    suffix = ".dbf"
    media_type = "application/dbf"
    needs_template = True

    def check_template(self, template: bytes) -> None:
        check_template(template)

    def write(self, book: BookHead, vouchers: Sequence[Voucher], template: bytes | None) -> bytes:
        t = parse(template if template is not None else default_template())
        # a field zhangben does not fill, or a value left empty, is the same bytes every time
        blanks = {f.name: _cell(f, None) for f in t.fields}
        filled = [(f, GETTERS[f.name]) for f in t.fields if f.name in GETTERS]
        ctx = _Ctx()
        ctx.book, ctx.dc = book, t.dc
        out = io.BytesIO()
        out.write(t.header)
        count = 0
        for index, voucher in enumerate(vouchers, 1):
            ctx.index, ctx.voucher = index, voucher
            for line in voucher.lines:
                ctx.line, ctx.aux = line, list(line.aux.items())
                cells = dict(blanks)
                for f, get in filled:
                    value = get(ctx)
                    if value is not None and value != "":
                        cells[f.name] = _cell(f, value)
                out.write(b" ")
                out.write(b"".join(cells.values()))
                count += 1
        out.write(b"\x1a")
        data = out.getbuffer()
        if vouchers:  # the date of last update: the latest voucher's, so the file is reproducible
            last = max(v.date for v in vouchers)
            data[1:4] = bytes((last.year - 1900, last.month, last.day))
        struct.pack_into("<I", data, 4, count)
        del data
        return out.getvalue()


WRITER = KingdeeDbfWriter()
