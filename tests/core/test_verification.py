"""The verifier finds what was changed behind the triggers' back: a tampered amount, a category
outside the chart."""

from zhangben.store.migrations.ledger_edits import ledger_rows_editable
from zhangben.store.tables import entries


def test_entries_are_append_only(two):
    """No API edits or deletes an entry (the database refuses it:
    tests/store/migrations/test_append_only.py); the verifier catches a row tampered with
    behind the triggers' back."""
    assert two.verify().ok
    with two.engine.begin() as c, ledger_rows_editable(c):
        c.execute(entries.update().where(entries.c.id == 1).values(amount=999))
    report = two.verify()
    assert not report.ok
    assert any("ACC001" in p for p in report.problems)


def test_verifier_reports_a_category_outside_the_chart(two):
    assert two.verify().ok
    with two.engine.begin() as c, ledger_rows_editable(c):
        c.execute(entries.update().where(entries.c.id == 1).values(subject_id=9999))
    report = two.verify()
    assert any("subject_id 9999 is not in the chart" in p for p in report.problems)
