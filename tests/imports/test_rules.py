"""Category rules are held to rule R3 when they are set, as postings are when written."""

import pytest

from zhangben.core import errors
from zhangben.imports.service import Imports


@pytest.mark.parametrize(
    "direction,category,subject,message",
    [
        ("income", 4, None, "category 4 is for expense, not income"),  # 支出
        ("expense", None, 20, "subject 20 is for income, not expense"),  # 平台收入
        ("any", 19, 21, "subject 21 is for expense, not any"),  # both ways: only 'any' items fit
        ("income", None, 9999, "category or subject 9999 does not exist"),
    ],
)
def test_a_rule_of_the_wrong_kind_is_refused(ledger, direction, category, subject, message):
    imports = Imports(ledger)
    before = imports.rules("alipay")[0]
    with pytest.raises(errors.LedgerError, match=message):
        imports.set_rule(
            "alipay", "在线支付", direction=direction, category_id=category, subject_id=subject
        )
    assert imports.rules("alipay")[0] == before


def test_a_rule_of_the_right_kind_is_kept(ledger):
    imports = Imports(ledger)
    rule = imports.set_rule("alipay", "在线支付", direction="income", category_id=1, subject_id=2)
    assert (rule.category_id, rule.subject_id) == (1, 2)
