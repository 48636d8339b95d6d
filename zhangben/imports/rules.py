"""The category rules: platform + business type (+ direction) → category and subject.

A row takes the rule for its exact direction (income / expense) if there is one, else the
``any`` rule, else the fallback 19 平台账单 / 20 平台收入 or 21 平台支出.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core import chart as chart_ids
from zhangben.core.chart import check_classification
from zhangben.core.errors import ValidationError
from zhangben.imports.rows import PLATFORMS
from zhangben.store.bills_tables import category_rules

DIRECTIONS = ("income", "expense", "any")
FALLBACK = {
    "income": (chart_ids.PLATFORM, chart_ids.PLATFORM_INCOME),
    "expense": (chart_ids.PLATFORM, chart_ids.PLATFORM_EXPENSE),
}


@dataclass(frozen=True, slots=True)
class Rule:
    platform: str
    business_type: str
    direction: str
    category_id: int
    subject_id: int | None
    enabled: bool = True


class RuleBook:
    """The enabled rules of one platform, loaded once per import."""

    def __init__(self, rules: list[Rule]) -> None:
        self._map = {(r.business_type, r.direction): (r.category_id, r.subject_id) for r in rules}

    def classify(self, business_type: str | None, direction: str) -> tuple[int, int | None]:
        if business_type:
            for key in ((business_type, direction), (business_type, "any")):
                found = self._map.get(key)
                if found is not None:
                    return found
        return FALLBACK[direction]


def list_rules(conn: Connection, platform: str | None = None) -> list[Rule]:
    query = sa.select(
        category_rules.c.platform,
        category_rules.c.business_type,
        category_rules.c.direction,
        category_rules.c.category_id,
        category_rules.c.subject_id,
        category_rules.c.enabled,
    ).order_by(category_rules.c.platform, category_rules.c.business_type)
    if platform:
        query = query.where(category_rules.c.platform == platform)
    return [Rule(*row[:5], bool(row[5])) for row in conn.execute(query)]


def rule_book(conn: Connection, platform: str) -> RuleBook:
    return RuleBook([r for r in list_rules(conn, platform) if r.enabled])


def set_rule(
    conn: Connection,
    platform: str,
    business_type: str,
    *,
    category_id: int | None,
    subject_id: int | None,
    direction: str = "any",
    enabled: bool = True,
) -> Rule:
    """Add or replace a rule (the subject must belong to the category; unknown ids refused)."""
    if platform not in PLATFORMS:
        raise ValidationError("platform", f"must be one of {', '.join(PLATFORMS)}")
    business_type = (business_type or "").strip()
    if not business_type or len(business_type) > 64:
        raise ValidationError("business_type", "must be 1-64 characters")
    if direction not in DIRECTIONS:
        raise ValidationError("direction", f"must be one of {', '.join(DIRECTIONS)}")
    if category_id is None and subject_id is None:
        raise ValidationError("category_id", "give a category, a subject or both")
    category_id = check_classification(conn, category_id, subject_id, direction)
    key = dict(platform=platform, business_type=business_type, direction=direction)
    conn.execute(category_rules.delete().filter_by(**key))
    values = dict(
        key,
        category_id=category_id,
        subject_id=subject_id,
        enabled=enabled,
        updated_at=datetime.now(UTC),
    )
    conn.execute(category_rules.insert().values(**values))
    return Rule(platform, business_type, direction, category_id, subject_id, enabled)


def delete_rule(conn: Connection, platform: str, business_type: str, direction: str = "any"):
    """Remove a rule; True when there was one."""
    done = conn.execute(
        category_rules.delete().filter_by(
            platform=platform, business_type=business_type, direction=direction
        )
    )
    return done.rowcount > 0
