"""The rule catalogue (I5): one list, and every rendering of it names the same rules."""

import re
from pathlib import Path

from zhangben.core.postings import rules
from zhangben.store.writers import period_guard, zb_post

PACKAGE = Path(__file__).resolve().parents[3] / "zhangben"


def test_the_catalogue_is_numbered_in_order_once():
    codes = [r.code for r in rules.RULES]
    assert codes == [f"R{i}" for i in range(1, len(codes) + 1)]


def test_each_state_rule_is_checked_at_one_marked_place_in_the_reference():
    """R6–R11 each mark exactly one check in ``check_states``, in catalogue order."""
    source = (PACKAGE / "core" / "postings" / "rules.py").read_text(encoding="utf-8")
    body = source[source.index("def check_states") :]
    marks = re.findall(r"# (R\d+)\b", body)
    assert marks == ["R6", "R7", "R8", "R9", "R10", "R11"]


def test_zb_post_renders_the_state_rules_and_nothing_else():
    """zb_post reports R5–R11 by SQLSTATE; its SQL file names the same codes."""
    assert sorted(zb_post._RULES.values(), key=lambda c: int(c[1:])) == [
        "R5", "R6", "R7", "R8", "R9", "R10", "R11",
    ]  # fmt: skip
    sql = (PACKAGE / "store" / "writers" / "sql" / "zb_post_v3.sql").read_text(encoding="utf-8")
    for state, code in zb_post._RULES.items():
        assert re.search(rf"{state} {code}\b", sql), (state, code)
        assert f"ERRCODE = '{state}'" in sql


def test_the_staged_writer_reports_only_catalogued_rules():
    source = (PACKAGE / "store" / "writers" / "staged.py").read_text(encoding="utf-8")
    reported = set(re.findall(r'RuleBroken\("(R\d+)"', source))
    assert reported == {"R5", "R10", "R11"}
    assert reported <= {r.code for r in rules.RULES}
    assert "RuleBroken(period_guard.RULE" in source  # R13: what the period guard refused


def test_the_period_guard_renders_r13_in_both_databases():
    """R13 is the last rule, rendered by a trigger on entries: PostgreSQL's SQL file and the
    SQLite trigger of the migration report the same SQLSTATE, which the writers map to R13."""
    assert rules.RULES[-1].code == period_guard.RULE == "R13"
    sql = (PACKAGE / "store" / "writers" / "sql" / "period_guard_v1.sql").read_text("utf-8")
    assert f"{period_guard.SQLSTATE} R13" in sql and f"ERRCODE = '{period_guard.SQLSTATE}'" in sql
    migration = next((PACKAGE / "store" / "migrations" / "versions").glob("*_periods.py"))
    assert f"RAISE(ABORT, '{period_guard.SQLSTATE} period closed')" in migration.read_text("utf-8")
