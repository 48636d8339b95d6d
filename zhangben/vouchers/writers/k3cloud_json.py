"""金蝶云星空 (K/3 Cloud) voucher as the WebAPI's GL_VOUCHER BatchSave JSON, written to a file
(zhangben makes no network call): ``{"formid": "GL_VOUCHER", "data": {"Model": [...]}}``, one
model per voucher, base data as ``{"FNumber": code}`` (vouchers.md B.1, the Save DTO of
vebin/Kingdee.Bos.Plug). The integrator posts ``data`` to ``…/BatchSave`` with that form id.

A line's dimensions go to ``FDetailID`` as ``FDETAILID__<flex>``: the standard flex fields by
name (:data:`FLEX`), or the tenant's own code when the ``aux`` key is one (``FF100002``)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence

from zhangben.vouchers.model import BookHead, Voucher, VoucherLine
from zhangben.vouchers.writers._amounts import number
from zhangben.vouchers.writers.errors import DimensionUnknown
from zhangben.vouchers.writers.k3cloud_xlsx import GROUP_CODES

PRODUCT = "k3cloud_json"
FORM_ID = "GL_VOUCHER"
#: the standard K/3 Cloud flex dimensions (a tenant's custom ones are FF1xxxxx codes)
FLEX = {"供应商": "FFLEX4", "部门": "FFLEX5", "客户": "FFLEX6", "员工": "FFLEX7", "职员": "FFLEX7",
        "物料": "FFLEX8", "费用项目": "FFLEX9"}  # fmt: skip
_FLEX_CODE = re.compile(r"^F(FLEX\d+|F\d+)$")


def _ref(code: str) -> dict[str, str]:
    return {"FNumber": code}


def _detail(line: VoucherLine) -> dict[str, dict[str, str]]:
    detail, unknown = {}, []
    for name, value in line.aux.items():
        flex = FLEX.get(name) or (name if _FLEX_CODE.match(name) else None)
        if flex is None:
            unknown.append(name)
        elif value:
            detail[f"FDETAILID__{flex}"] = _ref(value)
    if unknown:
        raise DimensionUnknown(PRODUCT, unknown, [*FLEX, "FFLEXn", "FF1xxxxx"])
    return detail


def _model(book: BookHead, v: Voucher) -> dict:
    d = book.decimals
    entries = []
    for line in v.lines:
        entry = {
            "FEXPLANATION": line.summary or v.summary,
            "FACCOUNTID": _ref(line.subject_code),
            "FCURRENCYID": _ref(book.currency_code),
            "FEXCHANGERATETYPE": _ref(book.rate_type),
            "FEXCHANGERATE": 1,
            "FAMOUNTFOR": number(line.debit or line.credit, d),
            "FDEBIT": number(line.debit, d),
            "FCREDIT": number(line.credit, d),
        }
        detail = _detail(line)
        if detail:
            entry["FDetailID"] = detail
        entries.append(entry)
    return {
        "FAccountBookID": _ref(book.book_code),
        "FDate": v.date.isoformat(),
        "FBUSDATE": v.date.isoformat(),
        "FYEAR": v.year,
        "FPERIOD": v.period,
        "FVOUCHERGROUPID": _ref(GROUP_CODES.get(v.word, v.word)),
        "FVOUCHERGROUPNO": str(v.number),
        "FATTACHMENTS": v.attachments,
        "FACCBOOKORGID": _ref(book.org_code),
        "FEntity": entries,
    }


class K3CloudJsonWriter:
    product = PRODUCT
    suffix = ".json"
    media_type = "application/json"
    needs_template = False

    def check_template(self, template: bytes) -> None:
        """No template: the JSON's fields are the WebAPI's own."""

    def write(self, book: BookHead, vouchers: Sequence[Voucher], template: bytes | None) -> bytes:
        """One model per line, each serialised on its own: a month of vouchers never sits in
        memory as one nested structure."""
        out = io.BytesIO()
        out.write(f'{{"formid": {json.dumps(FORM_ID)}, "data": {{"Model": ['.encode())
        for n, v in enumerate(vouchers):
            out.write(b"\n" if n == 0 else b",\n")
            out.write(json.dumps(_model(book, v), ensure_ascii=False).encode("utf-8"))
        out.write(b"\n]}}\n")
        return out.getvalue()


WRITER = K3CloudJsonWriter()
