"""Categories and subjects (类目/科目). The default chart is seeded by the first migration."""

from __future__ import annotations

import weakref
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zhangben.core.errors import Conflict, NotFound, ValidationError
from zhangben.core.postings import rules
from zhangben.core.records import ChartItem
from zhangben.store.tables import chart

# Well-known ids of the default chart.
INCOME, INCOME_SALES = 1, 2
EXPENSE, EXPENSE_OTHER = 4, 6
REVERSAL, REVERSAL_SUBJECT = 17, 18
PLATFORM, PLATFORM_INCOME, PLATFORM_EXPENSE = 19, 20, 21
OPENING, OPENING_SUBJECT = 22, 23  # 期初余额 / 平台期初余额: a bill account's opening balance
TRANSFER, TRANSFER_OUT, TRANSFER_IN = 24, 25, 26
FIRST_CUSTOM_ID = 100
KINDS = ("income", "expense", "transfer", "reversal", "any")


def list_chart(conn: Connection) -> list[ChartItem]:
    """Categories, each with its subjects, in id order."""
    rows = conn.execute(sa.select(chart).order_by(chart.c.id)).all()
    subjects: dict[int, list[ChartItem]] = {}
    for r in rows:
        if r.parent_id is not None:
            subjects.setdefault(r.parent_id, []).append(
                ChartItem(r.id, r.parent_id, r.name, r.kind)
            )
    return [
        ChartItem(r.id, None, r.name, r.kind, tuple(subjects.get(r.id, ())))
        for r in rows
        if r.parent_id is None
    ]


def get_item(conn: Connection, item_id: int) -> ChartItem:
    row = conn.execute(sa.select(chart).where(chart.c.id == item_id)).first()
    if row is None:
        raise NotFound(f"category or subject {item_id} does not exist")
    return ChartItem(row.id, row.parent_id, row.name, row.kind)


def add_item(
    conn: Connection, *, name: str, kind: str = "any", parent_id: int | None = None
) -> ChartItem:
    """Add a category (no parent) or a subject under a category."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationError("name", "must be 1-64 characters")
    if kind not in KINDS:
        raise ValidationError("kind", f"must be one of {', '.join(KINDS)}")
    if parent_id is not None:
        parent = get_item(conn, parent_id)
        if parent.parent_id is not None:
            raise ValidationError("parent_id", "a subject's parent must be a category")
    same = sa.select(chart.c.id).where(chart.c.name == name)
    same = same.where(
        chart.c.parent_id.is_(None) if parent_id is None else chart.c.parent_id == parent_id
    )
    if conn.execute(same).first():
        raise Conflict(f"{name!r} already exists there")
    top = conn.execute(sa.select(sa.func.max(chart.c.id))).scalar() or 0
    new_id = max(top + 1, FIRST_CUSTOM_ID)
    conn.execute(chart.insert().values(id=new_id, parent_id=parent_id, name=name, kind=kind))
    return get_item(conn, new_id)


def check_classification(
    conn: Connection, category_id: int | None, subject_id: int | None, kind: str = "any"
) -> int | None:
    """Rule R3 (:func:`zhangben.core.postings.rules.check_chart`) against the chart as this
    transaction sees it: for ``kind`` ``any``, only items of kind ``any`` fit. Returns the
    category id, taken from the subject when only the subject is given."""
    rows = conn.execute(sa.select(chart.c.id, chart.c.parent_id, chart.c.kind)).all()
    return rules.check_chart(
        {r.id: (r.parent_id, r.kind) for r in rows}, kind, category_id, subject_id
    )


_index_cache: weakref.WeakKeyDictionary[Engine, dict] = weakref.WeakKeyDictionary()


def index(engine: Engine, wanted: Iterable[int] = ()) -> dict[int, tuple[int | None, str]]:
    """id → (parent id, kind) of every category and subject, for rule R3; cached per engine
    and reloaded when it lacks an id in ``wanted`` (the chart only grows)."""
    found = _index_cache.get(engine)
    if found is None or any(i not in found for i in wanted):
        with engine.connect() as conn:
            rows = conn.execute(sa.select(chart.c.id, chart.c.parent_id, chart.c.kind)).all()
        found = _index_cache[engine] = {r.id: (r.parent_id, r.kind) for r in rows}
    return found
