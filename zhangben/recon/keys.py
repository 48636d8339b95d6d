"""Order keys on bill rows: which order a row's money belongs to, and the row's scope.

:func:`extract_key` takes a platform and a small record of the row's fields (a mapping or an
object with attributes): ``business_type``, ``merchant_order_no`` (the bill's order column:
Alipay and WeChat 商户订单号, the WeChat fund bill's 微信支付业务单号, JD 商户订单号, WeChat
shop 关联订单号), ``flow_no``, ``counterparty``, ``remark``, ``amount`` and, for Alipay, the
optional ``base_order_no`` (业务基础订单号). It returns a :class:`KeyResult`: the normalised
key (or None), where it came from (``column:<column>`` or ``remark_rule:<rule name>``) and
the scope: ``order`` (a key was found), ``internal_transfer`` (提现, 充值, a 转账 to one of
the shop's own accounts), ``fee_no_order`` (a fee with no order) or ``other``.

Alipay's remarks and merchant order numbers are read by the named rules of
:data:`ALIPAY_RULES`, which reproduce ShopEx OMS's ``_getOrderBn`` case by case (research
reconciliation.md §A.1.1); each rule has test vectors in ``tests/recon/test_keys.py``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

ORDER = "order"
INTERNAL_TRANSFER = "internal_transfer"
FEE_NO_ORDER = "fee_no_order"
OTHER = "other"
SCOPES = (ORDER, INTERNAL_TRANSFER, FEE_NO_ORDER, OTHER)

MAX_KEY = 64  # longer text is not an order number


@dataclass(frozen=True, slots=True)
class KeyResult:
    key: str | None
    source: str  # "column:<column>" | "remark_rule:<name>" | "" (no key)
    scope: str  # order | internal_transfer | fee_no_order | other


@dataclass(frozen=True, slots=True)
class KeyRule:
    """A named way to find the order number: ``pattern`` searched in the row's ``field``
    (``remark`` or ``merchant_order_no``), group ``group`` is the key. ``business_types``:
    the 业务类型 it applies to (empty = any type not claimed by another rule's list);
    ``requires``: a pattern the merchant order number must match for the rule to be tried."""

    name: str
    pattern: re.Pattern[str]
    group: int
    field: str = "remark"
    business_types: tuple[str, ...] = ()
    requires: re.Pattern[str] | None = None

    def find(self, text: str | None) -> str | None:
        if not text:
            return None
        m = self.pattern.search(text)
        return normalise(m.group(self.group)) if m else None


def _rule(
    name: str, pattern: str, field: str, types: tuple[str, ...] = (), requires: str = ""
) -> KeyRule:
    return KeyRule(
        name, re.compile(pattern), 1, field, types, re.compile(requires) if requires else None
    )


_MERCHANT = "merchant_order_no"
_M, _R = _MERCHANT, "remark"
_REF, _OTH, _TRF = ("交易退款",), ("其它",), ("转账",)

#: Alipay's rules in the order they are tried; the first that finds a key wins. Within a
#: business type the order is ShopEx's. Where ShopEx took "the first digits" of a remark,
#: these take a run of at least six digits (a "2" in a remark is not an order number).
ALIPAY_RULES: tuple[KeyRule, ...] = (
    # 交易退款: an after-sale or deposit refund names the order as a T…P segment of 备注
    _rule("refund_aftersale_tp", r"(?:售后退款|保证金退款)(?:-[^-]*)*?-T\d+P([^-\s]+)", _R, _REF),
    # 交易退款: the merchant order number with its T…P prefix (T200P<order>)
    _rule("refund_tp_prefix", r"^T\d+P(\S+)$", _M, _REF),
    # 交易退款: a remark of A-separated parts, the order number the fourth
    _rule("refund_a_parts", r"^A[^A]*A[^A]*A([^A\s]+)", _R, _REF),
    _rule("refund_remark_digits", r"(\d{6,})", _R, _REF),
    # 其它: an after-sale payment or a deposit refund with a T…P segment, else digits
    _rule("other_aftersale_tp", r"(?:售后支付|保证金退款)(?:-[^-]*)*?-T\d+P([^-\s]+)", _R, _OTH),
    _rule("other_remark_digits", r"^(?!聚划算保险保证金).*?(\d{6,})", _R, _OTH),
    # 转账: CAE_<type>_<order> (the remark's digits first), HJCAE==…==…==<order> (or the
    # remark's KY_ITEM)(<order>)), 淘宝客佣金代扣款[<order>] / 淘宝客佣金退款[<order>], {<order>}
    _rule("transfer_cae_remark", r"(\d{6,})", _R, _TRF, requires=r"^CAE_"),
    _rule("transfer_cae", r"^CAE_[^_]*_([^_\s]+)", _M, _TRF),
    _rule("transfer_hjcae", r"^HJCAE(?:==[^=]*){2}==([^=\s]+)", _M, _TRF),
    _rule("transfer_hjcae_ky_item", r"KY_ITEM\)\((\d+)\)", _R, _TRF, requires=r"^HJCAE"),
    _rule("transfer_taobaoke", r"淘宝客佣金(?:代扣|退)款\[(\d+)\]", _R, _TRF),
    _rule("transfer_braces", r"\{(\d+)\}", _R, _TRF),
    # 交易分账: the order number in 备注
    _rule("split_remark_digits", r"(\d{6,})", _R, ("交易分账",)),
    # any other type: HJCOM==…==…==<order>, CAE_POINT_<x>_<order> (a RETURNGIVE one: the
    # remark's digits), GXFZ_<x>_<order>, T…P<order>
    _rule("hjcom", r"^HJCOM(?:==[^=]*){2}==([^=\s]+)", _M),
    _rule("cae_point", r"^CAE_POINT_(?!.*RETURNGIVE)[^_]*_([^_\s]+)", _M),
    _rule("cae_point_returngive", r"(\d{6,})", _R, requires=r"^CAE_POINT_.*RETURNGIVE"),
    _rule("gxfz", r"^GXFZ_[^_]*_([^_\s]+)", _M),
    _rule("tp_prefix", r"^T\d+P(\S+)$", _M),
)
_CLAIMED = frozenset(t for r in ALIPAY_RULES for t in r.business_types)
_RULES_BY_TYPE: dict[str | None, tuple[KeyRule, ...]] = {
    t: tuple(r for r in ALIPAY_RULES if t in r.business_types) for t in _CLAIMED
}
_DEFAULT_RULES = tuple(r for r in ALIPAY_RULES if not r.business_types)
#: ShopEx finds no order on these (and on a 其它 row from its gold account).
_NO_KEY_TYPES = frozenset({"提现"})
_NO_KEY_OTHER_COUNTERPARTIES = frozenset({"*金账号()"})
_PLAIN_KEY_TYPES = frozenset({"交易付款", "在线支付", "交易退款"})

#: The business types (业务类型 / 动帐类型 / 交易状态) that move money between a shop's own
#: accounts.
INTERNAL_TYPES = frozenset({"提现", "充值", "自动提现", "提现退回", "余额提现"})
_FEE_WORDS = ("收费", "手续费", "服务费", "佣金", "技术费", "推广", "广告", "保险", "年费", "扣款")
#: Platforms whose rows are all fees without an order (JD 精准通 ad spend).
FEE_PLATFORMS = frozenset({"jzt"})

_COLUMNS = {
    "alipay": "商户订单号",
    "wechat": "商户订单号",
    "wechat_shop": "关联订单号",
    "jd_wallet": "商户订单号",
}
#: The platforms whose key is their order column, normalised (Alipay has its rules).
COLUMN_PLATFORMS = {p: c for p, c in _COLUMNS.items() if p != "alipay"}


def normalise(key: str | None) -> str | None:
    """Strip, upper-case, full-width to ASCII (NFKC), drop a ShopEx-style ``T<digits>P``
    prefix; empty or too long → None."""
    if key is None:
        return None
    if not key.isascii():
        key = unicodedata.normalize("NFKC", key)
    key = key.strip().strip("'\"=").strip().upper()
    m = _TP.match(key)
    if m:
        key = key[m.end() :]
    if not key or len(key) > MAX_KEY:
        return None
    return key


_TP = re.compile(r"T\d+P(?=\S)")


def extract_key(
    platform: str, row: Mapping[str, Any] | Any, *, own_accounts: Collection[str] = ()
) -> KeyResult:
    """The order key and scope of one bill row (see the module docstring). ``own_accounts``:
    the counterparties that are the shop's own accounts (a 转账 to one is an internal
    transfer)."""
    get = row.get if isinstance(row, Mapping) else lambda name: getattr(row, name, None)
    btype = (get("business_type") or "").strip()
    key, source = None, ""
    if platform == "alipay":
        key, source = _alipay(btype, get)
    elif platform in _COLUMNS and btype not in INTERNAL_TYPES:
        key = normalise(get("merchant_order_no"))
        source = f"column:{_COLUMNS[platform]}" if key else ""
    if key:
        return KeyResult(key, source, ORDER)
    return KeyResult(None, "", _scope(platform, btype, get, own_accounts))


def _alipay(btype: str, get) -> tuple[str | None, str]:
    if btype in _NO_KEY_TYPES or (
        btype == "其它" and (get("counterparty") or "").strip() in _NO_KEY_OTHER_COUNTERPARTIES
    ):
        return None, ""
    base = normalise(get("base_order_no"))
    if base:
        return base, "column:业务基础订单号"
    fields = {"remark": get("remark"), _MERCHANT: get(_MERCHANT)}
    for rule in _RULES_BY_TYPE.get(btype, _DEFAULT_RULES):
        if rule.requires is not None and not rule.requires.search(fields[_MERCHANT] or ""):
            continue
        key = rule.find(fields[rule.field])
        if key:
            return key, f"remark_rule:{rule.name}"
    if btype in _PLAIN_KEY_TYPES:
        # An own-site shop's plain merchant order number (ShopEx finds none here).
        key = normalise(fields[_MERCHANT])
        if key:
            return key, "column:商户订单号"
    return None, ""


def _scope(platform: str, btype: str, get, own_accounts: Collection[str]) -> str:
    if btype in INTERNAL_TYPES:
        return INTERNAL_TRANSFER
    if btype in ("转账", "转账到银行卡", "转账到支付宝") and own_accounts:
        if (get("counterparty") or "").strip() in own_accounts:
            return INTERNAL_TRANSFER
    if platform in FEE_PLATFORMS:
        return FEE_NO_ORDER
    text = f"{btype} {get('remark') or ''}"
    if any(w in text for w in _FEE_WORDS):
        return FEE_NO_ORDER
    return OTHER
