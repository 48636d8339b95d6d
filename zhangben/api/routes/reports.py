"""Reports (日报/月结 figures): opening, income, expense, closing and counts of a range of
business days, by day, by month, or over the whole range; grouped as asked
(:mod:`zhangben.core.reports`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import Response
from pydantic import StringConstraints

from zhangben.api.auth import Principal, principal
from zhangben.api.routes.common import Number, ShopFilter, Text
from zhangben.api.routing import errors
from zhangben.api.routing import router as make_router
from zhangben.api.schemas import ReportOut, ReportRowOut
from zhangben.api.writes import ApiContext, context
from zhangben.core import reports
from zhangben.core.errors import ValidationError

router = make_router()
TAG = ["reports"]

Month = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{4}-[0-9]{2}$",
        description="a whole month (YYYY-MM); or give from and to",
        examples=["2026-10"],
    ),
]
_DAY_OR_MONTH = r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$"
From = Annotated[
    str | None,
    Query(
        alias="from",
        pattern=_DAY_OR_MONTH,
        description="the first business day (YYYY-MM-DD), or a month (YYYY-MM: its first day)",
    ),
]
To = Annotated[
    str | None,
    Query(
        pattern=_DAY_OR_MONTH,
        description="the last business day, included (YYYY-MM-DD), or a month (its last day)",
    ),
]
GroupBy = Annotated[
    list[Annotated[str, StringConstraints(pattern=r"^[a-z, ]{1,80}$")]] | None,
    Query(
        description="groupings, repeatable or comma-separated: "
        + ", ".join(g for g in reports.GROUPINGS if g not in reports.TIME),
    ),
]
Accounts = Annotated[list[Number] | None, Query(description="account number (repeatable)")]
Types = Annotated[list[Text] | None, Query(description="account type (repeatable)")]


def _range(month: str | None, start: str | None, end: str | None) -> tuple[date, date]:
    if month is not None:
        if start is not None or end is not None:
            raise ValidationError("month", "give a month, or from and to, not both")
        first = reports.parse_month(month)
        return first, reports.month_end(first)
    if start is None or end is None:
        raise ValidationError("from", "give a month (month=2026-10), or both from and to")
    first = _day(start, "from", last=False)
    last = _day(end, "to", last=True)
    reports.check_range(first, last)
    return first, last


def _day(text: str, field: str, *, last: bool) -> date:
    if len(text) == 7:
        month = reports.parse_month(text, field)
        return reports.month_end(month) if last else month
    return reports.parse_day(text, field)


def _report(
    ctx: ApiContext,
    who: Principal,
    time: str | None,
    group_by: list[str] | None,
    default: tuple[str, ...],
    span: tuple[str | None, str | None, str | None],
    shop: list[str] | None,
    account: list[str] | None,
    type: list[str] | None,
) -> Response:
    who.require("read")
    first, last = _range(*span)
    extra = reports.parse_group_by(group_by) or default
    if any(g in reports.TIME for g in extra):
        raise ValidationError(
            "group_by", "day and month are the report's own (use /reports/daily or /monthly)"
        )
    dims = ((time,) if time else ()) + extra
    found = ctx.ledger.report(
        first,
        last,
        dims,
        shop_codes=who.narrow(shop, who.shops),
        numbers=who.narrow(account, who.accounts),
        types=type,
        owner_user_id=who.owner_id,
    )
    body = ReportOut(
        from_=found.start,
        to=found.end,
        time_zone=found.time_zone,
        group_by=list(found.group_by),
        balances=found.balances,
        rows=[ReportRowOut.of(r, found.group_by) for r in found.rows],
        totals=[ReportRowOut.of(t, ()) for t in found.totals],
    )
    return Response(
        body.model_dump_json(by_alias=True, exclude_unset=True), media_type="application/json"
    )


@router.get(
    "/reports/daily",
    response_model=ReportOut,
    response_model_exclude_unset=True,
    tags=TAG,
    summary="Daily report (日报): every business day of the range, or per day and group",
    responses=errors("forbidden"),
)
def daily(
    month: Month = None,
    start: From = None,
    to: To = None,
    group_by: GroupBy = None,
    shop: ShopFilter = None,
    account: Accounts = None,
    type: Types = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    """By day alone, every day of the range has a row (with its opening and closing, per
    currency); with more groupings, only the days a group has entries on."""
    return _report(ctx, who, "day", group_by, (), (month, start, to), shop, account, type)


@router.get(
    "/reports/monthly",
    response_model=ReportOut,
    response_model_exclude_unset=True,
    tags=TAG,
    summary="Monthly report: every month of the range, or per month and group",
    responses=errors("forbidden"),
)
def monthly(
    month: Month = None,
    start: From = None,
    to: To = None,
    group_by: GroupBy = None,
    shop: ShopFilter = None,
    account: Accounts = None,
    type: Types = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    """Months are business months; a range that starts or ends inside a month counts only its
    days of that month."""
    return _report(ctx, who, "month", group_by, (), (month, start, to), shop, account, type)


@router.get(
    "/reports/summary",
    response_model=ReportOut,
    response_model_exclude_unset=True,
    tags=TAG,
    summary="The range as one period (e.g. a month's 月结 figures), by account or as asked",
    responses=errors("forbidden"),
)
def summary(
    month: Month = None,
    start: From = None,
    to: To = None,
    group_by: GroupBy = None,
    shop: ShopFilter = None,
    account: Accounts = None,
    type: Types = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    """Grouped by account unless ``group_by`` says otherwise; a group is listed when it has
    entries in the range or (for groupings of accounts) a balance at its start."""
    span = (month, start, to)
    return _report(ctx, who, None, group_by, ("account",), span, shop, account, type)
