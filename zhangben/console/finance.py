"""The console's 报表 and 账期 screens: a month's figures of a shop by day, month, category or
account with a chart and the 月结 workbook; the periods with their close checklist, closing and
reopening (supervisors only).

A bad month, grouping or shop is a Chinese message on the page, which stays whole; a refused
close or reopen writes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from zhangben.console.pages import (
    Console,
    ConsoleRoute,
    Refused,
    _console,
    chart_currency,
    render,
    viewer_of,
)
from zhangben.console.session import PATH, STALE_FORM, Viewer, same
from zhangben.core import reports
from zhangben.core.errors import LedgerError, PeriodNotReady, PeriodState, ValidationError
from zhangben.core.periods import Month
from zhangben.periods import Periods, workbook

router = APIRouter(prefix=PATH, include_in_schema=False, route_class=ConsoleRoute)

#: the groupings the reports screen offers (URL value → label)
GROUPINGS = {
    "day": "按日",
    "month": "按月（近 12 个月）",
    "category": "按类目",
    "account": "按账户",
}
MONTHS_BACK = 12
STATUS_LABELS = {"open": "未结账", "closed": "已结账", "reopened": "已反结账"}
CHECK_LABELS = {
    "missing_import_days": "账单缺失的日期",
    "continuity": "余额连续性",
    "verify": "账本校验",
}


def bad_month(text: str) -> str:
    return f"月份「{text}」无效，请按 年-月 填写，例如 2026-10。"


def latest_month(console: Console, viewer: Viewer) -> str:
    """The business month of the viewer's newest entry (this month when they have none)."""
    newest = console.ledger.entries(viewer.scope.entries(), limit=1, with_total=False).items
    when = newest[0].trade_time if newest else datetime.now(UTC)
    return when.astimezone(console.ledger.tz).strftime("%Y-%m")


def _months_before(first: date, count: int) -> date:
    index = first.year * 12 + first.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def _shop_visible(console: Console, viewer: Viewer, shop: str) -> bool:
    """Whether the viewer may see an account of ``shop`` (one query of that shop's accounts)."""
    return any(viewer.scope.may_see(a) for a in console.ledger.accounts(shop_codes=[shop]))


class ReportQuery:
    """The reports screen's URL: ``month``, ``shop`` and ``by``; ``errors`` in Chinese."""

    def __init__(self, console: Console, viewer: Viewer, params) -> None:
        self.month = (params.get("month") or "").strip()[:20] or latest_month(console, viewer)
        self.shop = (params.get("shop") or "").strip()[:32]
        self.by = (params.get("by") or "day").strip()[:16]
        self.errors: list[str] = []
        self.first: date | None = None
        try:
            self.first = reports.parse_month(self.month)
        except ValidationError:
            self.errors.append(bad_month(self.month))
        if self.by not in GROUPINGS:
            self.errors.append(f"未知的分组「{self.by}」。")
        if self.shop and not _shop_visible(console, viewer, self.shop):
            self.errors.append(f"店铺「{self.shop}」不存在，或您无权查看。")

    def query(self, **changes) -> str:
        values = {"month": self.month, "shop": self.shop, "by": self.by, **changes}
        return urlencode({k: v for k, v in values.items() if v})

    def span(self, by: str) -> tuple[date, date]:
        assert self.first is not None
        start = _months_before(self.first, MONTHS_BACK - 1) if by == "month" else self.first
        return start, reports.month_end(self.first)

    def report(self, console: Console, viewer: Viewer, by: str) -> reports.Report:
        start, end = self.span(by)
        return console.ledger.report(
            start,
            end,
            (by,),
            shop_codes=[self.shop] if self.shop else None,
            owner_user_id=viewer.scope.owner_id,
        )


@router.get("/reports")
def reports_page(request: Request) -> HTMLResponse:
    console = _console(request)
    viewer = viewer_of(request)
    query = ReportQuery(console, viewer, request.query_params)
    report = None if query.errors else query.report(console, viewer, query.by)
    return render(
        request,
        "reports.html",
        400 if query.errors else 200,
        viewer=viewer,
        nav="reports",
        query=query,
        report=report,
        groupings=GROUPINGS,
    )


@router.get("/reports/chart.json")
def report_chart(request: Request) -> JSONResponse:
    """The figures of the reports screen over time (by month for ``by=month``, else by day) in
    the shape of the overview's chart: income, expense and closing balance."""
    console = _console(request)
    viewer = viewer_of(request)
    query = ReportQuery(console, viewer, request.query_params)
    if query.errors:
        return JSONResponse({"errors": query.errors}, status_code=400)
    by = "month" if query.by == "month" else "day"
    report = query.report(console, viewer, by)
    currency = chart_currency(report.totals)
    rows = [r for r in report.rows if r.currency == currency]
    starts = [
        datetime.combine(
            r.day or reports.parse_month(r.month), datetime.min.time(), console.ledger.tz
        )
        for r in rows
    ]
    return JSONResponse(
        {
            "tz": str(console.ledger.tz),
            "days": [r.day.isoformat() if r.day else r.month for r in rows],
            "timestamps": [int(s.timestamp()) for s in starts],
            "income": [float(r.income) for r in rows],
            "expense": [float(r.expense) for r in rows],
            "balance": [float(r.closing or 0) for r in rows],
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/reports/month/{month}.xlsx")
def month_workbook(request: Request, month: str) -> Response:
    """The 月结 workbook of the month, of the accounts the viewer may see (as the REST route)."""
    console = _console(request)
    viewer = viewer_of(request)
    query = ReportQuery(console, viewer, {**request.query_params, "month": month})
    if query.errors:
        raise Refused(viewer, "；".join(query.errors), 400)
    staff = viewer.user.is_staff
    book = Periods(console.ledger).month_book(
        month,
        shop=query.shop or None,
        owner_user_id=viewer.scope.owner_id,
        with_period=staff,
        with_checks=staff,
    )
    fallback = book.filename.replace("月结", "month")
    return Response(
        workbook.workbook_bytes(book),
        media_type=workbook.MEDIA_TYPE,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(book.filename)}"
            ),
            "Cache-Control": "no-store",
        },
    )


# -- 账期 ---------------------------------------------------------------------------------------


def _suggested_month(periods: Periods, console: Console, shop: str | None) -> str:
    """The month after the scope's latest closed one, else last month."""
    through = periods.closed_through().get(shop)
    if through:
        return str(Month.parse(through).next)
    today = datetime.now(UTC).astimezone(console.ledger.tz).date().replace(day=1)
    return _months_before(today, 1).strftime("%Y-%m")


def render_periods(
    request: Request,
    viewer: Viewer,
    params,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    console = _console(request)
    if not viewer.user.is_staff:
        raise Refused(viewer, "账期页面仅供财务人员查看。")
    periods = Periods(console.ledger)
    shop = (params.get("shop") or "").strip()[:32]
    errors: list[str] = []
    if shop and not console.ledger.accounts(shop_codes=[shop]):
        errors.append(f"店铺「{shop}」不存在。")
        shop = ""
    month = (params.get("month") or "").strip()[:20] or _suggested_month(
        periods, console, shop or None
    )
    findings = period = None
    try:
        Month.parse(month)
        reports.parse_month(month)
    except ValidationError:
        errors.append(bad_month(month))
    else:
        period = periods.get(month, shop=shop or None)
        if params.get("check") == "1":  # the checks read the month's entries: on demand
            findings = periods.checks(month, shop=shop or None)
    if errors and status == 200:
        status = 400
    if notice is None:
        notice = {"closed": f"{month} 已结账。", "reopened": f"{month} 已反结账。"}.get(
            params.get("done") or ""
        )
    return render(
        request,
        "periods.html",
        status,
        viewer=viewer,
        nav="periods",
        periods=periods.list_periods(shop=shop or None),
        closed_through=periods.closed_through(),
        shop=shop,
        month=month,
        period=period,
        findings=findings,
        check_query=urlencode({k: v for k, v in (("month", month), ("shop", shop)) if v}),
        errors=errors,
        error=error,
        notice=notice,
        status_labels=STATUS_LABELS,
        check_labels=CHECK_LABELS,
    )


@router.get("/periods")
def periods_page(request: Request) -> HTMLResponse:
    return render_periods(request, viewer_of(request), request.query_params)


@router.post("/periods/{action}")
async def period_action(request: Request, action: str):
    form = await request.form()
    return await run_in_threadpool(_period_action, request, action, dict(form))


def _period_action(request: Request, action: str, form: dict):
    console = _console(request)
    viewer = viewer_of(request)
    params = {k: str(form.get(k) or "") for k in ("month", "shop")}
    verb = {"close": "结账", "reopen": "反结账"}.get(action)
    if verb is None:
        raise Refused(viewer, "页面不存在。", 404)
    if not same(form.get("csrf"), viewer.csrf):
        return render_periods(request, viewer, params, 403, error=STALE_FORM)
    if not viewer.can("supervisor"):
        return render_periods(
            request, viewer, params, 403, error=f"{verb}需要主管权限，未作任何修改。"
        )
    month, shop = params["month"].strip(), params["shop"].strip() or None
    reason = str(form.get("reason") or "").strip()[:500]
    if action == "reopen" and not reason:
        return render_periods(
            request, viewer, params, 400, error="反结账必须填写原因；未作任何修改。"
        )
    periods, actor = Periods(console.ledger), f"user:{viewer.user.username}"
    try:
        if action == "close":
            periods.close(month, shop=shop, actor=actor, force=form.get("force") == "1")
        else:
            periods.reopen(month, shop=shop, actor=actor, reason=reason)
    except ValidationError:
        return render_periods(request, viewer, params, 400, error=bad_month(month))
    except PeriodNotReady as exc:
        message = f"检查发现 {len(exc.findings)} 项问题，未结账；确认无误后可勾选“强制结账”。"
        return render_periods(request, viewer, {**params, "check": "1"}, 409, error=message)
    except PeriodState as exc:
        return render_periods(request, viewer, params, 409, error=f"账期状态不允许{verb}：{exc}")
    except LedgerError as exc:
        return render_periods(request, viewer, params, 409, error=f"未能{verb}：{exc}")
    done = "closed" if action == "close" else "reopened"
    target = urlencode({k: v for k, v in {"month": month, "shop": shop, "done": done}.items() if v})
    return RedirectResponse(f"{PATH}/periods?{target}", status_code=303)
