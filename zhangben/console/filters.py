"""The flow filters of the console, read from the URL (so a filtered view is a bookmark) and
turned into the core's :class:`~zhangben.core.queries.EntryFilter`. A bad value is a Chinese
message for the page, never an exception: the page shows it and lists nothing."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from urllib.parse import urlencode

from zhangben.core.queries import ENTRY_TYPES, EntryFilter
from zhangben.core.texts import text_problem

#: the query parameters of a flow view, in the order of the form
FIELDS = ("start", "end", "type", "category", "source", "q", "trade_no", "order_no")
MAX_TEXT = 128


@dataclass
class FlowQuery:
    values: dict[str, str]
    filter: EntryFilter
    errors: list[str] = field(default_factory=list)
    before: int | None = None

    def query(self, **extra) -> str:
        """The filters as a query string (the export links, the next page)."""
        pairs = {k: v for k, v in self.values.items() if v}
        pairs.update({k: v for k, v in extra.items() if v is not None})
        return urlencode(pairs)


def _day(text: str, name: str, errors: list[str]) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"{name}「{text}」不是有效日期，请按 年-月-日 填写，例如 2026-02-28。")
        return None


def day_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tz)


def parse(params, tz: tzinfo, account_id: int) -> FlowQuery:
    values = {name: (params.get(name) or "").strip() for name in FIELDS}
    errors: list[str] = []
    for name, value in values.items():
        problem = text_problem(value, MAX_TEXT) if value else None
        if problem:
            errors.append(f"筛选条件「{name}」无效：{problem}")
            values[name] = ""
    f = EntryFilter(account_ids=[account_id])
    start = _day(values["start"], "开始日期", errors) if values["start"] else None
    end = _day(values["end"], "结束日期", errors) if values["end"] else None
    if start and end and end < start:
        errors.append("结束日期早于开始日期。")
    if start:
        f = replace(f, start=day_start(start, tz))
    if end:  # the end day is included
        f = replace(f, end=day_start(end + timedelta(days=1), tz))
    if values["type"]:
        if values["type"] not in ENTRY_TYPES:
            errors.append(f"未知的类型「{values['type']}」。")
        else:
            f = replace(f, types=[values["type"]])
    if values["category"]:
        if not values["category"].isdigit() or len(values["category"]) > 9:
            errors.append(f"未知的分类「{values['category']}」。")
        else:
            f = replace(f, category_ids=[int(values["category"])])
    if values["source"]:
        f = replace(f, sources=[values["source"]])
    for name, attr in (("q", "find"), ("trade_no", "trade_no"), ("order_no", "order_no")):
        if values[name]:
            f = replace(f, **{attr: values[name]})
    before = None
    cursor = params.get("before") or ""
    if cursor:
        if cursor.isdigit() and len(cursor) < 19:
            before = int(cursor)
        else:
            errors.append("翻页参数无效，已回到第一页。")
    return FlowQuery(values, f, errors, before)


#: the accounts list's query parameters, in the order of its form
ACCOUNT_FIELDS = ("q", "shop", "type", "status")
ACCOUNT_STATUSES = {"open": "正常", "closed": "已关闭"}


@dataclass
class AccountQuery:
    """The accounts list's URL: ``q`` (in the number or name), ``shop``, ``type`` (the
    channel), ``status`` and the keyset cursor ``after`` (an account id); ``filters`` are
    those of ``Ledger.account_page``; ``errors`` in Chinese."""

    values: dict[str, str]
    filters: dict
    errors: list[str] = field(default_factory=list)
    after: int | None = None

    def query(self, **extra) -> str:
        pairs = {k: v for k, v in self.values.items() if v}
        pairs.update({k: v for k, v in extra.items() if v is not None})
        return urlencode(pairs)


def parse_accounts(params) -> AccountQuery:
    values = {name: (params.get(name) or "").strip() for name in ACCOUNT_FIELDS}
    errors: list[str] = []
    for name, value in values.items():
        problem = text_problem(value, 64) if value else None
        if problem:
            errors.append(f"筛选条件「{name}」无效：{problem}")
            values[name] = ""
    filters: dict = {}
    if values["q"]:
        filters["find"] = values["q"]
    if values["shop"]:
        filters["shop_codes"] = [values["shop"]]
    if values["type"]:
        filters["type"] = values["type"]
    if values["status"]:
        if values["status"] in ACCOUNT_STATUSES:
            filters["status"] = values["status"]
        else:
            errors.append(f"未知的状态「{values['status']}」。")
    after = None
    cursor = params.get("after") or ""
    if cursor:
        if cursor.isdigit() and len(cursor) < 19:
            after = int(cursor)
        else:
            errors.append("翻页参数无效，已回到第一页。")
    return AccountQuery(values, filters, errors, after)
