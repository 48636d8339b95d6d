"""The one planner: every write (income, expense, transfer, reversal, a batch of them, a bill
row) becomes a :class:`Plan` — columns, not objects, so a batch of 100,000 costs no object per
item and a single posting is a batch of one.

Planning applies the rules that need no account state (R1–R4 of :mod:`.rules`) and names each
posting's key and fingerprint (:mod:`.keys`). What needs the locked accounts (R6–R11) runs
when a writer holds them.
"""

from __future__ import annotations

import os
import secrets
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from zhangben.core import chart as chart_ids
from zhangben.core.errors import LedgerError, ValidationError
from zhangben.core.money import from_minor, minor_of, to_minor
from zhangben.core.postings import rules
from zhangben.core.postings.keys import fingerprint, posting_key, transfer_fingerprint


@dataclass(slots=True)
class Plan:
    """Postings and their legs as parallel columns. Legs of posting ``i`` are
    ``legs_end[i-1]:legs_end[i]``; ``cross[i]`` makes each of its two legs' counterparty the
    other leg's account number (transfers)."""

    #: one posting asked for as such: its errors name no position, its answer is its entries
    single: bool = False
    #: how an error names item ``i`` (default ``request i``); None for a single posting
    labels: list | None = None
    # -- one row per posting
    kind: list = field(default_factory=list)
    trade_no: list = field(default_factory=list)
    trade_time: list = field(default_factory=list)
    operator_id: list = field(default_factory=list)
    remark: list = field(default_factory=list)
    source: list = field(default_factory=list)
    external_id: list = field(default_factory=list)
    key: list = field(default_factory=list)
    digest: list = field(default_factory=list)
    reverses_posting: list = field(default_factory=list)
    cross: list = field(default_factory=list)
    legs_end: list = field(default_factory=list)
    # -- one row per leg
    account: list = field(default_factory=list)
    delta: list = field(default_factory=list)
    type: list = field(default_factory=list)
    category: list = field(default_factory=list)
    subject: list = field(default_factory=list)
    counterparty: list = field(default_factory=list)
    description: list = field(default_factory=list)
    reverses_entry: list = field(default_factory=list)
    platform_balance: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.kind)

    def label(self, i: int) -> str | None:
        if self.single:
            return None
        return self.labels[i] if self.labels is not None else f"request {i}"

    def legs(self, i: int) -> range:
        return range(self.legs_end[i - 1] if i else 0, self.legs_end[i])

    @property
    def keyed(self) -> bool:
        return any(k is not None for k in self.key)

    # -- building ------------------------------------------------------------------------------

    def add(self, header: Header, legs: list[tuple]) -> None:
        """Append one posting: ``legs`` as (account, delta, type, category, subject,
        counterparty, description, reverses_entry, platform_balance) tuples."""
        self.kind.append(header.kind)
        self.trade_no.append(header.trade_no)
        self.trade_time.append(header.trade_time)
        self.operator_id.append(header.operator_id)
        self.remark.append(header.remark or "")
        self.source.append(header.source)
        self.external_id.append(header.external_id)
        self.key.append(header.key)
        self.digest.append(header.digest)
        self.reverses_posting.append(header.reverses_posting)
        self.cross.append(header.cross)
        for leg in legs:
            (acc, delta, type_, cat, sub, cp, desc, rev, plat) = leg
            self.account.append(acc)
            self.delta.append(delta)
            self.type.append(type_)
            self.category.append(cat)
            self.subject.append(sub)
            self.counterparty.append(cp)
            self.description.append(desc)
            self.reverses_entry.append(rev)
            self.platform_balance.append(plat)
        self.legs_end.append(len(self.account))


@dataclass(slots=True)
class Header:
    """What a posting says besides its legs, checked (R2) and keyed (R5) by :func:`header`."""

    kind: str
    trade_no: str | None
    trade_time: datetime | None
    operator_id: int | None
    remark: str | None
    source: str
    external_id: str | None
    key: str | None
    digest: str | None
    reverses_posting: int | None = None
    cross: bool = False


def header(
    kind: str,
    fields: dict,
    *,
    trade_no: str | None = None,
    trade_time: datetime | None = None,
    operator_id: int | None = None,
    remark: str | None = None,
    source: str = "manual",
    external_id: str | None = None,
    idempotency_key: str | None = None,
) -> Header:
    """R2 on the caller's header fields; the key and, for a keyed request, the fingerprint of
    ``fields`` (what the caller asked for) with the header's own fields."""
    if trade_time is not None and trade_time.tzinfo is None:
        raise ValidationError("trade_time", "must carry a time zone")
    rules.check_text("trade_no", trade_no, blank_ok=False)
    rules.check_text("external_id", external_id, blank_ok=False)
    rules.check_text("idempotency_key", idempotency_key, blank_ok=False)
    rules.check_text("source", source, blank_ok=False)
    rules.check_text("remark", remark)
    key = posting_key(idempotency_key, trade_no, source, external_id)
    digest = None
    if key is not None:  # only a keyed request is ever compared
        digest = fingerprint(
            {
                "kind": kind,
                **fields,
                "trade_no": trade_no,
                "trade_time": trade_time.isoformat() if trade_time else None,
                "operator_id": operator_id,
                "remark": remark,
                "source": source,
                "external_id": external_id,
            }
        )
    return Header(kind, trade_no, trade_time, operator_id, remark, source, external_id, key, digest)


def simple_legs(
    index: dict,
    kind: str,
    account,
    minor: int,
    *,
    category_id: int | None = None,
    subject_id: int | None = None,
    counterparty: str | None = None,
    description: str = "",
    platform_balance: int | None = None,
) -> list[tuple]:
    """One income leg (money in) or one expense leg (money out); R2 and R3 on its fields."""
    rules.check_text("counterparty", counterparty)
    rules.check_text("description", description)
    if category_id is None and subject_id is None:
        category_id = chart_ids.INCOME if kind == "income" else chart_ids.EXPENSE
    else:
        category_id = rules.check_chart(index, kind, category_id, subject_id)
    delta = minor if kind == "income" else -minor
    return [(account, delta, kind, category_id, subject_id, counterparty, description, None,
             platform_balance)]  # fmt: skip


def transfer_description(minor: int, outgoing: bool) -> str:
    """The 壹川 wording, e.g. ``帐户系统转账到账户内建商户上,转出金额为3元``."""
    text = f"{from_minor(minor).normalize():f}"
    return f"帐户系统转账到账户内建商户上,{'转出' if outgoing else '转入'}金额为{text}元"


def transfer_legs(source, target, minor: int, description: str | None = None) -> list[tuple]:
    """The out-leg and the in-leg of a transfer (R4: two different accounts)."""
    if source == target:
        raise rules.same_account()
    rules.check_text("description", description)
    out = description or transfer_description(minor, True)
    into = description or transfer_description(minor, False)
    return [
        (source, -minor, "transfer_out", chart_ids.TRANSFER, chart_ids.TRANSFER_OUT, None, out,
         None, None),
        (target, minor, "transfer_in", chart_ids.TRANSFER, chart_ids.TRANSFER_IN, None, into,
         None, None),
    ]  # fmt: skip


def reversal_legs(originals, description: str | None = None) -> list[tuple]:
    """Legs that cancel ``originals`` (entries of one posting, checked by R12 beforehand)."""
    rules.check_text("description", description)
    return [
        (e.account_id, -to_minor(e.amount), "reversal", chart_ids.REVERSAL,
         chart_ids.REVERSAL_SUBJECT, e.counterparty,
         description or f"冲正 {e.trade_no} (流水 {e.id})", e.id, None)
        for e in originals
    ]  # fmt: skip


def at(exc: LedgerError, label: str | None) -> LedgerError:
    return rules.at(exc, label)


# -- trade numbers -----------------------------------------------------------------------------

_U64 = 2**64
_TRADE_SPACE = 10**8
_UNBIASED = _U64 - _U64 % _TRADE_SPACE


def trade_numbers(plan: Plan, todo: list[int], now: datetime, tz: ZoneInfo) -> list[str]:
    """Each posting's trade number: its own, or the 壹川 style — the business date of its trade
    time followed by eight random digits (``2018050851519948``); one ``os.urandom`` call for
    the batch, rejection-sampled so every number is equally likely."""
    words = struct.unpack(f"<{len(todo)}Q", os.urandom(8 * len(todo)))
    today = _business_date(now, tz)
    out = []
    for i, w in zip(todo, words, strict=True):
        given = plan.trade_no[i]
        if given is not None:
            out.append(given)
            continue
        when = plan.trade_time[i]
        prefix = today if when is None else _business_date(when, tz)
        digits = (w if w < _UNBIASED else secrets.randbelow(_TRADE_SPACE)) % _TRADE_SPACE
        out.append(f"{prefix}{digits:08d}")
    return out


#: tz → (start, end, ``YYYYMMDD``) of the business day last asked for
_DAYS: dict[ZoneInfo, tuple[datetime, datetime, str]] = {}


def _business_date(when: datetime, tz: ZoneInfo) -> str:
    """``when``'s date in the business time zone, as ``YYYYMMDD`` (the day is kept: most
    postings of a run fall on the same day)."""
    day = _DAYS.get(tz)
    if day is not None and day[0] <= when < day[1]:
        return day[2]
    local = when.astimezone(tz)
    start = datetime(local.year, local.month, local.day, tzinfo=tz)
    end = start.date() + timedelta(days=1)
    _DAYS[tz] = (start, datetime(end.year, end.month, end.day, tzinfo=tz), local.strftime("%Y%m%d"))
    return _DAYS[tz][2]


# -- batches -----------------------------------------------------------------------------------


def transfers(specs, labels: list | None = None) -> Plan:
    """``(from, to, amount[, idempotency_key])`` specs as a plan, columnar: the same legs,
    checks, key and fingerprint as :meth:`Ledger.transfer` one by one, without an object per
    transfer; errors name the position (``request i``)."""
    p = Plan(labels=labels)
    kind_, trade_no, trade_time, operator, remark, source, external, key_, digest = (
        p.kind, p.trade_no, p.trade_time, p.operator_id, p.remark, p.source, p.external_id,
        p.key, p.digest,
    )  # fmt: skip
    reverses, cross, ends = p.reverses_posting, p.cross, p.legs_end
    account, delta, type_, category, subject = p.account, p.delta, p.type, p.category, p.subject
    counterparty, description, rev_entry, platform = (
        p.counterparty, p.description, p.reverses_entry, p.platform_balance,
    )  # fmt: skip
    cache: dict[int, tuple[str, str]] = {}
    for i, spec in enumerate(specs):
        src, dst, amount, *rest = spec
        try:
            minor = minor_of(amount)
            if src == dst:
                raise rules.same_account()
            key = None if not rest or rest[0] is None else str(rest[0])
            rules.check_text("idempotency_key", key, blank_ok=False)
        except LedgerError as exc:
            raise at(exc, p.label(i)) from None
        digest_ = None if key is None else transfer_fingerprint(src, dst, _decimal_text(minor))
        texts = cache.get(minor)
        if texts is None:
            texts = cache[minor] = (transfer_description(minor, True),
                                    transfer_description(minor, False))  # fmt: skip
        kind_.append("transfer")
        trade_no.append(None)
        trade_time.append(None)
        operator.append(None)
        remark.append("")
        source.append("internal")
        external.append(None)
        key_.append(key)
        digest.append(digest_)
        reverses.append(None)
        cross.append(True)
        account += (src, dst)
        delta += (-minor, minor)
        type_ += ("transfer_out", "transfer_in")
        category += (chart_ids.TRANSFER, chart_ids.TRANSFER)
        subject += (chart_ids.TRANSFER_OUT, chart_ids.TRANSFER_IN)
        counterparty += (None, None)
        description += texts
        rev_entry += (None, None)
        platform += (None, None)
        ends.append(len(account))
    return p


def _decimal_text(minor: int) -> str:
    """``str(parse_amount(x))`` of an amount in minor units (four places)."""
    whole, frac = divmod(minor, 10**4)
    return f"{whole}.{frac:04d}"
