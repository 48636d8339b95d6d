"""Order files: the expected lines (应收/应退) of orders, read from a CSV or XLSX export.

The layout (docs/reconciliation.md#the-order-file): one line per expected money movement,
columns found by their header text (full- and half-width punctuation alike, in any order),
with aliases for common exports and an explicit ``mapping`` for a shop's own headers:

==========  ========  =====================================================================
column      required  meaning
==========  ========  =====================================================================
店铺        no        the shop code (else ``--shop``)
平台        no        alipay | wechat | wechat_shop | jd_wallet | jzt | taobao | tmall | jd |
                      pdd | douyin | other (else ``--platform``, default other)
订单号      yes       the order number, normalised as the bill rows' keys are
类型        yes       sale 销售 | refund 退款 | freight 运费 | commission 佣金 |
                      service_fee 服务费 | subsidy 补贴 | adjustment 调整
金额        yes       yuan, up to 4 places; refund, commission and service_fee are money out
                      whatever their sign, the others keep theirs
发生时间    yes       ship or refund time, ``yyyy-MM-dd HH:mm:ss`` (business time zone)
来源单号    no        the line's reference in the source, unique per shop; without it the
                      line's own content (and its occurrence) is its reference
备注        no        a memo
==========  ========  =====================================================================

A bad file is refused whole (:class:`~zhangben.core.errors.OrderFileError`, naming the line
and column); nothing is read past the first problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from zhangben.core.errors import OrderFileError
from zhangben.core.money import to_minor
from zhangben.imports.files import normalize_header, open_table
from zhangben.imports.rows import BillFormatError, parse_amount, parse_time
from zhangben.recon.keys import normalise

KINDS = ("sale", "refund", "freight", "commission", "service_fee", "subsidy", "adjustment")
KIND_LABELS = {
    "销售": "sale",
    "退款": "refund",
    "运费": "freight",
    "佣金": "commission",
    "服务费": "service_fee",
    "补贴": "subsidy",
    "调整": "adjustment",
}
#: kinds that are money out, whatever sign the file gives them
OUT_KINDS = frozenset({"refund", "commission", "service_fee"})
PLATFORMS = (
    "alipay", "wechat", "wechat_shop", "jd_wallet", "jzt", "taobao", "tmall", "jd", "pdd",
    "douyin", "other",
)  # fmt: skip

COLUMNS = ("店铺", "平台", "订单号", "类型", "金额", "发生时间", "来源单号", "备注")
REQUIRED = ("订单号", "类型", "金额", "发生时间")
ALIASES = {
    "店铺": ("shop", "店铺编码", "店铺代码"),
    "平台": ("platform",),
    "订单号": ("order_no", "订单编号", "平台订单号", "外部订单号", "tid"),
    "类型": ("kind", "款项类型", "费用类型"),
    "金额": ("amount", "金额(元)", "应收金额"),
    "发生时间": ("occurred_at", "发货时间", "时间"),
    "来源单号": ("source_ref", "明细单号", "行号"),
    "备注": ("memo", "说明"),
}

#: Days after a line occurred that it is awaited before it is overdue, by (platform, kind);
#: ``None`` stands for any. Examples to tune (reconciliation.md §A.2.3): Alipay pays a sale
#: when the buyer confirms receipt, WeChat the next day.
GRACE_DAYS: dict[tuple[str | None, str | None], int] = {
    ("alipay", "sale"): 15,
    ("taobao", "sale"): 15,
    ("tmall", "sale"): 15,
    ("alipay", "refund"): 3,
    ("wechat", None): 1,
    (None, "refund"): 3,
    (None, None): 7,
}
#: Days a bill row waits for its order before it is 到账无订单.
ACTUAL_GRACE_DAYS = 3


def grace(platform: str, kind: str) -> timedelta:
    for k in ((platform, kind), (platform, None), (None, kind), (None, None)):
        if k in GRACE_DAYS:
            return timedelta(days=GRACE_DAYS[k])
    raise AssertionError("unreachable")


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One expected line, checked and in minor units."""

    line: int | None
    shop: str
    platform: str
    order_no: str
    kind: str
    amount: int
    occurred_at: datetime
    due_at: datetime
    source: str
    source_ref: str
    memo: str | None


def _kind(text: str, line: int | None, column: str) -> str:
    value = text.strip()
    kind = KIND_LABELS.get(value, value.lower())
    if kind not in KINDS:
        raise OrderFileError(
            line, column, f"unknown kind {value!r}: one of {', '.join(KINDS)} (or 销售, 退款, …)"
        )
    return kind


def check_line(
    cells: Mapping[str, str], line: int | None, *, shop: str | None, platform: str | None,
    source: str, names: Mapping[str, str] | None = None, seen: dict | None = None,
) -> OrderLine:  # fmt: skip
    """One line's cells (by canonical column) → an :class:`OrderLine`, or the error naming
    ``line`` and the column (by the file's own header text, ``names``)."""
    names = names or {}

    def col(c: str) -> str:
        return names.get(c, c)

    def text(c: str) -> str:
        return (cells.get(c) or "").strip()

    for c in REQUIRED:
        if not text(c):
            raise OrderFileError(line, col(c), "is empty")
    the_shop = text("店铺") or shop
    if not the_shop:
        raise OrderFileError(line, col("店铺"), "no shop: give the column or --shop")
    if len(the_shop) > 64:
        raise OrderFileError(line, col("店铺"), "longer than 64 characters")
    the_platform = (text("平台") or platform or "other").lower()
    if the_platform not in PLATFORMS:
        raise OrderFileError(line, col("平台"), f"unknown platform {the_platform!r}")
    order_no = normalise(text("订单号"))
    if order_no is None:
        raise OrderFileError(line, col("订单号"), "is not an order number (at most 64 characters)")
    kind = _kind(text("类型"), line, col("类型"))
    try:
        amount = to_minor(parse_amount(text("金额"), line, col("金额")))
        occurred = parse_time(text("发生时间"), line, col("发生时间"), date_only_ok=True)
    except BillFormatError as exc:
        raise OrderFileError(line, exc.column, exc.message) from None
    if amount == 0:
        raise OrderFileError(line, col("金额"), "is zero")
    if kind in OUT_KINDS:
        amount = -abs(amount)
    ref = text("来源单号")
    if not ref:  # the content is the reference; a second identical line is its twin
        digest = hashlib.sha256(
            "\x1f".join((order_no, kind, str(amount), occurred.isoformat())).encode()
        ).hexdigest()[:32]
        n = 0
        if seen is not None:
            n = seen[digest] = seen.get(digest, -1) + 1
        ref = f"h:{digest}" + (f":{n}" if n else "")
    elif len(ref) > 128:
        raise OrderFileError(line, col("来源单号"), "longer than 128 characters")
    return OrderLine(
        line, the_shop, the_platform, order_no, kind, amount, occurred,
        occurred + grace(the_platform, kind), source, ref, text("备注") or None,
    )  # fmt: skip


def _header(cells: list[str], mapping: Mapping[str, str]) -> dict[str, int] | None:
    """Canonical column → index, or None when this is not the header row."""
    wanted: dict[str, str] = {}
    for canon in COLUMNS:
        for name in (mapping.get(canon), canon, *ALIASES.get(canon, ())):
            if name:
                wanted.setdefault(normalize_header(name), canon)
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        canon = wanted.get(normalize_header(cell))
        if canon and canon not in found:
            found[canon] = i
    return found if sum(c in found for c in REQUIRED) >= 2 else None


def read_file(
    path: str | Path, *, shop: str | None, platform: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> list[OrderLine]:  # fmt: skip
    """Every line of an order file, checked; the first problem refuses the whole file."""
    mapping = dict(mapping or {})
    unknown = set(mapping) - set(COLUMNS)
    if unknown:
        raise OrderFileError(None, None, f"mapping names unknown columns {sorted(unknown)}")
    source = "xlsx" if str(path).lower().endswith(".xlsx") else "csv"
    try:
        rows: Iterator[tuple[int, list[str]]] = open_table(Path(path))
        header, names, out, seen = None, {}, [], {}
        for line, cells in rows:
            if header is None:
                header = _header(cells, mapping)
                if header is not None:
                    missing = [c for c in REQUIRED if c not in header]
                    if missing:
                        raise OrderFileError(line, missing[0], "missing column")
                    names = {c: cells[i] for c, i in header.items()}
                continue
            if not any(c.strip() for c in cells):
                continue
            values = {c: (cells[i] if i < len(cells) else "") for c, i in header.items()}
            out.append(
                check_line(values, line, shop=shop, platform=platform, source=source,
                           names=names, seen=seen)
            )  # fmt: skip
    except BillFormatError as exc:
        raise OrderFileError(exc.line, exc.column, exc.message) from None
    except OSError as exc:
        raise OrderFileError(None, None, f"cannot read {path}: {exc.strerror or exc}") from None
    if header is None:
        raise OrderFileError(
            None, None, f"no header row with the columns {', '.join(REQUIRED)} found"
        )
    return out


def check_rows(
    rows: Iterable[Mapping], *, shop: str | None, platform: str | None = None,
    source: str = "api",
) -> list[OrderLine]:  # fmt: skip
    """Lines given as mappings (REST, SDK, Python), keyed by the columns' English names
    (``shop``, ``platform``, ``order_no``, ``kind``, ``amount``, ``occurred_at``,
    ``source_ref``, ``memo``) or the Chinese ones; numbered from 1 in errors."""
    english = {alias: canon for canon, aliases in ALIASES.items() for alias in aliases[:1]}
    names = {canon: alias for alias, canon in english.items()}
    out, seen = [], {}
    for n, row in enumerate(rows, start=1):
        cells = {english.get(k, k): "" if v is None else str(v) for k, v in row.items()}
        line = check_line(
            cells, n, shop=shop, platform=platform, source=source, names=names, seen=seen
        )
        out.append(line)
    return out
