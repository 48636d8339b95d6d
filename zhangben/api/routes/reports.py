"""Reports (日报/月结 figures): opening, income, expense, closing and counts of a range of
business days, by day, by month, or over the whole range; grouped as asked
(:mod:`zhangben.core.reports`); and the 月结 workbook of a month
(:mod:`zhangben.periods.workbook`)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Path, Query
from fastapi.responses import Response
from pydantic import StringConstraints

from zhangben.api.auth import Principal, principal
from zhangben.api.problems import ApiProblem
from zhangben.api.routes.common import Number, ShopFilter, Text
from zhangben.api.routes.periods import MONTH_PATTERN, SHOP_PATTERN, may_read_period
from zhangben.api.routing import errors
from zhangben.api.routing import router as make_router
from zhangben.api.schemas import ReportOut, ReportRowOut
from zhangben.api.writes import ApiContext, context
from zhangben.core import reports
from zhangben.core.errors import ValidationError
from zhangben.periods import Periods, workbook

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


@router.get(
    "/reports/month/{month}.xlsx",
    response_class=Response,
    tags=TAG,
    summary="The 月结 workbook of a month (XLSX): sheets 账户, 日报, 类目, 账期",
    responses={
        **errors("forbidden"),
        200: {
            "description": "the workbook, as an attachment named `月结-{month}[-{shop}].xlsx`",
            "content": {workbook.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
def month_workbook(
    month: Annotated[str, Path(pattern=MONTH_PATTERN, examples=["2026-10"], description="yyyy-mm")],
    shop: Annotated[
        str | None,
        Query(pattern=SHOP_PATTERN, description="one shop's month (default: the whole ledger)"),
    ] = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    """The figures cover the accounts the caller may see, as the other reports do (a caller
    limited to some shops, accounts or, a user, their own accounts sees only those). The 账期
    sheet shows the period when the caller may read it (as `GET /periods/{month}`) and the
    close checks' findings for staff (as `GET /periods/{month}/checks`)."""
    who.require("read")
    if shop is not None and who.shops is not None and shop not in who.shops:
        raise ApiProblem("forbidden", f"these credentials may not read shop {shop}")
    book = Periods(ctx.ledger).month_book(
        month,
        shop=shop,
        shop_codes=who.narrow([shop] if shop is not None else None, who.shops),
        numbers=who.narrow(None, who.accounts),
        owner_user_id=who.owner_id,
        with_period=may_read_period(who, shop),
        with_checks=who.is_staff,
    )
    name = book.filename
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", name.replace("月结", "month"))
    return Response(
        workbook.workbook_bytes(book),
        media_type=workbook.MEDIA_TYPE,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
            ),
            "Cache-Control": "no-store",
        },
    )
