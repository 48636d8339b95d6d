"""What a new ledger starts with: the seeded gap types (差异类型) and the default matching
rules. Storage seeds them; a person edits them as data afterwards."""

from __future__ import annotations

from dataclasses import dataclass

from zhangben.recon.conditions import parse_conditions
from zhangben.recon.matching import Rule


@dataclass(frozen=True, slots=True)
class GapType:
    """A reason for a difference. ``auto_allowed``: a rule may confirm with it unattended."""

    code: str
    name: str
    auto_allowed: bool


GAP_TYPES: tuple[GapType, ...] = (
    GapType("ROUNDING", "四舍五入", True),
    GapType("COMMISSION", "佣金差异", True),
    GapType("FREIGHT", "运费差异", True),
    GapType("PROMO", "优惠/补贴差异", True),
    GapType("PARTIAL_REFUND", "部分退款", False),
    GapType("CROSS_PERIOD", "跨期", True),
    GapType("SHIPPED_NOT_PAID", "已发货未收款", False),
    GapType("PAID_NO_ORDER", "到账无订单", False),
    GapType("DUPLICATE", "重复到账", False),
    GapType("OTHER", "其他", False),
)
GAP_TYPE_CODES = frozenset(g.code for g in GAP_TYPES)

#: The default rules, first that applies decides:
#: 1. a difference of at most ¥0.01 either way is rounding (ShopEx kept 2 or 3 places in
#:    floats), confirmed automatically;
#: 2. less money arrived than expected, by at most 5 % and at most ¥50: a commission the order
#:    export did not carry, confirmed automatically;
#: 3. everything else: exact matches are confirmed, any difference is a suggestion.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        id=1,
        priority=10,
        shop=None,
        platform=None,
        tol_abs=100,
        conditions=parse_conditions('[{"field": "abs_difference", "op": "le", "value": "0.01"}]'),
        on_within_tolerance="ROUNDING",
    ),
    Rule(
        id=2,
        priority=20,
        shop=None,
        platform=None,
        tol_abs=50 * 10_000,
        tol_bp=500,
        conditions=parse_conditions(
            '[{"field": "difference", "op": "lt", "value": "0"},'
            ' {"field": "direction", "op": "eq", "value": "in"}]'
        ),
        on_within_tolerance="COMMISSION",
    ),
    Rule(id=3, priority=1000, shop=None, platform=None),
)
