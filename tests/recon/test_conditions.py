"""The rule conditions interpreter: every operator, exact amounts, and the refusals."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhangben.core.errors import ValidationError
from zhangben.recon.conditions import (
    FIELDS,
    conditions_json,
    matches,
    parse_conditions,
)

FACTS = {
    "platform": "alipay",
    "shop": "S1",
    "kind": "sale",
    "business_type": "交易付款",
    "amount": -1_000_001,  # -100.0001 yuan
    "abs_amount": 1_000_001,
    "direction": "out",
    "remark": "淘宝客佣金代扣款[2841]",
    "counterparty": None,
    "key": "2841",
}


def cond(field, op, value):
    return parse_conditions([{"field": field, "op": op, "value": value}])


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("platform", "eq", "alipay", True),
        ("platform", "eq", "wechat", False),
        ("platform", "ne", "wechat", True),
        ("platform", "in", ["wechat", "alipay"], True),
        ("platform", "in", ["wechat"], False),
        ("remark", "contains", "淘宝客佣金", True),
        ("remark", "contains", "天猫", False),
        ("remark", "regex", r"\[(\d+)\]$", True),
        ("remark", "regex", r"^\d", False),
        ("direction", "eq", "out", True),
        ("amount", "eq", "-100.0001", True),
        ("amount", "eq", "-100", False),  # 0.0001 apart is not equal
        ("amount", "lt", "-100", True),
        ("amount", "le", "-100.0001", True),
        ("amount", "gt", "-100.0001", False),
        ("amount", "ge", "-100.0001", True),
        ("abs_amount", "between", ["100", "100.0001"], True),
        ("abs_amount", "between", ["100.0002", "200"], False),
        ("abs_amount", "in", ["100.0001", 5], True),
        ("abs_amount", "gt", 100, True),
        # a missing fact fails every operator but ne
        ("counterparty", "eq", "x", False),
        ("counterparty", "contains", "x", False),
        ("counterparty", "ne", "x", True),
        ("difference", "lt", "0", False),
    ],
)
def test_operators(field, op, value, expected):
    assert matches(cond(field, op, value), FACTS) is expected


def test_all_conditions_must_hold():
    both = parse_conditions(
        '[{"field": "platform", "op": "eq", "value": "alipay"},'
        ' {"field": "abs_amount", "op": "le", "value": 100.0001}]'
    )
    assert matches(both, FACTS)
    assert not matches(both, {**FACTS, "abs_amount": 1_000_002})
    assert matches((), FACTS) and parse_conditions(None) == () and parse_conditions("[]") == ()


def test_amounts_are_exact_minor_units():
    (c,) = cond("amount", "eq", "0.0001")
    assert c.value == 1
    (c,) = parse_conditions('[{"field": "amount", "op": "eq", "value": 0.1}]')
    assert c.value == 1000  # a JSON number is read as a decimal, never a float


def test_round_trip():
    conditions = parse_conditions(
        [
            {"field": "abs_amount", "op": "between", "value": ["1.5", "2"]},
            {"field": "remark", "op": "regex", "value": "佣金"},
            {"field": "amount", "op": "lt", "value": "-0.0001"},
        ]
    )
    text = conditions_json(conditions)
    assert parse_conditions(text) == conditions
    assert '"2"' in text and '"-0.0001"' in text


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ('[{"field": "colour", "op": "eq", "value": "x"}]', "conditions[0].field", "colour"),
        ('[{"field": "amount", "op": "like", "value": "1"}]', "conditions[0].op", "like"),
        ('[{"field": "remark", "op": "lt", "value": "a"}]', "conditions[0].op", "'lt'"),
        ('[{"field": "amount", "op": "contains", "value": "1"}]', "conditions[0].op", "amount"),
        ('[{"field": "amount", "op": "eq", "value": "1.00001"}]', "conditions[0].value", "4 dec"),
        ('[{"field": "amount", "op": "eq", "value": "abc"}]', "conditions[0].value", "abc"),
        ('[{"field": "amount", "op": "eq", "value": true}]', "conditions[0].value", "True"),
        ('[{"field": "amount", "op": "eq", "value": "NaN"}]', "conditions[0].value", "NaN"),
        ('[{"field": "amount", "op": "eq", "value": "1e300"}]', "conditions[0].value", "1e300"),
        ('[{"field": "amount", "op": "between", "value": ["2", "1"]}]', "conditions[0].value", "2"),
        ('[{"field": "amount", "op": "between", "value": ["1"]}]', "conditions[0].value", "two"),
        ('[{"field": "kind", "op": "in", "value": []}]', "conditions[0].value", "list"),
        ('[{"field": "kind", "op": "eq", "value": 3}]', "conditions[0].value", "not text"),
        ('[{"field": "remark", "op": "regex", "value": "("}]', "conditions[0].value", "regular"),
        ('[{"field": "direction", "op": "eq", "value": "up"}]', "conditions[0].value", "up"),
        ('[{"field": "kind", "op": "eq"}]', "conditions[0].value", "required"),
        ('[{"field": "kind", "op": "eq", "value": "a", "x": 1}]', "conditions[0]", "'x'"),
        ('["kind"]', "conditions[0]", "object"),
        ('{"field": "kind"}', "conditions", "list"),
        ("[{", "conditions", "JSON"),
    ],
)
def test_refusals_name_the_problem(data, field, words):
    with pytest.raises(ValidationError) as err:
        parse_conditions(data)
    assert err.value.field == field
    assert words in err.value.reason


def test_the_documented_fields():
    assert set(FIELDS) >= {
        "platform",
        "shop",
        "kind",
        "business_type",
        "amount",
        "abs_amount",
        "direction",
        "remark",
        "counterparty",
        "key",
    }


def test_a_regex_cannot_stall_a_run():
    """RE2 matches in linear time: the classic catastrophic pattern is instant."""
    (c,) = cond("remark", "regex", "(a+)+$")
    assert matches((c,), {"remark": "a" * 50})
    assert not matches((c,), {"remark": "a" * 100_000 + "!"})  # Python's re: never returns
    with pytest.raises(ValidationError) as err:
        cond("remark", "regex", r"(a)\1")  # a back-reference is not RE2
    assert "RE2" in err.value.reason


def test_no_code_runs():
    """A value is data: Python in it is compared as text, never run."""
    (c,) = cond("remark", "eq", "__import__('os').system('false')")
    assert not matches((c,), FACTS)
    assert matches((c,), {"remark": "__import__('os').system('false')"})


@settings(max_examples=300, deadline=None)
@given(
    st.decimals(min_value=-1000, max_value=1000, places=4),
    st.decimals(min_value=-1000, max_value=1000, places=4),
    st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]),
)
def test_amount_comparisons_are_exact(fact, value, op):
    expected = {
        "eq": fact == value,
        "ne": fact != value,
        "lt": fact < value,
        "le": fact <= value,
        "gt": fact > value,
        "ge": fact >= value,
    }[op]
    conditions = cond("amount", op, str(value))
    assert matches(conditions, {"amount": int(fact * 10_000)}) is expected
