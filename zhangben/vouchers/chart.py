"""The book's 科目 (chart of accounts): the default chart of a standard, and a product's own
科目表 export read in.

The default is the 2006 enterprise standard (企业会计准则, ``cas2006``) with the sub-accounts the
default rules use (vouchers.md#the-default-chart); the small-enterprise standard (小企业会计准则
2013, ``sbe2013``) keeps the 1xxx and 2xxx codes and numbers income and expense 5xxx
(:func:`standard_code`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from zhangben.core.errors import VoucherInvalid
from zhangben.imports.files import normalize_header, open_table
from zhangben.imports.rows import BillFormatError

STANDARDS = ("cas2006", "sbe2013")


@dataclass(frozen=True, slots=True)
class Subject:
    code: str
    name: str
    parent: str | None = None
    leaf: bool = True
    dc: str = "D"  # the balance's direction: D 借 | C 贷
    aux: tuple[str, ...] = field(default=())  # the dimensions a line on it must name

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "parent": self.parent, "leaf": self.leaf,
                "dc": self.dc, "aux": list(self.aux)}  # fmt: skip


#: CAS 2006 codes (odoo l10n_cn cn_common), with the sub-accounts the default rules use:
#: (code, name, direction, required dimensions)
CAS2006: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("1001", "库存现金", "D", ()),
    ("1002", "银行存款", "D", ()),
    ("1012", "其他货币资金", "D", ()),
    ("1012.01", "其他货币资金-支付宝", "D", ()),
    ("1012.02", "其他货币资金-微信支付", "D", ()),
    ("1012.03", "其他货币资金-京东钱包", "D", ()),
    ("1012.04", "其他货币资金-微信小店", "D", ()),
    ("1012.09", "其他货币资金-其他平台", "D", ()),
    ("1012.98", "其他货币资金-在途资金", "D", ()),
    ("1121", "应收票据", "D", ()),
    ("1122", "应收账款", "D", ()),
    ("1122.01", "应收账款-平台", "D", ("客户",)),
    ("1123", "预付账款", "D", ()),
    ("1123.01", "预付账款-京准通", "D", ()),
    ("1221", "其他应收款", "D", ()),
    ("1221.01", "其他应收款-平台保证金", "D", ()),
    ("1221.99", "其他应收款-待查", "D", ()),
    ("1405", "库存商品", "D", ()),
    ("2202", "应付账款", "C", ()),
    ("2203", "预收账款", "C", ()),
    ("2221", "应交税费", "C", ()),
    ("2221.01", "应交增值税", "C", ()),
    ("2221.01.01", "销项税额", "C", ()),
    ("2221.01.02", "进项税额", "C", ()),
    ("2241", "其他应付款", "C", ()),
    ("2241.98", "其他应付款-期初待转", "C", ()),
    ("2241.99", "其他应付款-待查", "C", ()),
    ("6001", "主营业务收入", "C", ()),
    ("6051", "其他业务收入", "C", ()),
    ("6301", "营业外收入", "C", ()),
    ("6401", "主营业务成本", "D", ()),
    ("6601", "销售费用", "D", ()),
    ("6601.01", "销售费用-平台佣金", "D", ()),
    ("6601.02", "销售费用-推广及保险", "D", ()),
    ("6601.03", "销售费用-广告费", "D", ()),
    ("6601.04", "销售费用-运费", "D", ()),
    ("6602", "管理费用", "D", ()),
    ("6603", "财务费用", "D", ()),
    ("6603.01", "财务费用-手续费", "D", ()),
    ("6603.99", "财务费用-尾差", "D", ()),
    ("6711", "营业外支出", "D", ()),
]

#: 小企业会计准则 (2013): income and expense numbered 5xxx (unconfirmed against the standard's
#: appendix: vouchers.md)
SBE2013_CODES = {"6001": "5001", "6051": "5051", "6301": "5301", "6401": "5401",
                 "6601": "5601", "6602": "5602", "6603": "5603", "6711": "5711"}  # fmt: skip

ROUNDING_SUBJECT = "6603.99"


def standard_code(code: str, standard: str) -> str:
    """A CAS 2006 code in ``standard``: ``6603.01`` is ``5603.01`` in sbe2013."""
    if standard == "sbe2013":
        head, dot, rest = code.partition(".")
        return SBE2013_CODES.get(head, head) + dot + rest
    return code


def default_chart(standard: str) -> list[Subject]:
    if standard not in STANDARDS:
        raise VoucherInvalid(f"standard {standard!r} is not one of {', '.join(STANDARDS)}")
    rows = [(standard_code(c, standard), n, dc, aux) for c, n, dc, aux in CAS2006]
    return with_tree([Subject(code=c, name=n, dc=dc, aux=aux) for c, n, dc, aux in rows])


def with_tree(subjects: list[Subject]) -> list[Subject]:
    """Each subject's parent (the longest other code it starts with, as ``1012`` of
    ``1012.01`` or of ``101201``) and whether it is a leaf (no subject under it)."""
    codes = {s.code for s in subjects}
    out = []
    parents = set()
    for s in subjects:
        parent = s.parent
        if parent is None:
            for cut in range(len(s.code) - 1, 0, -1):
                candidate = s.code[:cut].rstrip(".")
                if candidate in codes and candidate != s.code:
                    parent = candidate
                    break
        parents.add(parent)
        out.append(Subject(s.code, s.name, parent, True, s.dc, s.aux))
    return [Subject(s.code, s.name, s.parent, s.code not in parents, s.dc, s.aux) for s in out]


# -- a product's own 科目表 export -------------------------------------------------------------

_HEADERS = {
    "code": ("科目编码", "科目代码", "编码", "代码", "code", "fnumber"),
    "name": ("科目名称", "名称", "name", "fname", "科目全名"),
    "dc": ("余额方向", "方向", "借贷方向", "direction", "dc"),
    "aux": ("辅助核算", "核算维度", "核算项目", "辅助核算类别", "aux"),
}
_DC = {"借": "D", "d": "D", "debit": "D", "1": "D", "贷": "C", "c": "C", "credit": "C", "-1": "C"}
_AUX_SPLIT = ("/", "、", ",", "，", ";", "；", "|")


def read_chart(source: str | Path | bytes, filename: str | None = None) -> list[Subject]:
    """The 科目 of a 科目表 export (CSV or XLSX; a header row naming code, name, direction and,
    optionally, dimensions). Refused, naming each, when codes repeat or a row is incomplete."""
    try:
        rows = iter(open_table(source, filename))
        header_line, columns = _header(rows)
        problems, subjects, seen = [], [], {}
        for line, cells in rows:
            if not any(c.strip() for c in cells):
                continue
            cell = {k: (cells[i].strip() if i is not None and i < len(cells) else "")
                    for k, i in columns.items()}  # fmt: skip
            code, name = cell["code"], cell["name"]
            dc = _DC.get(cell["dc"].lower()) if cell["dc"] else "D"
            if not code or not name:
                problems.append(f"line {line}: a 科目 needs a code and a name")
                continue
            if dc is None:
                problems.append(f"line {line}: direction {cell['dc']!r} is not 借 or 贷")
                continue
            if code in seen:
                problems.append(f"duplicate code {code} (lines {seen[code]} and {line})")
                continue
            seen[code] = line
            aux = cell["aux"]
            for sep in _AUX_SPLIT:
                aux = aux.replace(sep, " ")
            subjects.append(Subject(code=code, name=name, dc=dc, aux=tuple(aux.split())))
    except BillFormatError as exc:
        raise VoucherInvalid(f"chart: {exc}") from None
    if problems:
        raise VoucherInvalid(f"chart refused: {'; '.join(problems[:20])}", problems)
    if not subjects:
        raise VoucherInvalid(f"chart refused: no 科目 after the header (line {header_line})")
    return with_tree(subjects)


def _header(rows) -> tuple[int, dict[str, int | None]]:
    for line, cells in rows:
        names = [normalize_header(c).lower() for c in cells]
        found = {}
        for key, aliases in _HEADERS.items():
            wanted = {normalize_header(a).lower() for a in aliases}
            found[key] = next((i for i, n in enumerate(names) if n in wanted), None)
        if found["code"] is not None and found["name"] is not None:
            return line, found
        if line >= 20:
            break
    raise VoucherInvalid("chart refused: no header row naming 科目编码 and 科目名称")


def aux_json(aux) -> str:
    return json.dumps(list(aux), ensure_ascii=False)
