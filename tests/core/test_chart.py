"""The chart of categories and subjects: the seeded defaults, and items added by admins."""

import pytest

from zhangben.core import errors


def test_chart_has_defaults_and_admins_add(ledger):
    chart = {c.id: c for c in ledger.chart()}
    assert chart[24].name == "内部转账"
    assert {s.id: s.name for s in chart[24].subjects} == {25: "转账转出", 26: "转账转入"}
    new = ledger.add_chart_item(name="广告费", kind="expense")
    sub = ledger.add_chart_item(name="精准通", kind="expense", parent_id=new.id)
    assert new.id >= 100 and sub.parent_id == new.id
    ledger.open_account(number="A", name="a", allow_overdraft=True)
    entry = ledger.expense("A", "1", category_id=new.id, subject_id=sub.id).entries[0]
    assert (entry.category_name, entry.subject_name) == ("广告费", "精准通")
    with pytest.raises(errors.Conflict):
        ledger.add_chart_item(name="广告费")
