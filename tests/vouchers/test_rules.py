"""The default rules (rules.py) against what the ledger really posts, on both databases: every
flow of the demo ledger (``zhangben demo``, ``make run``), read from the database after
``load_demo`` rather than listed here, is taken by a default rule in both standards, so a
newcomer's preview of any demo month has no unmapped flow."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from zhangben.demo.ledger import load_demo
from zhangben.store.tables import entries
from zhangben.vouchers.chart import STANDARDS
from zhangben.vouchers.rules import default_rules, parse_rule
from zhangben.vouchers.service import Vouchers


def _months(ledger) -> dict[str, int]:
    """Every month the ledger has entries in (the ledger's time zone), with their count."""
    with ledger.engine.connect() as conn:
        times = conn.execute(sa.select(entries.c.trade_time)).scalars().all()
    months: dict[str, int] = {}
    for t in times:
        month = f"{t.astimezone(ledger.tz):%Y-%m}"
        months[month] = months.get(month, 0) + 1
    return months


@pytest.mark.parametrize("standard", STANDARDS)
def test_the_defaults_take_every_flow_of_the_demo_ledger(ledger, standard):
    assert load_demo(ledger)
    vouchers = Vouchers(ledger)
    vouchers.add_book("演示", product="u8_xml", standard=standard)
    months = _months(ledger)
    assert len(months) >= 2 and sum(months.values()) >= 10
    kinds = set()
    for month, count in months.items():
        preview = vouchers.preview("演示", month)
        assert preview.unmapped == {} and preview.problems == [], (month, preview.problems)
        assert preview.flows == count
        assert all(v.debit_total == v.credit_total > 0 for v in preview.vouchers)
        kinds |= {line.subject_code for v in preview.vouchers for line in v.lines}
    # the hand-posted types the demo posts got their own 科目, not a 待查 catch-all
    purchase, opening = ("2202", "2241.98")
    assert {purchase, opening} <= kinds
    # and a month of it generates: every flow in exactly one voucher
    made = vouchers.generate("演示", "2024-01")
    assert made.batch is not None and made.batch.flows == months["2024-01"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_the_default_rules_parse_and_name_leaf_subjects_of_the_default_chart(standard):
    from zhangben.vouchers.chart import default_chart

    chart = {s.code: s for s in default_chart(standard)}
    for i, data in enumerate(default_rules(standard), 1):
        rule = parse_rule(data, f"rule {i}")
        for line in rule.lines:
            if not line.subject.startswith("@"):
                assert chart[line.subject].leaf, (rule.name, line.subject)
