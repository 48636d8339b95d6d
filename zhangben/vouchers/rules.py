"""Rules from flows to voucher lines, stored as data (vouchers.md#rules).

A rule is a JSON object; the book's rules are ordered and the first that matches a flow wins::

    {"name": "收款", "platform": "alipay", "business_type": ["在线支付", "交易付款"],
     "direction": "in", "lines": [{"dc": "D", "subject": "@account"},
                                  {"dc": "C", "subject": "1122.01", "aux": {"客户": "{shop}"}}],
     "summary": "{shop} {date:%m-%d} {business_type} {count}笔", "aggregate": "per_day_type"}

Matching keys (all optional, all must hold): ``platform`` (the account's type),
``business_type`` (the bill row's 业务类型; ``""``: none), ``direction`` (in | out | any),
``entry_type`` (income, expense, transfer_in, transfer_out), ``category`` / ``subject`` (the
flow's chart names), ``remark_regex`` (searched in the remark and description), ``gap_type``
(a reconciliation difference written off, by its gap type; ``""``: a forced match with none).
A string or a list of strings each. A rule naming ``gap_type`` takes only differences, and a
rule without it only flows.

A line's ``subject`` is a 科目 code, ``@account`` (the 科目 the flow's account maps to) or
``@counterparty_account``; ``amount`` is ``gross`` (default), ``net:RATE`` or ``tax:RATE`` (the
tax inside a gross amount, gross ÷ (1+rate) × rate, rounded half-up; net = gross − tax); ``aux``
maps a dimension to a template. A rule's lines must balance for every amount."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from zhangben.core.errors import VoucherInvalid
from zhangben.recon.defaults import GAP_TYPES
from zhangben.vouchers.chart import standard_code

AGGREGATES = ("per_row", "per_day_type", "per_period_type")
DIRECTIONS = ("in", "out", "any")
MATCH_KEYS = ("platform", "business_type", "entry_type", "category", "subject", "gap_type")
KEYS = {*MATCH_KEYS, "name", "direction", "remark_regex", "lines", "summary", "aggregate"}
PLATFORM_NAMES = {"alipay": "支付宝", "wechat": "微信支付", "wechat_shop": "微信小店",
                  "jd_wallet": "京东钱包", "jzt": "京准通"}  # fmt: skip
DEFAULT_SUMMARY = "{shop} {date:%m-%d} {platform_name}{business_type} {count}笔"


@dataclass(frozen=True, slots=True)
class LineTemplate:
    dc: str  # D | C
    subject: str  # a code, @account or @counterparty_account
    amount: str = "gross"  # gross | net:RATE | tax:RATE
    aux: tuple[tuple[str, str], ...] = ()

    def value(self, base: int) -> int:
        """This line's amount of a flow's ``base`` (minor units, negative for a red flow)."""
        kind, _, rate = self.amount.partition(":")
        if kind == "gross":
            return base
        r = Decimal(rate)
        tax = int((Decimal(base) * r / (1 + r)).quantize(Decimal(1), ROUND_HALF_UP))
        return tax if kind == "tax" else base - tax


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    match: tuple[tuple[str, frozenset[str]], ...]
    direction: str
    remark: re.Pattern | None
    lines: tuple[LineTemplate, ...]
    summary: str
    aggregate: str
    data: dict  # as stored

    def matches(self, flow) -> bool:
        return self.matches_features(flow) and self.matches_remark(flow.remark, flow.description)

    def matches_features(self, flow) -> bool:
        """Every match key but the remark's (what flows of one kind share)."""
        if self.direction != "any" and flow.direction != self.direction:
            return False
        if (flow.gap_type is not None) != self.recon:
            return False  # a difference only by a gap_type rule, a flow only by the others
        return all(getattr(flow, key) in wanted for key, wanted in self.match)

    def matches_remark(self, remark: str | None, description: str | None) -> bool:
        if self.remark is None:
            return True
        return bool(self.remark.search(remark or "") or self.remark.search(description or ""))

    @property
    def recon(self) -> bool:
        """A rule for reconciliation differences (it names ``gap_type``)."""
        return any(key == "gap_type" for key, _ in self.match)

    @property
    def gross_only(self) -> bool:
        return all(t.amount == "gross" for t in self.lines)


def parse_rule(data: object, where: str = "rule") -> Rule:
    """A rule from its JSON form, refused (``VoucherInvalid``) naming what is wrong."""
    if not isinstance(data, dict):
        raise VoucherInvalid(f"{where}: a rule is a JSON object")
    name = str(data.get("name") or where)
    where = f"rule {name!r}"
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise VoucherInvalid(f"{where}: unknown keys {', '.join(unknown)}")
    match = []
    for key in MATCH_KEYS:
        value = data.get(key)
        if value is None:
            continue
        values = [value] if isinstance(value, str) else value
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise VoucherInvalid(f"{where}: {key} must be a text or a list of texts")
        match.append((key, frozenset(values)))
    direction = data.get("direction", "any")
    if direction not in DIRECTIONS:
        raise VoucherInvalid(f"{where}: direction {direction!r} is not in, out or any")
    remark = None
    if data.get("remark_regex"):
        try:
            remark = re.compile(str(data["remark_regex"]))
        except re.error as exc:
            raise VoucherInvalid(
                f"{where}: remark_regex is not a regular expression: {exc}"
            ) from None
    aggregate = data.get("aggregate", "per_day_type")
    if aggregate not in AGGREGATES:
        raise VoucherInvalid(
            f"{where}: aggregate {aggregate!r} is not one of {', '.join(AGGREGATES)}"
        )
    lines = tuple(_line(item, where, i) for i, item in enumerate(data.get("lines") or [], 1))
    if len(lines) < 2:
        raise VoucherInvalid(f"{where}: a rule needs at least a debit and a credit line")
    for base in (1_000_000_007, 1, 3, 99_999):
        debit = sum(t.value(base) for t in lines if t.dc == "D")
        credit = sum(t.value(base) for t in lines if t.dc == "C")
        if debit != credit:
            raise VoucherInvalid(
                f"{where}: its lines do not balance (a flow of {base} minor units gives "
                f"借 {debit} and 贷 {credit})"
            )
    summary = str(data.get("summary") or DEFAULT_SUMMARY)
    try:
        summary.format(**_SAMPLE)
        for t in lines:
            for _, text in t.aux:
                text.format(**_SAMPLE)
    except (KeyError, ValueError, IndexError, AttributeError) as exc:
        raise VoucherInvalid(
            f"{where}: a template names an unknown field or format: {exc}"
        ) from None
    return Rule(name, tuple(match), direction, remark, lines, summary, aggregate, dict(data))


def _line(item: object, where: str, i: int) -> LineTemplate:
    if not isinstance(item, dict) or item.get("dc") not in ("D", "C"):
        raise VoucherInvalid(f"{where}: line {i} needs dc D or C")
    subject = item.get("subject")
    if not isinstance(subject, str) or not subject.strip():
        raise VoucherInvalid(f"{where}: line {i} needs a subject (a code or @account)")
    if subject.startswith("@") and subject not in ("@account", "@counterparty_account"):
        raise VoucherInvalid(
            f"{where}: line {i}: {subject} is not @account or @counterparty_account"
        )
    amount = str(item.get("amount", "gross"))
    kind, _, rate = amount.partition(":")
    if kind not in ("gross", "net", "tax") or (kind == "gross") != (rate == ""):
        raise VoucherInvalid(
            f"{where}: line {i}: amount {amount!r} is not gross, net:RATE or tax:RATE"
        )
    if rate:
        try:
            if not 0 < Decimal(rate) < 1:
                raise InvalidOperation
        except InvalidOperation:
            raise VoucherInvalid(
                f"{where}: line {i}: rate {rate!r} is not between 0 and 1"
            ) from None
    aux = item.get("aux") or {}
    if not isinstance(aux, dict) or not all(isinstance(v, str) for v in aux.values()):
        raise VoucherInvalid(f"{where}: line {i}: aux maps a dimension to a text")
    return LineTemplate(item["dc"], subject.strip(), amount, tuple(sorted(aux.items())))


#: the fields a summary or aux template may use
_SAMPLE = dict(shop="S1", account="ACC", account_name="支付宝", platform="alipay",
               platform_name="支付宝", business_type="在线支付", count=1, month="2026-10",
               date=date(2026, 10, 1), counterparty="", trade_no="", remark="")  # fmt: skip


def rules_sha256(rules: list[dict]) -> str:
    text = json.dumps(rules, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# -- the default rules ------------------------------------------------------------------------

_D, _C = "D", "C"
_AR = {"subject": "1122.01", "aux": {"客户": "{shop}"}}


def _rule(name: str, debit: dict | str, credit: dict | str, **match) -> dict:
    def line(dc, side):
        side = {"subject": side} if isinstance(side, str) else dict(side)
        return {"dc": dc, **side}

    return {"name": name, **match, "lines": [line(_D, debit), line(_C, credit)]}


#: a reconciliation difference written off, by gap type (recon/defaults.py): the 科目 that
#: takes what the order's receivable (1122.01) keeps after its money came in, when less came
#: (out: 借 科目, 贷 1122.01) or more (in: 借 1122.01, 贷 科目; None: the "other" subjects)
WRITEOFF_SUBJECTS = {
    "ROUNDING": "6603.99",  # 财务费用-尾差
    "COMMISSION": "6601.01",  # 销售费用-平台佣金
    "FREIGHT": "6601.04",  # 销售费用-运费
    "PROMO": "6601.02",  # 销售费用-推广及保险
    "PARTIAL_REFUND": "6001",  # 主营业务收入 (a sales allowance)
}
WRITEOFF_OTHER = {"out": "6711", "in": "6301"}  # 营业外支出 / 营业外收入
#: the seeded gap types the "other" rules take, and "": a forced match with no gap type
_ANY_GAP = [g.code for g in GAP_TYPES if g.code not in WRITEOFF_SUBJECTS] + [""]
WRITEOFF_SUMMARY = "{shop} {date:%m-%d} 核销差异 {business_type} {count}笔"


def _writeoff_rules() -> list[dict]:
    rows = []
    for code, subject in WRITEOFF_SUBJECTS.items():
        rows.append(_rule(f"核销差异-{code}", subject, _AR, gap_type=code, direction="out"))
        rows.append(_rule(f"核销差异-{code}", _AR, subject, gap_type=code, direction="in"))
    # every other gap type, and a forced match with none (""): 营业外支出 / 营业外收入
    rows.append(_rule("核销差异-其他", WRITEOFF_OTHER["out"], _AR, gap_type=_ANY_GAP,
                      direction="out"))  # fmt: skip
    rows.append(_rule("核销差异-其他", _AR, WRITEOFF_OTHER["in"], gap_type=_ANY_GAP,
                      direction="in"))  # fmt: skip
    for r in rows:
        r["summary"] = WRITEOFF_SUMMARY
    return rows


def _opening_rules() -> list[dict]:
    rows = [
        _rule("期初余额", "@account", "2241.98", direction="in", category="期初余额"),
        _rule("期初余额", "2241.98", "@account", direction="out", category="期初余额"),
        _rule(
            "期初余额",
            "@account",
            "2241.98",
            direction="in",
            category="收入",
            remark_regex="期初余额",
        ),  # fmt: skip
    ]
    for r in rows:
        r["summary"] = "{shop} {date:%m-%d} {platform_name}期初余额 {count}笔"
    return rows


def default_rules(standard: str) -> list[dict]:
    """Rules covering every business type of the platforms' bills (vouchers.md#default-rules),
    with the codes of ``standard``."""
    rows = [
        _rule(
            "收款",
            "@account",
            _AR,
            direction="in",
            business_type=["在线支付", "交易付款", "交易收款", "交易", "SUCCESS", "订单收入"],
        ),
        _rule(
            "退款",
            _AR,
            "@account",
            direction="out",
            business_type=["退款", "交易退款", "REFUND", "REVOKED", "售后退款"],
        ),
        _rule("退款收回", "@account", _AR, direction="in", business_type=["退款", "交易退款"]),
        _rule(
            "平台佣金",
            "6601.01",
            "@account",
            direction="out",
            business_type=[
                "天猫佣金",
                "淘宝客佣金",
                "聚划算佣金",
                "技术服务费",
                "积分",
                "交易分账",
            ],
        ),
        _rule(
            "手续费",
            "6603.01",
            "@account",
            direction="out",
            business_type=[
                "服务费",
                "手续费",
                "交易服务费",
                "扣除交易手续费",
                "花呗支付服务费",
                "信用卡支付服务费",
            ],
        ),
        _rule(
            "手续费退回",
            "@account",
            "6603.01",
            direction="in",
            business_type=["服务费", "手续费", "交易服务费", "扣除交易手续费"],
        ),
        _rule(
            "推广及保险",
            "6601.02",
            "@account",
            direction="out",
            business_type=["运费险", "价格保险", "红包"],
        ),
        _rule("广告费", "6601.03", "@account", direction="out", business_type=["广告扣费", "消耗"]),
        _rule("提现", "1002", "@account", direction="out", business_type="提现"),
        _rule("充值", "@account", "1002", direction="in", business_type="充值"),
        _rule("保证金冻结", "1221.01", "@account", direction="out", business_type="保证金冻结"),
        _rule("保证金解冻", "@account", "1221.01", direction="in", business_type="保证金解冻"),
        _rule("转账待查", "1221.99", "@account", direction="out", business_type="转账"),
        _rule("转账待查", "@account", "2241.99", direction="in", business_type="转账"),
        # a platform's flow with no business type (JD wallet rows, postings by hand on a
        # platform account): income is order income, the rest 待查
        _rule("平台收入", "@account", _AR, direction="in", business_type="", subject="平台收入"),
        _rule(
            "平台支出待查",
            "1221.99",
            "@account",
            direction="out",
            business_type="",
            subject="平台支出",
        ),
        # transfers between two accounts of the ledger: each leg against money in transit
        _rule("内部转出", "1012.98", "@account", entry_type="transfer_out"),
        _rule("内部转入", "@account", "1012.98", entry_type="transfer_in"),
        # postings by hand, by the chart's subject
        _rule("销售收款", "@account", _AR, direction="in", subject="销售收款"),
        _rule("销售退款", _AR, "@account", direction="out", subject="销售退款"),
        _rule(
            "手续费", "6603.01", "@account", direction="out", subject=["平台手续费", "提现手续费"]
        ),
        _rule("提现", "1002", "@account", direction="out", subject="提现到银行卡"),
        _rule("充值", "@account", "1002", direction="in", subject="账户充值"),
        _rule("采购付款", "2202", "@account", direction="out", subject="采购付款"),
        # an opening balance (期初余额: a bill account's, or one posted by hand): the money
        # was there before zhangben; the accountant clears 2241.98 against the book's own 期初
        *_opening_rules(),
        # postings by hand with a category and no (known) subject
        _rule("其他收入", "@account", "6051", direction="in", category="收入"),
        _rule("其他支出", "6602", "@account", direction="out", category="支出"),
        _rule("手续费", "6603.01", "@account", direction="out", category="手续费"),
        _rule("提现", "1002", "@account", direction="out", category="提现"),
        _rule("充值", "@account", "1002", direction="in", category="充值"),
        _rule("销售退款", _AR, "@account", direction="out", category="退款"),
        _rule("退款收回", "@account", _AR, direction="in", category="退款"),
        *_writeoff_rules(),
    ]
    for r in rows:
        for line in r["lines"]:
            if not line["subject"].startswith("@"):
                line["subject"] = standard_code(line["subject"], standard)
    return rows


#: the 科目 of an account by its type, when the book maps it to none
ACCOUNT_SUBJECTS = {"alipay": "1012.01", "wechat": "1012.02", "jd_wallet": "1012.03",
                    "wechat_shop": "1012.04", "jzt": "1123.01", "bank": "1002",
                    "cash": "1001"}  # fmt: skip
OTHER_PLATFORM = "1012.09"
