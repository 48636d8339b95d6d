"""The matcher for one key group (reconciliation.md §A.2.3, bars 2-4 and 8 of §A.2.8)."""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhangben.core.errors import ValidationError
from zhangben.recon.conditions import parse_conditions
from zhangben.recon.defaults import DEFAULT_RULES, GAP_TYPE_CODES
from zhangben.recon.matching import (
    PAIR_LIMIT,
    SUBSET_LIMIT,
    Item,
    Proposal,
    Rule,
    match_group,
    suggest_unkeyed,
    tolerance,
)

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
YUAN = 10_000
EXACT_ONLY = (Rule(id=9, priority=1, shop=None, platform=None),)


def e(id, amount, hours=0, kind="sale", key="K1", shop="S1", platform="tmall"):
    return Item(id, "expected", amount, T0 + timedelta(hours=hours), kind, platform, shop, key)


def a(id, amount, hours=0, kind="payout", key="K1", shop="S1", platform="alipay"):
    return Item(id, "actual", amount, T0 + timedelta(hours=hours), kind, platform, shop, key)


def run(expected, actual, rules=DEFAULT_RULES):
    """What the storage side does: group by (shop, key), match each group."""
    groups = {}
    for item in [*expected, *actual]:
        groups.setdefault((item.shop, item.key), ([], []))[item.side == "actual"].append(item)
    out = []
    for key in sorted(groups, key=str):
        out += match_group(*groups[key], rules)
    return out


def pairs(proposals):
    return sorted(
        (tuple(i for i, _ in p.expected), tuple(i for i, _ in p.actual)) for p in proposals
    )


def test_one_to_one_exact_and_automatic():
    (p,) = match_group([e(1, 100 * YUAN)], [a(7, 100 * YUAN, hours=30)], DEFAULT_RULES)
    assert p == Proposal(((1, 100 * YUAN),), ((7, 100 * YUAN),), "exact", 0, None, 1, True)


def test_two_equal_orders_the_same_day_are_not_crossed():
    """Bar 2 (actual#2668): each order's bill row goes to that order, never the other's."""
    expected = [e(1, 50 * YUAN, hours=1, key="A100"), e(2, 50 * YUAN, hours=2, key="B200")]
    actual = [a(11, 50 * YUAN, hours=1, key="B200"), a(12, 50 * YUAN, hours=2, key="A100")]
    assert pairs(run(expected, actual)) == [((1,), (12,)), ((2,), (11,))]
    # and without keys, nothing is automatic: only suggestions
    unkeyed = [a(11, 50 * YUAN, hours=1, key=None), a(12, 50 * YUAN, hours=2, key=None)]
    suggestions = suggest_unkeyed(unkeyed, [e(1, 50 * YUAN, 1), e(2, 50 * YUAN, 2)])
    assert pairs(suggestions) == [((1,), (11,)), ((2,), (12,))]
    assert not any(p.auto for p in suggestions)


def test_equal_amounts_in_one_group_pair_by_nearest_time_then_lowest_id():
    expected = [e(1, 30 * YUAN, hours=0), e(2, 30 * YUAN, hours=5), e(3, 30 * YUAN, hours=9)]
    actual = [a(11, 30 * YUAN, hours=5), a(12, 30 * YUAN, hours=1), a(13, 30 * YUAN, hours=9)]
    assert pairs(match_group(expected, actual, EXACT_ONLY)) == [
        ((1,), (12,)),
        ((2,), (11,)),
        ((3,), (13,)),
    ]
    # a tie in time goes to the lowest ids
    tie = match_group([e(2, 5, 0), e(1, 5, 0)], [a(12, 5, 1), a(11, 5, 1)], EXACT_ONLY)
    assert pairs(tie) == [((1,), (11,)), ((2,), (12,))]


def test_many_lines_of_one_amount_pair_in_time_order():
    """A key found on too many rows (a date read as an order number) stays linear."""
    n = 200
    assert n * n > PAIR_LIMIT
    expected = [e(i, YUAN, hours=i) for i in range(1, n + 1)]
    actual = [a(1000 + i, YUAN, hours=i + 1) for i in range(1, n + 1)]
    ps = match_group(expected, actual, EXACT_ONLY)
    assert pairs(ps) == [((i,), (1000 + i,)) for i in range(1, n + 1)]


def test_goods_commission_and_freight_match_one_payout_exactly():
    """Bar 3: the order's expected lines against the one payout, as one exact group."""
    expected = [
        e(1, 100 * YUAN, kind="sale"),
        e(2, -5 * YUAN, kind="commission"),
        e(3, 8 * YUAN, kind="freight"),
    ]
    (p,) = match_group(expected, [a(7, 103 * YUAN, hours=20)], DEFAULT_RULES)
    assert p.outcome == "exact" and p.difference == 0 and p.auto
    assert p.expected == ((1, 100 * YUAN), (2, -5 * YUAN), (3, 8 * YUAN))
    # and the other way round: one sale line against the bill's goods, commission, freight
    actual = [a(7, 100 * YUAN), a(8, -5 * YUAN), a(9, 8 * YUAN)]
    (p,) = match_group([e(1, 103 * YUAN)], actual, DEFAULT_RULES)
    assert (p.outcome, p.actual) == ("exact", ((7, 100 * YUAN), (8, -5 * YUAN), (9, 8 * YUAN)))


def test_a_ten_thousandth_of_a_yuan_is_a_difference():
    (p,) = match_group([e(1, 100 * YUAN)], [a(7, 100 * YUAN + 1)], EXACT_ONLY)
    assert (p.outcome, p.difference, p.auto) == ("with_difference", 1, False)
    (p,) = match_group([e(1, 100 * YUAN)], [a(7, 100 * YUAN - 1)], EXACT_ONLY)
    assert (p.outcome, p.difference, p.auto) == ("with_difference", -1, False)
    # the default rules call it rounding, but it is still recorded as a difference
    (p,) = match_group([e(1, 100 * YUAN)], [a(7, 100 * YUAN + 1)], DEFAULT_RULES)
    assert (p.outcome, p.difference, p.gap_type, p.auto) == (
        "within_tolerance",
        1,
        "ROUNDING",
        True,
    )


def test_a_refund_before_shipment_is_an_ar_offset():
    """Bar 4: a sale and its full refund, no money moved: 应收对冲."""
    (p,) = match_group([e(1, 60 * YUAN), e(2, -60 * YUAN, kind="refund")], [], DEFAULT_RULES)
    assert (p.origin, p.outcome, p.actual, p.difference) == ("ar_offset", "exact", (), 0)
    assert match_group([e(1, 60 * YUAN), e(2, -50 * YUAN)], [], DEFAULT_RULES) == []
    assert match_group([], [a(1, 60 * YUAN), a(2, -60 * YUAN)], DEFAULT_RULES) == []


def test_default_rules():
    def one(exp, act):
        (p,) = match_group([e(1, exp)], [a(7, act)], DEFAULT_RULES)
        return p.outcome, p.difference, p.gap_type, p.rule_id, p.auto

    assert one(100 * YUAN, 100 * YUAN + 100) == ("within_tolerance", 100, "ROUNDING", 1, True)
    assert one(100 * YUAN, 96 * YUAN) == ("within_tolerance", -4 * YUAN, "COMMISSION", 2, True)
    assert one(100 * YUAN, 94 * YUAN) == ("with_difference", -6 * YUAN, None, 2, False)
    # 5 % of 10 000 is 500, but ¥50 is the smaller bound
    assert one(10_000 * YUAN, 9_949 * YUAN)[0] == "with_difference"
    assert one(10_000 * YUAN, 9_950 * YUAN)[0] == "within_tolerance"
    assert one(100 * YUAN, 101 * YUAN) == ("with_difference", YUAN, None, 3, False)
    assert {r.on_within_tolerance for r in DEFAULT_RULES} - {None} <= GAP_TYPE_CODES


def test_tolerance_is_the_smaller_bound():
    rule = Rule(id=1, priority=1, shop=None, platform=None, tol_abs=10 * YUAN, tol_bp=100)
    assert tolerance(rule, 500 * YUAN) == 5 * YUAN  # 1 % of 500
    assert tolerance(rule, -5000 * YUAN) == 10 * YUAN
    assert tolerance(Rule(id=1, priority=1, shop=None, platform=None, tol_abs=7), 10**9) == 7


def test_first_rule_that_applies_decides():
    shop_rule = Rule(
        id=5, priority=1, shop="S2", platform=None, tol_abs=YUAN, on_within_tolerance="OTHER"
    )
    platform_rule = Rule(
        id=6, priority=2, shop=None, platform="wechat", tol_abs=YUAN, on_within_tolerance="PROMO"
    )
    kind_rule = Rule(
        id=7,
        priority=3,
        shop=None,
        platform=None,
        tol_abs=2 * YUAN,
        conditions=parse_conditions([{"field": "kind", "op": "eq", "value": "freight"}]),
        on_within_tolerance="FREIGHT",
        action="suggest",
    )
    later = Rule(id=4, priority=9, shop=None, platform=None)
    rules = (later, kind_rule, platform_rule, shop_rule)  # any order: priority decides

    def one(**kw):
        (p,) = match_group([e(1, 100 * YUAN, **kw)], [a(7, 100 * YUAN + 5000)], rules)
        return p.rule_id, p.outcome, p.gap_type, p.auto

    (p,) = match_group([e(1, 100 * YUAN, shop="S2")], [a(7, 100 * YUAN + 5000, shop="S2")], rules)
    assert (p.rule_id, p.outcome, p.gap_type, p.auto) == (5, "within_tolerance", "OTHER", True)
    assert one(platform="wechat") == (6, "within_tolerance", "PROMO", True)
    assert one(kind="freight") == (7, "within_tolerance", "FREIGHT", False)  # action suggest
    assert one() == (4, "with_difference", None, False)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("split", "gross"),
        ("action", "force"),
        ("tol_abs", -1),
        ("tol_bp", 10_001),
        ("date_window_days", -1),
    ],
)
def test_a_bad_rule_is_refused(field, value):
    with pytest.raises(ValidationError) as err:
        Rule(id=1, priority=1, shop=None, platform=None, **{field: value})
    assert err.value.field == field


def test_no_rule_gives_suggestions_only():
    (p,) = match_group([e(1, 5)], [a(2, 5)], ())
    assert (p.outcome, p.rule_id, p.auto) == ("exact", None, False)


def test_items_without_a_key_are_never_automatic():
    (p,) = match_group([e(1, 5, key=None)], [a(2, 5, key=None)], DEFAULT_RULES)
    assert p.outcome == "exact" and not p.auto


def test_within_tolerance_without_a_gap_type_waits_for_a_person():
    rule = Rule(id=1, priority=1, shop=None, platform=None, tol_abs=YUAN)
    (p,) = match_group([e(1, 100 * YUAN)], [a(2, 100 * YUAN + 1)], (rule,))
    assert (p.outcome, p.gap_type, p.auto) == ("within_tolerance", None, False)


def test_date_window():
    rule = Rule(id=1, priority=1, shop=None, platform=None, date_window_days=3)
    far = [a(7, 50 * YUAN, hours=24 * 3 + 1), a(8, 50 * YUAN, hours=24 * 3)]
    # the nearer row pairs; the one outside the window is not paired with the other line
    ps = match_group([e(1, 50 * YUAN), e(2, 50 * YUAN, hours=-24 * 5)], far, (rule,))
    assert ps[0].expected == ((1, 50 * YUAN),) and ps[0].actual == ((8, 50 * YUAN),)
    assert ps[1].outcome == "exact" and ps[1].expected == ((2, 50 * YUAN),)  # netted


def test_by_direction_nets_income_and_refunds_apart():
    by_direction = Rule(id=1, priority=1, shop=None, platform=None, split="by_direction")
    net = Rule(id=2, priority=1, shop=None, platform=None)
    expected = [e(1, 100 * YUAN), e(2, -30 * YUAN, kind="refund")]
    # the platform paid the sale net of the refund: one row of 70
    (p,) = match_group(expected, [a(7, 70 * YUAN)], (net,))
    assert (p.outcome, len(p.expected)) == ("exact", 2)
    # income and refunds apart: the sale is 30 short, the refund has not gone out
    (p,) = match_group(expected, [a(7, 70 * YUAN)], (by_direction,))
    assert (p.outcome, p.expected, p.difference) == (
        "with_difference",
        ((1, 100 * YUAN),),
        -30 * YUAN,
    )
    # each direction nets on its own
    actual = [a(7, 60 * YUAN), a(8, 40 * YUAN - 1), a(9, -30 * YUAN - 1)]
    ps = match_group(expected, actual, (by_direction,))
    assert pairs(ps) == [((1,), (7, 8)), ((2,), (9,))]
    assert [p.difference for p in ps] == [-1, -1]


def test_subset_sum_finds_the_order_inside_a_bigger_group():
    expected = [e(1, 70 * YUAN), e(2, 20 * YUAN, kind="freight"), e(3, 33 * YUAN)]
    actual = [a(7, 90 * YUAN), a(8, 32 * YUAN)]
    ps = match_group(expected, actual, EXACT_ONLY)
    assert pairs(ps) == [((1, 2), (7,)), ((3,), (8,))]
    assert [p.outcome for p in ps] == ["exact", "with_difference"]


def test_subset_sum_is_bounded():
    n = SUBSET_LIMIT  # n expected lines + 1 bill row: past the bound, netted only
    expected = [e(i, YUAN) for i in range(1, n + 1)]
    (p,) = match_group(expected, [a(99, 2 * YUAN)], EXACT_ONLY)
    assert p.outcome == "with_difference" and len(p.expected) == n
    (p,) = match_group(expected[:3], [a(99, 2 * YUAN)], EXACT_ONLY)  # line 3 stays open
    assert p.expected == ((1, YUAN), (2, YUAN)) and p.outcome == "exact"


def test_zero_remainders_are_ignored():
    assert match_group([e(1, 0)], [a(2, 0)], DEFAULT_RULES) == []
    assert match_group([], [], DEFAULT_RULES) == []


def test_suggest_unkeyed():
    items = [a(11, 50 * YUAN, hours=2, key=None), a(12, 7, key=None), a(13, 50 * YUAN, key=None)]
    candidates = [
        e(1, 50 * YUAN, hours=30),
        e(2, 50 * YUAN, hours=3),
        e(3, 7, shop="S2"),  # another shop
        e(4, 50 * YUAN, hours=24 * 40),  # outside the window
    ]
    ps = suggest_unkeyed(items, candidates)
    assert pairs(ps) == [((1,), (11,)), ((2,), (13,))]
    assert all(not p.auto and p.rule_id is None and p.outcome == "exact" for p in ps)
    # either side may be the one without a key
    (p,) = suggest_unkeyed([e(5, -3, key=None)], [a(21, -3)])
    assert (p.expected, p.actual) == (((5, -3),), ((21, -3),))


# --- property --------------------------------------------------------------------------------

amounts = st.integers(min_value=-5, max_value=5).map(lambda n: n * 2500) | st.integers(
    min_value=-(10**9), max_value=10**9
)
rules = st.builds(
    Rule,
    id=st.integers(1, 3),
    priority=st.integers(0, 3),
    shop=st.sampled_from([None, "S1"]),
    platform=st.sampled_from([None, "alipay", "jd"]),
    split=st.sampled_from(["net", "by_direction"]),
    tol_abs=st.integers(0, 10**6),
    tol_bp=st.integers(0, 1000),
    date_window_days=st.integers(0, 5),
    on_within_tolerance=st.sampled_from([None, "ROUNDING"]),
    action=st.sampled_from(["auto_confirm", "suggest"]),
)


@st.composite
def groups(draw):
    key = draw(st.sampled_from(["K1", None]))

    def items(side, n):
        return [
            Item(
                i + 1,
                side,
                draw(amounts),
                T0 + timedelta(hours=draw(st.integers(0, 24 * 8))),
                "sale",
                "alipay",
                "S1",
                key,
            )
            for i in range(n)
        ]

    return items("expected", draw(st.integers(0, 8))), items("actual", draw(st.integers(0, 8)))


@settings(max_examples=300, deadline=None)
@given(
    groups(),
    st.lists(rules, max_size=3, unique_by=lambda r: r.id),
    st.randoms(use_true_random=False),
)
def test_proposals_never_over_apply(group, rule_list, rnd):
    expected, actual = group
    proposals = match_group(expected, actual, rule_list)
    amount = {("expected", i.id): i.amount for i in expected}
    amount |= {("actual", i.id): i.amount for i in actual}
    seen = set()
    for p in proposals:
        for side, lines in (("expected", p.expected), ("actual", p.actual)):
            for item_id, applied in lines:
                assert (side, item_id) not in seen  # each item in at most one proposal
                seen.add((side, item_id))
                full = amount[(side, item_id)]
                assert applied != 0 and abs(applied) <= abs(full) and (applied > 0) == (full > 0)
        assert p.difference == sum(v for _, v in p.actual) - sum(v for _, v in p.expected)
        assert (p.outcome == "exact") == (p.difference == 0)
        if p.auto:
            assert expected[0].key is not None and p.outcome != "with_difference"
            assert p.outcome == "exact" or p.gap_type is not None
    # the same input in another order gives the same proposals
    expected2, actual2 = expected[:], actual[:]
    rnd.shuffle(expected2)
    rnd.shuffle(actual2)
    assert match_group(expected2, actual2, list(reversed(rule_list))) == proposals


def test_a_run_is_deterministic():
    rnd = random.Random(5)
    expected = [e(i, rnd.choice([1, 2, 3]) * YUAN, hours=rnd.randint(0, 50)) for i in range(1, 9)]
    actual = [a(i, rnd.choice([1, 2, 3, 6]) * YUAN, hours=rnd.randint(0, 50)) for i in range(1, 8)]
    first = match_group(expected, actual, DEFAULT_RULES)
    for _ in range(5):
        rnd.shuffle(expected)
        rnd.shuffle(actual)
        assert match_group(expected, actual, DEFAULT_RULES) == first


@st.composite
def unkeyed_case(draw):
    def items(side, n, key):
        return [
            Item(
                i + 1,
                side,
                draw(st.sampled_from([-2, -1, 1, 2, 3])) * YUAN,
                T0 + timedelta(days=draw(st.integers(0, 60))),
                "sale",
                "alipay",
                draw(st.sampled_from(["S1", "S2"])),
                key,
            )
            for i in range(n)
        ]

    side = draw(st.sampled_from(["expected", "actual"]))
    other = "actual" if side == "expected" else "expected"
    return items(side, draw(st.integers(0, 8)), None), items(other, draw(st.integers(0, 8)), "K")


@settings(max_examples=200, deadline=None)
@given(unkeyed_case())
def test_unkeyed_suggestions_are_never_automatic_and_exclusive(case):
    items, candidates = case
    everything = {(i.side, i.id): i for i in [*items, *candidates]}
    seen = set()
    for p in suggest_unkeyed(items, candidates):
        assert not p.auto and p.outcome == "exact" and p.difference == 0
        ((eid, e_amt),), ((aid, a_amt),) = p.expected, p.actual
        e, a = everything[("expected", eid)], everything[("actual", aid)]
        assert e_amt == e.amount == a.amount == a_amt and e.shop == a.shop
        assert abs(e.at - a.at) <= timedelta(days=31)
        assert not {("expected", eid), ("actual", aid)} & seen
        seen |= {("expected", eid), ("actual", aid)}
