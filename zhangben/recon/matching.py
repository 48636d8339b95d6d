"""The deterministic matcher for one key group (reconciliation.md §A.2.3).

Pure: items and rules in, proposals out; no database, no clock. The same input, in any order,
gives the same proposals (items are taken in id order, ties broken by time then id).

For one (shop, key) group of unmatched remainders, E (expected) and A (actual):

1. the first rule that applies decides (rules in (priority, id) order; see :func:`choose_rule`);
2. exclusive one-to-one pairs of equal amount inside the rule's date window: the nearest
   times pair first, then the lowest ids; each item is used once (past :data:`PAIR_LIMIT`
   candidates of one amount, both sides are paired in time order instead);
3. the rest is split per direction under ``split="by_direction"`` (money in, money out), or
   kept whole (``net``); in each part:
4. a bounded subset sum (|E| + |A| ≤ :data:`SUBSET_LIMIT`): one item against several on the
   other side whose amounts add up exactly (goods + commission + freight against one payout);
5. the rest netted: ``d = ΣA − ΣE``;
   ``d == 0`` → exact, ``|d| ≤ tolerance`` → within_tolerance with the rule's gap type, else a
   with_difference suggestion (never automatic). Expected lines alone that net to zero (a sale
   and its refund, nothing paid) are an ``ar_offset`` (应收对冲).

A proposal is automatic only when the rule's action is ``auto_confirm``, every item in it has
a key, and its outcome is exact or within tolerance with a gap type. Each item appears in at
most one proposal, always with its whole remaining amount.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any, NamedTuple

from zhangben.core.errors import ValidationError
from zhangben.recon.conditions import matches

EXPECTED = "expected"
ACTUAL = "actual"
EXACT = "exact"
WITHIN_TOLERANCE = "within_tolerance"
WITH_DIFFERENCE = "with_difference"
SPLITS = ("net", "by_direction")
ACTIONS = ("auto_confirm", "suggest")
#: The subset sum runs only on groups of at most this many items (|E| + |A|).
SUBSET_LIMIT = 12
#: Past this many candidate pairs of one amount in one group, pairs are taken in time order.
PAIR_LIMIT = 4096
BP = 10_000  # basis points in one
MAX_MINOR = 999_999_999_999_999_999  # MAX_AMOUNT in minor units
MAX_WINDOW_DAYS = 3660


class Item(NamedTuple):
    """An unmatched remainder: an expected line or a bill row, ``amount`` its signed remaining
    minor units (1/10000 yuan; + is money in). A named tuple: a run makes one per open item,
    and a tuple is made several times faster than a frozen dataclass."""

    id: int
    side: str  # "expected" | "actual"
    amount: int
    at: datetime
    kind: str
    platform: str
    shop: str
    key: str | None


@dataclass(frozen=True, slots=True)
class Rule:
    """A matching rule (a ``match_rules`` row). ``shop``/``platform`` None = any. The
    tolerance is the smaller of ``tol_abs`` (minor units) and ``tol_bp`` basis points of the
    expected total; ``tol_bp == 0`` means no basis-point bound (``tol_abs`` alone)."""

    id: int
    priority: int
    shop: str | None
    platform: str | None
    split: str = "net"  # net | by_direction
    tol_abs: int = 0
    tol_bp: int = 0
    date_window_days: int = 31
    conditions: tuple = ()
    on_within_tolerance: str | None = None
    action: str = "auto_confirm"  # auto_confirm | suggest

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise ValidationError("split", f"{self.split!r} is not one of {', '.join(SPLITS)}")
        if self.action not in ACTIONS:
            raise ValidationError("action", f"{self.action!r} is not one of {', '.join(ACTIONS)}")
        if not 0 <= self.tol_abs <= MAX_MINOR:
            raise ValidationError("tol_abs", f"{self.tol_abs} is not 0 to {MAX_MINOR} minor units")
        if not 0 <= self.tol_bp <= BP:
            raise ValidationError("tol_bp", f"{self.tol_bp} is not 0 to {BP} basis points")
        if not 0 <= self.date_window_days <= MAX_WINDOW_DAYS:
            raise ValidationError(
                "date_window_days", f"{self.date_window_days} is not 0 to {MAX_WINDOW_DAYS} days"
            )


class Proposal(NamedTuple):
    """A match the matcher proposes: ``(item_id, amount_applied)`` per side; ``difference`` =
    Σactual − Σexpected of the applied amounts. ``auto``: confirm now; else a suggestion for a
    person. ``origin`` is ``auto`` or ``ar_offset`` (expected lines that cancel out). A named
    tuple, as :class:`Item`."""

    expected: tuple[tuple[int, int], ...]
    actual: tuple[tuple[int, int], ...]
    outcome: str  # exact | within_tolerance | with_difference
    difference: int
    gap_type: str | None
    rule_id: int | None
    auto: bool
    origin: str = "auto"


# The parameters used when no rule applies: nothing automatic, exact amounts only.
_NO_RULE = Rule(id=0, priority=0, shop=None, platform=None, action="suggest")


def tolerance(rule: Rule, expected_total: int) -> int:
    """The rule's tolerance for a group whose expected lines add up to ``expected_total``."""
    if rule.tol_bp:
        return min(rule.tol_abs, abs(expected_total) * rule.tol_bp // BP)
    return rule.tol_abs


def group_facts(expected: Sequence[Item], actual: Sequence[Item]) -> dict[str, Any]:
    """The facts a rule's conditions see for a group: ``shop``, ``key``; ``platform`` of the
    bill side (the lowest-id bill row, else expected line); ``kind`` of the expected lines
    when they share one, else ``mixed``; ``amount`` = Σexpected (Σactual when there is no
    expected line), ``abs_amount``, ``direction`` (in when amount ≥ 0, else out);
    ``difference`` = Σactual − Σexpected over the whole group, ``abs_difference``."""
    side = actual or expected
    first = side[0] if len(side) == 1 else min(side, key=_by_id)
    if len(expected) == 1:
        kind, total_e = expected[0].kind, expected[0].amount
    else:
        kinds = {e.kind for e in expected} if expected else {a.kind for a in actual}
        kind = kinds.pop() if len(kinds) == 1 else "mixed"
        total_e = sum([e.amount for e in expected])
    total_a = actual[0].amount if len(actual) == 1 else sum([a.amount for a in actual])
    amount = total_e if expected else total_a
    return {
        "shop": first.shop,
        "key": first.key,
        "platform": first.platform,
        "kind": kind,
        "amount": amount,
        "abs_amount": abs(amount),
        "direction": "in" if amount >= 0 else "out",
        "difference": total_a - total_e,
        "abs_difference": abs(total_a - total_e),
    }


def choose_rule(
    rules: Sequence[Rule], expected: Sequence[Item], actual: Sequence[Item]
) -> Rule | None:
    """The first rule, in (priority, id) order, whose shop and platform fit the group (the
    platform of any of its items) and whose conditions hold for :func:`group_facts`."""
    items = expected or actual
    if not items:
        return None
    shop = items[0].shop
    facts = None
    for rule in _ordered(rules):
        if rule.shop is not None and rule.shop != shop:
            continue
        if rule.platform is not None and not any(
            i.platform == rule.platform for i in (*expected, *actual)
        ):
            continue
        if rule.conditions:
            if facts is None:
                facts = group_facts(expected, actual)
            if not matches(rule.conditions, facts):
                continue
        return rule
    return None


def match_group(
    expected: Iterable[Item], actual: Iterable[Item], rules: Sequence[Rule]
) -> list[Proposal]:
    """Proposals for one (shop, key) group; see the module's docstring for the steps."""
    es = [e for e in expected if e.amount]
    as_ = [a for a in actual if a.amount]
    if len(es) > 1:
        es.sort(key=_by_id)
    if len(as_) > 1:
        as_.sort(key=_by_id)
    if not es and not as_:
        return []
    rule = choose_rule(rules, es, as_)
    rule_id = rule.id if rule is not None else None
    rule = rule or _NO_RULE
    auto = (
        rule.action == "auto_confirm"
        and not any(i.key is None for i in es)
        and not any(i.key is None for i in as_)
    )
    window = timedelta(days=rule.date_window_days)

    # Fast path: one expected line, one bill row, equal amounts in the window.
    if len(es) == 1 and len(as_) == 1:
        e, a = es[0], as_[0]
        if e.amount == a.amount and abs(a.at - e.at) <= window:
            return [
                Proposal(((e.id, e.amount),), ((a.id, a.amount),), EXACT, 0, None, rule_id, auto)
            ]

    out: list[Proposal] = []
    es, as_ = _pairs(es, as_, window, rule_id, auto, out)
    if rule.split == "by_direction":
        parts = [
            ([e for e in es if e.amount > 0], [a for a in as_ if a.amount > 0]),
            ([e for e in es if e.amount < 0], [a for a in as_ if a.amount < 0]),
        ]
    else:
        parts = [(es, as_)]
    for pe, pa in parts:
        if pe and pa and 2 < len(pe) + len(pa) <= SUBSET_LIMIT:
            pe, pa = _subsets(pe, pa, window, rule_id, auto, out)
        if pe and pa:
            out.append(_net(pe, pa, rule, rule_id, auto))
        elif len(pe) > 1 and not sum(e.amount for e in pe):
            out.append(Proposal(_lines(pe), (), EXACT, 0, None, rule_id, auto, origin="ar_offset"))
    return out


def suggest_unkeyed(
    items: Iterable[Item], candidates: Iterable[Item], *, window_days: int = 31
) -> list[Proposal]:
    """Suggestions (never automatic) for items without a usable key: each item (in time, then
    id order) is offered the unused candidate of the other side, same shop, equal amount,
    inside the window, nearest in time then lowest id."""
    window = timedelta(days=window_days)
    pool: dict[tuple[str, str, int], list[Item]] = {}
    for c in sorted(candidates, key=_by_id):
        if c.amount:
            pool.setdefault((c.shop, c.side, c.amount), []).append(c)
    used: set[tuple[str, int]] = set()
    out: list[Proposal] = []
    for item in sorted(items, key=_by_time):
        if not item.amount or (item.side, item.id) in used:
            continue
        other = ACTUAL if item.side == EXPECTED else EXPECTED
        best = None
        for c in pool.get((item.shop, other, item.amount), ()):
            gap = abs(c.at - item.at)
            if gap > window or (c.side, c.id) in used:
                continue
            if best is None or (gap, c.id) < best[0]:
                best = ((gap, c.id), c)
        if best is None:
            continue
        c = best[1]
        used.add((c.side, c.id))
        used.add((item.side, item.id))
        e, a = (item, c) if item.side == EXPECTED else (c, item)
        out.append(Proposal(((e.id, e.amount),), ((a.id, a.amount),), EXACT, 0, None, None, False))
    return out


# --- steps ---------------------------------------------------------------------------------


def _by_id(item: Item) -> int:
    return item.id


def _by_time(item: Item) -> tuple[datetime, int]:
    return item.at, item.id


def _lines(items: Iterable[Item]) -> tuple[tuple[int, int], ...]:
    return tuple((i.id, i.amount) for i in items)


_last: tuple[Sequence[Rule] | None, list[Rule]] = (None, [])


def _ordered(rules: Sequence[Rule]) -> list[Rule]:
    """Rules in (priority, id) order. The last tuple of rules is remembered (a run passes one
    to every group: sorted once), stored as one pair so that threads cannot mix two up; a list
    may change between calls, so it is sorted each time."""
    global _last
    last = _last
    if last[0] is rules:
        return last[1]
    ordered = sorted(rules, key=_rule_order)
    if isinstance(rules, tuple):
        _last = (rules, ordered)
    return ordered


def _rule_order(rule: Rule) -> tuple[int, int]:
    return rule.priority, rule.id


def _pairs(
    es: list[Item], as_: list[Item], window: timedelta, rule_id, auto, out: list[Proposal]
) -> tuple[list[Item], list[Item]]:
    """Exclusive 1:1 pairs of equal amount inside the window: nearest time first, then the
    lowest expected id, then the lowest actual id. Returns the unpaired rest."""
    by_amount: dict[int, list[Item]] = {}
    for a in as_:
        by_amount.setdefault(a.amount, []).append(a)
    e_by_amount: dict[int, list[Item]] = {}
    for e in es:
        if e.amount in by_amount:
            e_by_amount.setdefault(e.amount, []).append(e)
    if not e_by_amount:
        return es, as_
    chosen: list[tuple[timedelta, int, int, Item, Item]] = []
    for amount, be in e_by_amount.items():
        ba = by_amount[amount]
        if len(be) * len(ba) <= PAIR_LIMIT:
            chosen += _nearest_pairs(be, ba, window)
        else:
            chosen += _merged_pairs(be, ba, window)
    if not chosen:
        return es, as_
    chosen.sort(key=lambda c: c[:3])
    for _, eid, aid, e, a in chosen:
        out.append(Proposal(((eid, e.amount),), ((aid, a.amount),), EXACT, 0, None, rule_id, auto))
    used_e = {c[1] for c in chosen}
    used_a = {c[2] for c in chosen}
    return [e for e in es if e.id not in used_e], [a for a in as_ if a.id not in used_a]


def _nearest_pairs(be: list[Item], ba: list[Item], window: timedelta) -> list:
    candidates = []
    for e in be:
        for a in ba:
            gap = abs(a.at - e.at)
            if gap <= window:
                candidates.append((gap, e.id, a.id, e, a))
    candidates.sort(key=lambda c: c[:3])
    used_e: set[int] = set()
    used_a: set[int] = set()
    chosen = []
    for c in candidates:
        if c[1] in used_e or c[2] in used_a:
            continue
        used_e.add(c[1])
        used_a.add(c[2])
        chosen.append(c)
    return chosen


def _merged_pairs(be: list[Item], ba: list[Item], window: timedelta) -> list:
    """Many lines of one amount under one key (a key a rule found too often): both sides in
    time order, paired in turn when inside the window; linear, where the nearest-first
    search would be quadratic."""
    be = sorted(be, key=_by_time)
    ba = sorted(ba, key=_by_time)
    chosen = []
    i = j = 0
    while i < len(be) and j < len(ba):
        e, a = be[i], ba[j]
        gap = abs(a.at - e.at)
        if gap <= window:
            chosen.append((gap, e.id, a.id, e, a))
            i += 1
            j += 1
        elif e.at < a.at:
            i += 1
        else:
            j += 1
    return chosen


def _subsets(
    es: list[Item], as_: list[Item], window: timedelta, rule_id, auto, out: list[Proposal]
) -> tuple[list[Item], list[Item]]:
    """One item against the smallest set (≥ 2, the lowest ids first) of the other side that
    adds up to it exactly, all inside the window (bill rows first, then expected lines, each
    in id order); repeated while one is found. Returns the rest."""
    while es and as_:
        hit = _find_subset(es, as_, window)
        if hit is None:
            break
        exp, act = hit
        out.append(Proposal(_lines(exp), _lines(act), EXACT, 0, None, rule_id, auto))
        taken = {i.id for i in exp}, {i.id for i in act}
        es = [e for e in es if e.id not in taken[0]]
        as_ = [a for a in as_ if a.id not in taken[1]]
    return es, as_


def _find_subset(
    es: list[Item], as_: list[Item], window: timedelta
) -> tuple[tuple[Item, ...], tuple[Item, ...]] | None:
    for a in as_:
        subset = _smallest_subset(a, es, window)
        if subset is not None:
            return subset, (a,)
    for e in es:
        subset = _smallest_subset(e, as_, window)
        if subset is not None:
            return (e,), subset
    return None


def _smallest_subset(target: Item, pool: list[Item], window: timedelta) -> tuple[Item, ...] | None:
    near = [p for p in pool if abs(p.at - target.at) <= window]
    for size in range(2, len(near) + 1):
        for combo in combinations(near, size):
            if sum(p.amount for p in combo) == target.amount:
                return combo
    return None


def _net(pe: list[Item], pa: list[Item], rule: Rule, rule_id, auto) -> Proposal:
    total_e = sum(e.amount for e in pe)
    d = sum(a.amount for a in pa) - total_e
    if d == 0:
        return Proposal(_lines(pe), _lines(pa), EXACT, 0, None, rule_id, auto)
    if abs(d) <= tolerance(rule, total_e):
        gap = rule.on_within_tolerance
        return Proposal(
            _lines(pe), _lines(pa), WITHIN_TOLERANCE, d, gap, rule_id, auto and gap is not None
        )
    return Proposal(_lines(pe), _lines(pa), WITH_DIFFERENCE, d, None, rule_id, False)
