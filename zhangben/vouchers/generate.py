"""A book's month of flows made into vouchers (vouchers.md#generating).

:func:`plan` reads every flow of the month that is in no live voucher, in one pass that holds
only the aggregates (and each flow's id, 8 bytes), classifies each by the book's rules (first
match wins), and builds the vouchers; :func:`check` refuses the plan before anything is written
when a flow is unmapped, a 科目 is missing or not a leaf, a dimension is missing, or the sides
differ; :func:`write` stores the batch. A reversal (冲正) entry takes the rule of the entry it
reverses, with a negative amount on the same sides: a red (红字) voucher of its own.

Beside the flows, :func:`writeoffs` gives the month's reconciliation differences written off
(vouchers.md#reconciliation-differences) as flows only ``gap_type`` rules take; their sources
are ``voucher_recon_sources``, and a match undone after export is a red one."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.errors import VoucherInvalid
from zhangben.core.periods import Month
from zhangben.store.bills_tables import bill_rows
from zhangben.store.bulk_rows import insert_int_rows
from zhangben.store.recon_tables import (
    expected_items,
    gap_types,
    match_groups,
    match_lines,
    recon_events,
)
from zhangben.store.tables import accounts, chart, entries
from zhangben.store.voucher_tables import (
    voucher_batches,
    voucher_lines,
    voucher_recon_sources,
    voucher_sources,
    vouchers,
)
from zhangben.vouchers.books import Book, account_map, load_rules, rule_data, subjects
from zhangben.vouchers.chart import Subject, standard_code
from zhangben.vouchers.model import Voucher, VoucherLine
from zhangben.vouchers.rules import (
    ACCOUNT_SUBJECTS,
    OTHER_PLATFORM,
    PLATFORM_NAMES,
    Rule,
    rules_sha256,
)

LEDGER_DECIMALS = 4
UNMAPPED = "未映射业务类型"  # the problem that lists the unmapped flows (its first, if any)
LIVE = ("draft", "exported")


@dataclass(slots=True)
class Flow:
    """What a rule matches on. A reversal carries the features of the entry it reverses."""

    entry_id: int
    account_id: int
    account: str
    account_name: str
    platform: str
    shop: str
    business_type: str  # "": none (a JD wallet row, a posting by hand)
    direction: str  # in | out
    entry_type: str
    category: str | None
    subject: str | None
    remark: str
    description: str
    counterparty: str
    trade_no: str
    base: int  # the amount the rule's lines take, ledger minor units; negative: red
    day: date
    red: bool
    reverses: int | None
    gap_type: str | None = None  # a reconciliation difference's ("": none); None: a flow

    @property
    def kind(self) -> str:
        """The flow's business type as a clerk names it."""
        return self.business_type or self.subject or self.category or self.entry_type


@dataclass(slots=True)
class _Group:
    rule: int
    flow: Flow  # the first flow: its account, shop, platform, business type
    day: date
    red: bool
    sums: list[int]
    ids: array = field(default_factory=lambda: array("q"))
    gross_only: bool = False
    gross: int = 0  # Σ base, when every line of the rule is gross

    def line_sums(self) -> list[int]:
        return [self.gross] * len(self.sums) if self.gross_only else self.sums


@dataclass
class Plan:
    """The vouchers of a batch before it is written, with the flows of each."""

    book: Book
    month: str
    rules_sha256: str
    vouchers: list[Voucher]
    sources: list[array]  # per voucher: the entry ids (the match group ids of a difference's)
    rule_names: list[str]  # per voucher: the rule that made it
    rounding: list[tuple[int, int]]  # (voucher number, residual in book minor units)
    flows: int
    unmapped: dict[str, int]  # "platform/business type" → how many flows no rule takes
    problems: list[str]
    unmapped_totals: dict[str, int] = field(default_factory=dict)  # → Σ their amounts
    kinds: list[str] = field(default_factory=list)  # per voucher: flows | writeoff | red_writeoff
    differences: int = 0  # reconciliation differences written off

    @property
    def report(self) -> dict:
        return {"vouchers": len(self.vouchers), "flows": self.flows,
                "rounding": [{"number": n, "amount": a} for n, a in self.rounding]}  # fmt: skip


def month_range(month: Month, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return month.start(tz).astimezone(UTC), month.end(tz).astimezone(UTC)


def flows_query(
    book: Book, start: datetime | None, end: datetime | None, entry_ids=None, include_live=False
):
    """Every flow of the book's accounts in ``[start, end)`` in no live voucher, with the
    features of the entry a reversal reverses."""
    e, o, a = entries, entries.alias("o"), accounts
    b, ob = bill_rows.alias("b"), bill_rows.alias("ob")
    cat, sub, ocat, osub = (chart.alias(n) for n in ("cat", "sub", "ocat", "osub"))
    live = sa.exists().where(voucher_sources.c.entry_id == e.c.id, voucher_sources.c.live)
    q = (
        sa.select(
            e.c.id,
            e.c.account_id,
            a.c.number,
            a.c.name,
            a.c.type.label("platform"),
            a.c.shop_code,
            e.c.type,
            e.c.amount,
            e.c.trade_time,
            e.c.remark,
            e.c.description,
            e.c.counterparty,
            e.c.trade_no,
            e.c.reverses_entry_id,
            sa.func.coalesce(ob.c.business_type, b.c.business_type).label("business_type"),
            sa.func.coalesce(ocat.c.name, cat.c.name).label("category"),
            sa.func.coalesce(osub.c.name, sub.c.name).label("subject"),
            o.c.type.label("o_type"),
            o.c.amount.label("o_amount"),
            o.c.remark.label("o_remark"),
            o.c.description.label("o_description"),
        )  # fmt: skip
        .select_from(e)
        .join(a, a.c.id == e.c.account_id)
        .outerjoin(o, o.c.id == e.c.reverses_entry_id)
        .outerjoin(b, b.c.entry_id == e.c.id)
        .outerjoin(ob, ob.c.entry_id == o.c.id)
        .outerjoin(cat, cat.c.id == e.c.category_id)
        .outerjoin(sub, sub.c.id == e.c.subject_id)
        .outerjoin(ocat, ocat.c.id == o.c.category_id)
        .outerjoin(osub, osub.c.id == o.c.subject_id)
    )
    if not include_live:
        q = q.where(~live)
    if start is not None:
        q = q.where(e.c.trade_time >= start, e.c.trade_time < end)
    if entry_ids is not None:
        q = q.where(e.c.id.in_(entry_ids)).order_by(e.c.id)
    if book.shop_code is not None:
        q = q.where(a.c.shop_code == book.shop_code)
    return q


def to_flow(r, tz: ZoneInfo) -> Flow:
    red = r.type == "reversal" and r.o_amount is not None
    amount = r.o_amount if red else r.amount
    kind = r.o_type if red else r.type
    return Flow(
        entry_id=r.id, account_id=r.account_id, account=r.number, account_name=r.name,
        platform=r.platform, shop=r.shop_code or r.number,
        business_type=r.business_type or "",
        direction="in" if amount > 0 else "out", entry_type=kind,
        category=r.category, subject=r.subject,
        remark=(r.o_remark if red else r.remark) or "",
        description=(r.o_description if red else r.description) or "",
        counterparty=r.counterparty or "", trade_no=r.trade_no,
        base=-abs(r.amount) if red else abs(r.amount),
        day=r.trade_time.astimezone(tz).date(), red=red, reverses=r.reverses_entry_id,
    )  # fmt: skip


def classify(rules: list[Rule], flow: Flow) -> int | None:
    for i, rule in enumerate(rules):
        if rule.matches(flow):
            return i
    return None


@dataclass(frozen=True, slots=True)
class _Kind:
    """What flows of one kind share, and all a rule matches on but a remark."""

    platform: str
    business_type: str
    direction: str
    entry_type: str
    category: str | None
    subject: str | None
    gap_type: str | None = None


def _candidates(rules: list[Rule], kind: _Kind) -> tuple[int, ...]:
    """The rules a flow of ``kind`` may match, in order, up to the first that needs no remark
    (which then takes every flow the ones before it leave)."""
    found = []
    for i, rule in enumerate(rules):
        if rule.matches_features(kind):
            found.append(i)
            if rule.remark is None:
                break
    return tuple(found)


class _Days:
    """A trade time's local day, by bisection over the month's local midnights."""

    def __init__(self, m: Month, tz: ZoneInfo) -> None:
        first = m.start(tz)
        n = (m.end(tz).date() - first.date()).days
        self.days = [first.date() + timedelta(days=d) for d in range(n)]
        self.bounds = [datetime.combine(d, time(), tz).astimezone(UTC) for d in self.days]
        self.bounds.append(m.end(tz).astimezone(UTC))
        self.tz = tz

    def __call__(self, t: datetime) -> date:
        if self.bounds[0] <= t < self.bounds[-1]:
            return self.days[bisect_right(self.bounds, t) - 1]
        return t.astimezone(self.tz).date()


def plan(
    conn: Connection,
    book: Book,
    month: str,
    tz: ZoneInfo,
    *,
    entry_ids=None,
    include_live=False,
    number_from=1,
) -> Plan:
    """The vouchers of ``month`` (or of ``entry_ids`` only, whatever their month, and with
    ``include_live`` even when they are in a live voucher: testing a flow).

    The flows stream through once; a flow costs a lookup of its kind's candidate rules (the
    rules are matched once per kind, a remark pattern per flow), a bisection for its day and
    the additions to its group's sums."""
    m = Month.parse(month)
    rules = load_rules(conn, book.id)
    start, end = month_range(m, tz) if entry_ids is None else (None, None)
    groups: dict[tuple, _Group] = {}
    unmapped: Counter = Counter()
    unmapped_totals: Counter = Counter()
    kinds: dict[tuple, tuple[int, ...]] = {}
    day_of = _Days(m, tz)
    count = 0
    query = flows_query(book, start, end, entry_ids, include_live)
    result = conn.execute(query.execution_options(stream_results=True, yield_per=5000))
    last_day = m.end(tz).date() - timedelta(days=1)
    for rows in result.partitions():
        for row in rows:
            (entry_id, account_id, _, _, platform, _, etype, amount, trade_time, remark,
             description, _, _, _, btype, category, subject, o_type, o_amount, o_remark,
             o_description) = row  # fmt: skip
            count += 1
            red = etype == "reversal" and o_amount is not None
            if red:
                etype, remark, description = o_type, o_remark, o_description
                base = -abs(amount)
                amount = o_amount
            else:
                base = abs(amount)
            key = (platform, btype or "", "in" if amount > 0 else "out", etype, category, subject)
            candidates = kinds.get(key)
            if candidates is None:
                candidates = kinds[key] = _candidates(rules, _Kind(*key))
            i = next((c for c in candidates if rules[c].matches_remark(remark, description)), None)
            if i is None:
                name = PLATFORM_NAMES.get(platform, platform)
                what = f"{name}/{btype or subject or category or etype}"
                unmapped[what] += 1
                unmapped_totals[what] += base
                continue
            rule = rules[i]
            aggregate = rule.aggregate
            day = last_day if aggregate == "per_period_type" else day_of(trade_time)
            kind = btype or subject or category or etype
            gkey = (i, account_id, red, day, kind, entry_id if aggregate == "per_row" else 0)
            group = groups.get(gkey)
            if group is None:
                flow = to_flow(row, tz)
                group = groups[gkey] = _Group(i, flow, day, red, [0] * len(rule.lines))
                group.gross_only = rule.gross_only
            if group.gross_only:
                group.gross += base
            else:
                sums = group.sums
                for j, t in enumerate(rule.lines):
                    sums[j] += t.value(base)
            group.ids.append(entry_id)
    result.close()
    differences = 0
    if entry_ids is None:
        for flow in writeoffs(conn, book, start, end, tz):
            differences += 1
            i = classify(rules, flow)
            if i is None:
                what = f"核销差异/{flow.gap_type or '无'}"
                unmapped[what] += 1
                unmapped_totals[what] += flow.base
                continue
            rule = rules[i]
            day = last_day if rule.aggregate == "per_period_type" else flow.day
            per_row = flow.entry_id if rule.aggregate == "per_row" else 0
            gkey = (i, flow.account_id, flow.red, day, flow.kind, per_row)
            group = groups.get(gkey)
            if group is None:
                group = groups[gkey] = _Group(i, flow, day, flow.red, [0] * len(rule.lines))
            for j, t in enumerate(rule.lines):
                group.sums[j] += t.value(flow.base)
            group.ids.append(flow.entry_id)
    chart_ = subjects(conn, book.id)
    mapping = account_map(conn, book.id)
    reds = [g for g in groups.values() if g.red]
    originals = (
        _original_vouchers(conn, [g for g in reds if not rules[g.rule].recon]),
        _original_writeoffs(conn, [g.flow.reverses for g in reds if rules[g.rule].recon]),
    )
    out = Plan(book, month, rules_sha256(rule_data(conn, book.id)), [], [], [], [], count,
               dict(unmapped), [], dict(unmapped_totals))  # fmt: skip
    ordered = sorted(groups.items(), key=lambda kv: (kv[1].day, kv[0][0], kv[1].flow.account,
                                                     kv[1].red, kv[0][4], kv[0][5]))  # fmt: skip
    number = number_from
    for _, g in ordered:
        rule = rules[g.rule]
        voucher = _voucher(book, rule, g, number, m, chart_, mapping, originals, out)
        out.vouchers.append(voucher)
        out.sources.append(g.ids)
        out.rule_names.append(rule.name)
        out.kinds.append(("red_writeoff" if g.red else "writeoff") if rule.recon else "flows")
        number += 1
    out.differences = differences
    if unmapped:
        listed = ", ".join(f"{k}, {n} 笔" for k, n in sorted(unmapped.items()))
        out.problems.insert(0, f"{UNMAPPED}: {listed}")
    return out


def _voucher(book, rule, g, number, m, chart_, mapping, originals, out) -> Voucher:
    f = g.flow
    fields_ = dict(shop=f.shop, account=f.account, account_name=f.account_name,
                   platform=f.platform, platform_name=PLATFORM_NAMES.get(f.platform, ""),
                   business_type=f.kind, count=len(g.ids), month=str(m), date=g.day,
                   counterparty=f.counterparty, trade_no=f.trade_no, remark=f.remark)  # fmt: skip
    summary = rule.summary.format(**fields_)
    if g.red:
        label = originals[1 if rule.recon else 0].get(f.reverses)
        summary = f"冲销 {label} {summary}" if label else f"冲销 {summary}"
    unit = 10 ** (LEDGER_DECIMALS - book.decimals)
    sums = g.line_sums()
    lines: list[VoucherLine] = []
    for j, t in enumerate(rule.lines):
        code, aux = _subject(t.subject, f, book, mapping)
        aux = {**aux, **{k: v.format(**fields_) for k, v in t.aux}}
        amount = _round(sums[j], unit)
        name = chart_[code].name if code in chart_ else ""
        lines.append(VoucherLine(seq=j + 1, summary=summary, subject_code=code,
                                 subject_name=name, aux=aux,
                                 debit=amount if t.dc == "D" else 0,
                                 credit=amount if t.dc == "C" else 0))  # fmt: skip
    residual = sum(x.debit for x in lines) - sum(x.credit for x in lines)
    if residual:
        code = book.rounding_subject
        lines.append(VoucherLine(seq=len(lines) + 1, summary=f"{summary} 尾差", subject_code=code,
                                 subject_name=chart_[code].name if code in chart_ else "",
                                 debit=-residual if residual < 0 else 0,
                                 credit=residual if residual > 0 else 0))  # fmt: skip
        out.rounding.append((number, residual))
    _check_lines(lines, chart_, number, book, out.problems)
    return Voucher(word=book.voucher_word, number=number, date=g.day, year=m.year,
                   period=m.month, summary=summary, lines=tuple(lines),
                   attachments=len(g.ids))  # fmt: skip


def _round(value: int, unit: int) -> int:
    """Half-up (away from zero) from ledger minor units to the book's."""
    sign = -1 if value < 0 else 1
    return sign * ((abs(value) + unit // 2) // unit) if unit > 1 else value


def _subject(template: str, flow: Flow, book: Book, mapping) -> tuple[str, dict]:
    if template == "@account" or template == "@counterparty_account":
        if flow.account_id in mapping:
            code, aux = mapping[flow.account_id]
            return code, dict(aux)
        code = ACCOUNT_SUBJECTS.get(flow.platform, OTHER_PLATFORM)
        return standard_code(code, book.standard), {}
    return template, {}


def _check_lines(lines, chart_: dict[str, Subject], number, book, problems: list[str]) -> None:
    where = f"voucher {book.voucher_word}-{number}"
    for line in lines:
        s = chart_.get(line.subject_code)
        if s is None:
            problems.append(f"{where}: 科目 {line.subject_code} is not in book {book.name}")
        elif not s.leaf:
            problems.append(f"{where}: 科目 {line.subject_code} {s.name} is not a leaf")
        else:
            missing = [d for d in s.aux if not line.aux.get(d)]
            if missing:
                problems.append(f"{where}: 科目 {s.code} {s.name} needs {', '.join(missing)}")
    debit = sum(x.debit for x in lines)
    credit = sum(x.credit for x in lines)
    if debit != credit:
        problems.append(f"{where}: 借 {debit} ≠ 贷 {credit}")


def _original_vouchers(conn: Connection, red: list[_Group]) -> dict[int, str]:
    """The voucher each reversed entry is in (``记-12``), for the red vouchers' summaries."""
    wanted = {g.flow.reverses for g in red if g.flow.reverses}
    if not wanted:
        return {}
    q = (
        sa.select(
            voucher_sources.c.entry_id, vouchers.c.word, vouchers.c.number, voucher_batches.c.month
        )  # fmt: skip
        .join(voucher_lines, voucher_lines.c.id == voucher_sources.c.line_id)
        .join(vouchers, vouchers.c.id == voucher_lines.c.voucher_id)
        .join(voucher_batches, voucher_batches.c.id == vouchers.c.batch_id)
        .where(voucher_sources.c.live, voucher_sources.c.entry_id.in_(wanted))
    )
    return {r.entry_id: f"{r.month} {r.word}-{r.number}" for r in conn.execute(q)}


#: the outcomes of a match whose difference is written off (recon/service.py OUTCOMES)
WRITEOFF_OUTCOMES = ("within_tolerance", "with_difference", "forced")


def writeoffs(conn: Connection, book: Book, start, end, tz: ZoneInfo) -> list[Flow]:
    """The reconciliation differences of ``[start, end)`` in no live voucher, as flows a
    ``gap_type`` rule takes: each active match that wrote a difference off (dated by its latest
    item: the money's arrival or the order line; or the first day of the month it was booked
    in, when its own month was closed: 跨期), and each match undone after the voucher of
    its write-off was exported (a red one, dated when it was undone). ``base`` is the
    difference's size; ``direction`` ``out`` when less money came than expected."""
    g, ml, rs = match_groups, match_lines, voucher_recon_sources
    live = sa.exists().where(rs.c.group_id == g.c.id, rs.c.live)
    actual = (
        sa.select(sa.func.max(bill_rows.c.trade_time))
        .join(ml, sa.and_(ml.c.side == "actual", ml.c.item_id == bill_rows.c.id))
        .where(ml.c.group_id == g.c.id)
        .scalar_subquery()
    )
    expected = (
        sa.select(sa.func.max(expected_items.c.occurred_at))
        .join(ml, sa.and_(ml.c.side == "expected", ml.c.item_id == expected_items.c.id))
        .where(ml.c.group_id == g.c.id)
        .scalar_subquery()
    )
    account = (
        sa.select(sa.func.min(bill_rows.c.account_id))
        .join(ml, sa.and_(ml.c.side == "actual", ml.c.item_id == bill_rows.c.id))
        .where(ml.c.group_id == g.c.id)
        .scalar_subquery()
    )
    exported = (
        sa.exists()
        .where(rs.c.group_id == g.c.id, rs.c.live, ~rs.c.red)
        .where(voucher_batches.c.id == rs.c.batch_id, voucher_batches.c.state == "exported")
    )
    red_live = sa.exists().where(rs.c.group_id == g.c.id, rs.c.live, rs.c.red)
    cols = (g.c.id, g.c.group_no, g.c.shop_code, g.c.difference, g.c.gap_type_code, g.c.memo,
            gap_types.c.name.label("gap_name"), actual.label("at_actual"),
            expected.label("at_expected"), recon_events.c.at.label("undone_at"),
            account.label("account_id"), g.c.period)  # fmt: skip
    q = (
        sa.select(*cols)
        .outerjoin(gap_types, gap_types.c.code == g.c.gap_type_code)
        .outerjoin(recon_events, recon_events.c.id == g.c.undone_event_id)
        .where(g.c.difference != 0, g.c.outcome.in_(WRITEOFF_OUTCOMES))
        .where(
            sa.or_(
                sa.and_(g.c.state == "active", ~live),
                sa.and_(g.c.state == "undone", exported, ~red_live),
            )
        )
        .order_by(g.c.id)
    )
    if book.shop_code is not None:
        q = q.where(g.c.shop_code == book.shop_code)
    rows = conn.execute(q).all()
    names = {}
    ids = {r.account_id for r in rows if r.account_id is not None}
    if ids:
        a = accounts.c
        names = {x.id: x for x in conn.execute(
            sa.select(a.id, a.number, a.name, a.type).where(a.id.in_(ids)))}  # fmt: skip
    out = []
    for r in rows:
        red = r.undone_at is not None
        dates = [t for t in (r.at_actual, r.at_expected) if t is not None]
        at = r.undone_at if red else max(dates, default=None)
        if at is not None and not red and r.period:
            at = max(at, _month_start(r.period, tz))  # booked forward past a closed month
        if at is None or not start <= at < end:
            continue
        acc = names.get(r.account_id)
        out.append(Flow(
            entry_id=r.id, account_id=r.account_id or 0, account=acc.number if acc else "",
            account_name=acc.name if acc else "", platform=acc.type if acc else "",
            shop=r.shop_code, business_type="", direction="in" if r.difference > 0 else "out",
            entry_type="writeoff", category=None,
            subject=r.gap_name or r.gap_type_code or "核销差异", remark=r.memo or "",
            description="", counterparty="", trade_no=r.group_no,
            base=-abs(r.difference) if red else abs(r.difference),
            day=at.astimezone(tz).date(), red=red, reverses=r.id if red else None,
            gap_type=r.gap_type_code or "",
        ))  # fmt: skip
    return out


def _month_start(period: str, tz: ZoneInfo) -> datetime:
    """The first instant of ``yyyy-mm`` in the business time zone."""
    year, month = (int(x) for x in period.split("-"))
    return datetime(year, month, 1, tzinfo=tz)


def _original_writeoffs(conn: Connection, group_ids: list[int]) -> dict[int, str]:
    """The voucher each undone match's write-off is in, for the red vouchers' summaries."""
    if not group_ids:
        return {}
    rs = voucher_recon_sources
    q = (
        sa.select(rs.c.group_id, vouchers.c.word, vouchers.c.number, voucher_batches.c.month)
        .join(voucher_lines, voucher_lines.c.id == rs.c.line_id)
        .join(vouchers, vouchers.c.id == voucher_lines.c.voucher_id)
        .join(voucher_batches, voucher_batches.c.id == vouchers.c.batch_id)
        .where(rs.c.live, ~rs.c.red, rs.c.group_id.in_(group_ids))
    )
    return {r.group_id: f"{r.month} {r.word}-{r.number}" for r in conn.execute(q)}


def check(p: Plan) -> None:
    """Refuse the plan (nothing written) when anything is wrong; the first problems named."""
    numbers = [v.number for v in p.vouchers]
    if numbers and numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        p.problems.append("voucher numbers are not continuous")
    if p.problems:
        raise VoucherInvalid(
            f"no vouchers made for {p.month} of book {p.book.name}: "
            + "; ".join(p.problems[:10])
            + (f" (and {len(p.problems) - 10} more)" if len(p.problems) > 10 else ""),
            p.problems,
        )


def next_number(conn: Connection, book: Book, month: str) -> int:
    q = (
        sa.select(sa.func.max(vouchers.c.number))
        .join(voucher_batches, voucher_batches.c.id == vouchers.c.batch_id)
        .where(
            voucher_batches.c.book_id == book.id,
            voucher_batches.c.month == month,
            voucher_batches.c.state.in_(LIVE),
            vouchers.c.word == book.voucher_word,
        )  # fmt: skip
    )
    return (conn.execute(q).scalar() or 0) + 1


def write(conn: Connection, p: Plan, *, actor: str, ledger_closed: bool) -> int:
    """Store the plan as a draft batch; returns its id."""
    batch_id = conn.execute(
        voucher_batches.insert().returning(voucher_batches.c.id),
        dict(
            book_id=p.book.id,
            month=p.month,
            rules_sha256=p.rules_sha256,
            state="draft",
            vouchers=len(p.vouchers),
            flows=sum(len(s) for s, k in zip(p.sources, p.kinds, strict=True) if k == "flows"),
            rounding=sum(abs(a) for _, a in p.rounding),
            ledger_closed=ledger_closed,
            created_by=actor,
            created_at=datetime.now(UTC),
        ),  # fmt: skip
    ).scalar_one()
    firsts = []
    for v in p.vouchers:
        voucher_id = conn.execute(
            vouchers.insert().returning(vouchers.c.id),
            dict(
                batch_id=batch_id,
                word=v.word,
                number=v.number,
                date=v.date,
                summary=v.summary,
                attachments=v.attachments,
                debit_total=v.debit_total,
                credit_total=v.credit_total,
            ),  # fmt: skip
        ).scalar_one()
        line_ids = (
            conn.execute(
                voucher_lines.insert().returning(voucher_lines.c.id, sort_by_parameter_order=True),
                [
                    dict(
                        voucher_id=voucher_id,
                        seq=line.seq,
                        summary=line.summary,
                        subject_code=line.subject_code,
                        subject_name=line.subject_name,
                        aux=line.aux,
                        debit=line.debit,
                        credit=line.credit,
                        rounding=line.summary.endswith(" 尾差"),
                    )
                    for line in v.lines
                ],  # fmt: skip
            )
            .scalars()
            .all()
        )
        firsts.append(line_ids[0])
    rows = (
        (entry, batch_id, first, 1)
        for first, ids, kind in zip(firsts, p.sources, p.kinds, strict=True)
        if kind == "flows"
        for entry in ids
    )
    insert_int_rows(conn, "voucher_sources", ("entry_id", "batch_id", "line_id", "live"), rows)
    recon = [
        dict(group_id=g, red=kind == "red_writeoff", batch_id=batch_id, line_id=first, live=True)
        for first, ids, kind in zip(firsts, p.sources, p.kinds, strict=True)
        if kind != "flows"
        for g in ids
    ]
    if recon:
        conn.execute(voucher_recon_sources.insert(), recon)
    return batch_id


def load_vouchers(conn: Connection, batch_id: int, year: int, period: int) -> list[Voucher]:
    """A stored batch's vouchers, as the writers take them."""
    lines: dict[int, list[VoucherLine]] = {}
    q = (
        sa.select(voucher_lines)
        .join(vouchers, vouchers.c.id == voucher_lines.c.voucher_id)
        .where(vouchers.c.batch_id == batch_id)
        .order_by(voucher_lines.c.voucher_id, voucher_lines.c.seq)
    )
    for r in conn.execute(q):
        lines.setdefault(r.voucher_id, []).append(
            VoucherLine(
                seq=r.seq,
                summary=r.summary,
                subject_code=r.subject_code,
                subject_name=r.subject_name,
                debit=r.debit,
                credit=r.credit,
                aux=dict(r.aux or {}),
            )  # fmt: skip
        )
    q = sa.select(vouchers).where(vouchers.c.batch_id == batch_id).order_by(vouchers.c.number)
    return [
        Voucher(
            word=r.word,
            number=r.number,
            date=r.date,
            year=year,
            period=period,
            summary=r.summary,
            lines=tuple(lines.get(r.id, ())),
            attachments=r.attachments,
            ref=f"{batch_id}/{r.id}",
        )  # fmt: skip
        for r in conn.execute(q)
    ]
