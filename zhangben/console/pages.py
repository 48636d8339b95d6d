"""The console's pages: 总览, 账户 and an account's flow, 导入, 设置, and logging in and out.

Each route translates: the URL's filters or the form into calls on the facades, the results
into a template. The routes are plain ``def``: FastAPI runs them in its thread pool, where the
facades' blocking calls belong.
"""

from __future__ import annotations

import itertools
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.routing import APIRoute
from jinja2 import Environment
from starlette.concurrency import run_in_threadpool

from zhangben.access import sessions
from zhangben.access.service import Access
from zhangben.console import filters
from zhangben.console.format import CHANNEL_LABELS
from zhangben.console.session import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    PATH,
    ROLE_LABELS,
    STALE_FORM,
    Viewer,
    new_login_csrf,
    same,
)
from zhangben.core import reports
from zhangben.core.errors import LedgerError, NotFound
from zhangben.core.ledger import Ledger
from zhangben.core.queries import ENTRY_TYPES, Totals
from zhangben.core.records import Account
from zhangben.exports.flows import Format, export_flows, filename
from zhangben.imports.rows import PLATFORMS, BillFormatError
from zhangben.imports.runner import ImportRefused
from zhangben.imports.service import Imports
from zhangben.settings import Settings
from zhangben.web import outage

log = logging.getLogger("zhangben.console")
UNAVAILABLE = "数据库暂时不可用，请稍后刷新页面重试；本次未作任何修改。"
FAULT = "服务器内部错误，请稍后重试；本次未作任何修改。"


class ConsoleRoute(APIRoute):
    """A database that cannot serve is a Chinese page with 503 and ``Retry-After`` (one log
    line per failure class: :mod:`zhangben.web.outage`); any other fault a Chinese page with
    500, logged under ``zhangben.console``. The console's own refusals pass through."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def console_handler(request: Request):
            try:
                return await handler(request)
            except (LoginNeeded, Refused, HTTPException):
                raise
            except Exception as exc:
                wait = outage.unavailable(exc, "console")
                if wait is None:
                    log.error("console %s failed", request.url.path, exc_info=exc)
                    return _plain_page(FAULT, 500)
                return _plain_page(UNAVAILABLE, 503, {"Retry-After": str(wait)})

        return console_handler


def _plain_page(message: str, status: int, headers: dict | None = None) -> HTMLResponse:
    """A page that needs nothing of the database (no user, no navigation)."""
    return HTMLResponse(
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>账本</title>'
        f'<link rel="stylesheet" href="{PATH}/static/app/app.css"></head><body><main>'
        f'<p class="error" role="alert">{message}</p><p><a href="{PATH}/">返回总览</a></p>'
        "</main></body></html>",
        status_code=status,
        headers=headers,
    )


router = APIRouter(prefix=PATH, include_in_schema=False, route_class=ConsoleRoute)
PAGE_SIZE = 50
CHART_DAYS = 30
NO_ACCOUNT = "账户不存在，或您无权查看该账户。"


@dataclass
class Console:
    ledger: Ledger
    access: Access
    imports: Imports
    env: Environment
    settings: Settings


class LoginNeeded(Exception):
    def __init__(self, expired: bool) -> None:
        self.expired = expired


class Refused(Exception):
    """A page the viewer may not see or that does not exist: a page with the message."""

    def __init__(self, viewer: Viewer, message: str, status: int = 403) -> None:
        self.viewer, self.message, self.status = viewer, message, status


def _console(request: Request) -> Console:
    return request.app.state.zb_console


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    console = _console(request)
    html = console.env.get_template(template).render(
        request=request, prefix=PATH, role_labels=ROLE_LABELS, **context
    )
    return HTMLResponse(html, status_code=status)


def viewer_of(request: Request) -> Viewer:
    """The logged-in user, or :class:`LoginNeeded` (with ``expired`` when a cookie was sent
    but its session is over: expired, logged out elsewhere, user disabled)."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginNeeded(expired=False)
    user = _console(request).access.session_user(token, datetime.now(UTC))
    if user is None:
        raise LoginNeeded(expired=True)
    return Viewer(user, token)


def login_needed(request: Request, exc: LoginNeeded) -> RedirectResponse:
    query = {"expired": "1"} if exc.expired else {}
    if request.method == "GET" and request.url.path != f"{PATH}/":
        query["next"] = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"{PATH}/login" + (f"?{urlencode(query)}" if query else "")
    if request.headers.get("HX-Request"):
        # htmx follows a 303 inside its request and would swap the login page into a
        # fragment: it is told to load the login page instead
        response = HTMLResponse("", status_code=401, headers={"HX-Redirect": target})
    else:
        response = RedirectResponse(target, status_code=303)
    if exc.expired:
        response.delete_cookie(COOKIE, path=PATH)
    return response


def refused(request: Request, exc: Refused) -> HTMLResponse:
    return render(
        request, "message.html", exc.status, viewer=exc.viewer, message=exc.message, nav=""
    )


def _visible_accounts(console: Console, viewer: Viewer, **filters) -> list[Account]:
    """The accounts in the viewer's scope that match ``filters``: chosen by the database
    (the scope's limits are filters of the query), not by loading every account."""
    return console.ledger.accounts(**viewer.scope.account_filters(), **filters)


def _account(console: Console, viewer: Viewer, number: str) -> Account:
    """The account of ``number`` if the viewer may see it; the same refusal whether it does
    not exist or is someone else's (nothing to learn by editing the URL)."""
    try:
        account = console.ledger.account(number)
    except (NotFound, LedgerError):
        raise Refused(viewer, NO_ACCOUNT, 404) from None
    if not viewer.scope.may_see(account):
        raise Refused(viewer, NO_ACCOUNT, 404)
    return account


# -- logging in and out --------------------------------------------------------------------


def _login_page(request: Request, status: int = 200, error: str | None = None, **kw):
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_csrf()
    notice = "登录已过期，请重新登录。" if request.query_params.get("expired") else None
    if request.query_params.get("bye"):
        notice = "您已退出登录。"
    response = render(
        request,
        "login.html",
        status,
        csrf=token,
        error=error,
        notice=notice,
        next=kw.get("next") or request.query_params.get("next") or "",
        username=kw.get("username", ""),
        viewer=None,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path=PATH)
    return response


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


def _safe_next(target: str) -> str:
    """Only a path of the console itself (never another host)."""
    if target.startswith(PATH + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{PATH}/"


@router.post("/login")
async def login(request: Request):
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = _safe_next(str(form.get("next") or ""))
    if not same(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_page(request, 403, STALE_FORM, username=username, next=target)
    if not username or not password:
        return _login_page(request, 400, "请输入用户名和密码。", username=username, next=target)
    console = _console(request)
    try:
        token, _user, expires = await run_in_threadpool(
            console.access.login,
            username[:64],
            password[:1024],
            ip=request.client.host if request.client else None,
            now=datetime.now(UTC),
            ttl_seconds=console.settings.session_ttl_seconds,
        )
    except sessions.LoginThrottled as exc:
        message = f"登录失败次数过多，请 {sessions.wait_text(exc.retry_after)} 后再试。"
        return _login_page(request, 429, message, username=username, next=target)
    except sessions.LoginFailed:
        return _login_page(request, 401, "用户名或密码错误。", username=username, next=target)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=console.settings.session_ttl_seconds,
        httponly=True,
        samesite="lax",
        path=PATH,
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PATH)
    return response


@router.post("/logout")
async def logout(request: Request):
    form = await request.form()
    token = request.cookies.get(COOKIE)
    if token:
        viewer = await run_in_threadpool(viewer_of, request)
        if not same(form.get("csrf"), viewer.csrf):
            return render(request, "message.html", 403, viewer=viewer, message=STALE_FORM, nav="")
        await run_in_threadpool(_console(request).access.logout, token)
    response = RedirectResponse(f"{PATH}/login?bye=1", status_code=303)
    response.delete_cookie(COOKIE, path=PATH)
    return response


# -- 总览 ---------------------------------------------------------------------------------------


def _local_midnight(console: Console, when: datetime) -> datetime:
    local = when.astimezone(console.ledger.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


#: the currency whose figures carry a plain label (another currency's label names it) and
#: that a chart draws when it has entries
HOME_CURRENCY = "CNY"
_NONE = Totals(0, Decimal(0), Decimal(0))


def chart_currency(totals) -> str | None:
    """The one currency a chart of a report draws (its totals' currencies): the home currency
    when it has entries there, else the first; None for an empty report."""
    currencies = [t.currency for t in totals]
    return HOME_CURRENCY if HOME_CURRENCY in currencies else next(iter(currencies), None)


def _day_and_month(console: Console, viewer: Viewer, day: date, through: date):
    """The figures of business day ``day`` and of its month up to ``through``, each as
    ``{currency: Totals}`` (money of two currencies is never added): two reports from the
    summaries without balances (they read only those days' or that month's summary rows: a
    whole month's are its monthly rows)."""
    scope = viewer.scope.account_filters()

    def totals(start: date, end: date) -> dict[str, Totals]:
        rows = console.ledger.report(start, end, (), flows_only=True, **scope).totals
        return {r.currency: Totals(r.entries, r.income, r.expense) for r in rows if r.entries}

    return totals(day, day), totals(day.replace(day=1), through)


def _cards(label: str, per_currency: dict[str, Totals]) -> dict[str, Totals]:
    """One card per currency: ``label`` for the home currency, ``label（USD）`` for another."""
    if not per_currency:
        return {label: _NONE}
    return {
        (label if cur == HOME_CURRENCY else f"{label}（{cur}）"): t
        for cur, t in sorted(per_currency.items(), key=lambda kv: kv[0] != HOME_CURRENCY)
    }


def _recent_figures(console: Console, viewer: Viewer) -> dict:
    """今日 and 本月, a card a currency; when today (or this month) has no entries, the
    latest business day (or month) that has, and the label says which."""
    today = _local_midnight(console, datetime.now(UTC)).date()
    day_totals, month_totals = _day_and_month(console, viewer, today, today)
    if day_totals and month_totals:
        return _cards("今日", day_totals) | _cards("本月", month_totals)
    newest = console.ledger.entries(viewer.scope.entries(), limit=1, with_total=False).items
    if not newest:
        return _cards("今日", day_totals) | _cards("本月", month_totals)
    day = _local_midnight(console, newest[0].trade_time).date()
    latest_day, latest_month = _day_and_month(console, viewer, day, reports.month_end(day))
    figures = {}
    if day_totals:
        figures |= _cards("今日", day_totals)
    else:
        figures |= _cards(f"最近营业日 {day:%Y-%m-%d}（今日无流水）", latest_day)
    if month_totals:
        figures |= _cards("本月", month_totals)
    else:
        figures |= _cards(f"最近有流水的月份 {day:%Y-%m}（本月无流水）", latest_month)
    return figures


@router.get("/")
def overview(request: Request) -> HTMLResponse:
    console = _console(request)
    viewer = viewer_of(request)
    scope = viewer.scope.account_filters()
    # the balances by shop and channel: one aggregate in the database, however many accounts
    groups = sorted(
        ((shop or "（未分店铺）", kind, currency), (count, balance))
        for shop, kind, currency, count, balance in console.ledger.balance_groups(**scope)
    )
    totals: dict[str, Decimal] = {}
    for (_, _, currency), (_, balance) in groups:
        totals[currency] = totals.get(currency, Decimal(0)) + balance
    figures = _recent_figures(console, viewer)
    bill_accounts = _visible_accounts(console, viewer, types=PLATFORMS)
    latest = {}
    if bill_accounts:  # each bill account's newest import: one query for them all
        records = console.imports.records(
            latest=True, limit=len(bill_accounts), types=PLATFORMS, **scope
        )
        latest = {r.account_number: r for r in records}
    return render(
        request,
        "overview.html",
        viewer=viewer,
        nav="overview",
        groups=groups,
        totals=sorted(totals.items(), key=lambda kv: (kv[0] != HOME_CURRENCY, kv[0])),
        home_currency=HOME_CURRENCY,
        figures=figures,
        last_imports=[(a, latest.get(a.number)) for a in bill_accounts],
    )


@router.get("/overview/daily.json")
def daily(request: Request) -> JSONResponse:
    """Daily income, expense and closing balance of the viewer's accounts over the last
    :data:`CHART_DAYS` days (up to today, or up to the last day with entries when the recent
    days have none), in one currency (:data:`HOME_CURRENCY` if it has entries there): one
    report by day (``Ledger.report``, from the summaries). Income and expense are entries by
    sign (transfers included)."""
    console = _console(request)
    viewer = viewer_of(request)
    scoped = viewer.scope.entries()
    ledger = console.ledger
    end = _local_midnight(console, datetime.now(UTC)) + timedelta(days=1)
    since = (end - timedelta(days=CHART_DAYS)).date()
    # any entry on the chart's days or after them (from the summaries, no balances: cheap)
    recent = ledger.report(since, _EVER[1], (), flows_only=True, **viewer.scope.account_filters())
    if not any(t.entries for t in recent.totals):
        newest = ledger.entries(scoped, limit=1, with_total=False).items
        if newest:
            end = _local_midnight(console, newest[0].trade_time) + timedelta(days=1)
    last = (end - timedelta(days=1)).date()
    report = ledger.report(
        last - timedelta(days=CHART_DAYS - 1),
        last,
        ("day",),
        shop_codes=scoped.shop_codes,
        numbers=scoped.account_numbers,
        owner_user_id=scoped.owner_user_id,
    )
    currency = chart_currency(report.totals)
    rows = [r for r in report.rows if r.currency == currency]
    starts = [datetime.combine(r.day, time(0), ledger.tz) for r in rows]
    return JSONResponse(
        {
            "tz": str(ledger.tz),
            "days": [r.day.isoformat() for r in rows],
            "timestamps": [int(d.timestamp()) for d in starts],
            "income": [float(r.income) for r in rows],
            "expense": [float(r.expense) for r in rows],
            "balance": [float(r.closing or 0) for r in rows],
        },
        headers={"Cache-Control": "no-store"},
    )


# -- 账户 ---------------------------------------------------------------------------------------


#: accounts a page of the accounts list
ACCOUNTS_PAGE = 100


@router.get("/accounts")
def accounts_page(request: Request) -> HTMLResponse:
    """The accounts in scope, :data:`ACCOUNTS_PAGE` a page by id (keyset: ``?after=<id>``),
    with the filters of :func:`filters.parse_accounts` kept in the URL and the total."""
    console = _console(request)
    viewer = viewer_of(request)
    query = filters.parse_accounts(request.query_params)
    page = None
    if not query.errors:
        page = console.ledger.account_page(
            after_id=query.after,
            limit=ACCOUNTS_PAGE,
            **viewer.scope.account_filters(),
            **query.filters,
        )
    return render(
        request,
        "accounts.html",
        400 if query.errors else 200,
        viewer=viewer,
        nav="accounts",
        query=query,
        page=page,
        channels=CHANNEL_LABELS,
        statuses=filters.ACCOUNT_STATUSES,
    )


def _chart_choices(console: Console) -> list[tuple[int, str]]:
    return [(item.id, item.name) for item in console.ledger.chart()]


#: the widest range a report takes: an account's whole flow
_EVER = (date(1970, 1, 1), date(9998, 12, 31))


def _totals(console: Console, account: Account, query: filters.FlowQuery) -> Totals:
    """The totals row of the filtered view. Filtered by days alone (or not at all), it is the
    account's report over those days, read from the daily and monthly summaries (cheap for an
    account of millions of entries); any other filter sums the matching entries."""
    by_days = not any(v for k, v in query.values.items() if k not in ("start", "end"))
    if not by_days:
        return console.ledger.entry_totals(query.filter)
    tz, f = console.ledger.tz, query.filter
    start = f.start.astimezone(tz).date() if f.start else _EVER[0]
    end = (f.end.astimezone(tz) - timedelta(days=1)).date() if f.end else _EVER[1]
    report = console.ledger.report(start, end, ("account",), numbers=[account.number])
    row = next((t for t in report.totals if t.currency == account.currency), None)
    if row is None:
        return Totals(0, Decimal(0), Decimal(0))
    return Totals(row.entries, row.income, row.expense)


def render_account(
    request: Request,
    viewer: Viewer,
    number: str,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    console = _console(request)
    account = _account(console, viewer, number)
    query = filters.parse(request.query_params, console.ledger.tz, account.id)
    page = totals = None
    if not query.errors:
        page = console.ledger.entries(
            query.filter, limit=PAGE_SIZE, before_id=query.before, with_total=False
        )
        totals = _totals(console, account, query)
    if query.errors and status == 200:
        status = 400
    if notice is None and request.query_params.get("done") == "reversed":
        notice = "已冲正：新增一笔冲正流水，原流水保留。"
    return render(
        request,
        "account.html",
        status,
        viewer=viewer,
        nav="accounts",
        account=account,
        query=query,
        page=page,
        totals=totals,
        types=ENTRY_TYPES,
        categories=_chart_choices(console),
        notice=notice,
        error=error,
    )


@router.get("/accounts/{number}")
def account_page(request: Request, number: str) -> HTMLResponse:
    return render_account(request, viewer_of(request), number)


@router.get("/accounts/{number}/export.{suffix}")
def export(request: Request, number: str, suffix: str):
    """Every entry of the filtered view (not only the page shown), as CSV or XLSX."""
    console = _console(request)
    viewer = viewer_of(request)
    account = _account(console, viewer, number)
    if suffix not in Format.__members__:
        raise Refused(viewer, "只能导出 CSV 或 XLSX。", 404)
    query = filters.parse(request.query_params, console.ledger.tz, account.id)
    if query.errors:
        return render_account(request, viewer, number, 400)
    fmt_ = Format(suffix)
    chunks = export_flows(console.ledger, query.filter, fmt_)
    first = next(chunks)
    name = filename(fmt_, datetime.now(UTC), console.ledger.tz)
    ascii_name = f"flows-{name.split('-', 1)[1]}"
    return StreamingResponse(
        itertools.chain([first], chunks),
        media_type=fmt_.media_type,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
            ),
            "Cache-Control": "no-store",
        },
    )


@router.post("/accounts/{number}/reverse")
async def reverse(request: Request, number: str):
    """冲正 an income or expense entry: a supervisor's action."""
    form = await request.form()
    return await run_in_threadpool(_reverse, request, number, dict(form))


def _reverse(request: Request, number: str, form: dict):
    console = _console(request)
    viewer = viewer_of(request)
    account = _account(console, viewer, number)
    if not same(form.get("csrf"), viewer.csrf):
        return render_account(request, viewer, number, 403, error=STALE_FORM)
    if not viewer.can("supervisor"):
        return render_account(
            request, viewer, number, 403, error="冲正需要主管权限，未作任何修改。"
        )
    entry_id = str(form.get("entry_id") or "")
    try:
        entry = console.ledger.entry(int(entry_id)) if entry_id.isdigit() else None
    except LedgerError:
        entry = None
    if entry is None or entry.account_id != account.id:
        return render_account(request, viewer, number, 404, error="流水不存在，未作任何修改。")
    try:
        console.ledger.reverse_entry(
            entry.id, operator_id=viewer.user.id, remark=str(form.get("remark") or "")[:200]
        )
    except LedgerError as exc:
        return render_account(request, viewer, number, 409, error=f"未能冲正：{exc}")
    return RedirectResponse(f"{PATH}/accounts/{quote(number)}?done=reversed", status_code=303)


# -- 导入 ---------------------------------------------------------------------------------------


def _bill_accounts(console: Console, viewer: Viewer) -> list[Account]:
    """The open bill accounts in the viewer's scope (the database picks them)."""
    return _visible_accounts(console, viewer, types=PLATFORMS, status="open")


def _imports_page(request: Request, viewer: Viewer, status: int = 200, **result):
    console = _console(request)
    # the last 30 imports of the accounts in scope: the scope is the query's, not a filter
    # over every account loaded here
    records = console.imports.records(limit=30, **viewer.scope.account_filters())
    return render(
        request,
        "imports.html",
        status,
        viewer=viewer,
        nav="imports",
        accounts=_bill_accounts(console, viewer),
        records=records,
        max_mib=console.settings.console_max_upload_bytes // (1024 * 1024),
        **result,
    )


@router.get("/imports")
def imports_page(request: Request) -> HTMLResponse:
    return _imports_page(request, viewer_of(request))


_QUOTED = re.compile(r'^"(.*)" ', re.S)
#: the reasons of the bill readers (zhangben.imports), worded in Chinese; others are shown as
#: they are
_REASONS = (
    (re.compile(r'^".*" is not an amount$', re.S), "不是有效金额"),
    (re.compile(r'^".*" is not a time$', re.S), "不是有效时间"),
    (re.compile(r'^".*" is a date without a time$', re.S), "只有日期，缺少时间"),
    (re.compile(r'^".*" is larger than .*$', re.S), "金额超过上限"),
    (re.compile(r'^".*" must not be negative$', re.S), "不能为负数"),
    (re.compile(r'^".*" is neither .*$', re.S), "既不是收入也不是支出"),
    (re.compile(r'^".*" is not a known trade status$', re.S), "未知的交易状态"),
    (re.compile(r"^required (value|time) is empty$"), "必填项为空"),
)


def reason_zh(message: str) -> str:
    for pattern, text in _REASONS:
        if pattern.match(message):
            return text
    return message


def bad_row(error: BillFormatError) -> dict:
    """A refused row for the report: line, column, the raw cell (as the reason quotes it)
    and the reason, in Chinese where it is a known one (the reader's words beside it)."""
    quoted = _QUOTED.match(error.message)
    return {
        "line": error.line,
        "column": error.column or "",
        "raw": quoted.group(1) if quoted else "",
        "reason": reason_zh(error.message),
        "detail": error.message,
        "flow": error.flow or error.order or "",
    }


@router.post("/imports")
async def upload(request: Request):
    viewer = await run_in_threadpool(viewer_of, request)
    form = await request.form()
    try:
        return await run_in_threadpool(_import, request, viewer, form)
    finally:
        await form.close()


def _import(request: Request, viewer: Viewer, form) -> HTMLResponse:
    console = _console(request)
    if not same(form.get("csrf"), viewer.csrf):
        return _imports_page(request, viewer, 403, error=STALE_FORM)
    if not viewer.can("clerk"):
        return _imports_page(request, viewer, 403, error="导入需要出纳权限。")
    number = str(form.get("account") or "")
    allowed = {a.number: a for a in _bill_accounts(console, viewer)}
    if number not in allowed:
        return _imports_page(
            request, viewer, 400, error="请选择一个账单账户。" if not number else NO_ACCOUNT
        )
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return _imports_page(request, viewer, 400, error="请选择要导入的账单文件。")
    name = Path(upload.filename).name[:200]
    with tempfile.TemporaryDirectory(prefix="zb-console-") as folder:
        path = Path(folder) / (re.sub(r"[^\w.\-]", "_", name) or "bill")
        with open(path, "wb") as out:
            shutil.copyfileobj(upload.file, out, 1024 * 1024)
        try:
            report = console.imports.import_file(
                path, account=number, skip_bad_rows=True, operator_id=viewer.user.id
            )
        except BillFormatError as exc:
            return _imports_page(
                request, viewer, 422, error=f"无法识别为账单，未导入任何内容：{exc}", filename=name
            )
        except ImportRefused as exc:
            return _imports_page(
                request, viewer, 422, error=f"该文件不属于所选账户，未导入任何内容：{exc}"
            )
        except LedgerError as exc:
            return _imports_page(request, viewer, 422, error=f"导入被拒绝，未写入任何内容：{exc}")
    return _imports_page(
        request,
        viewer,
        report=report,
        filename=name,
        bad_rows=[bad_row(e) for e in report.bad_rows],
        channel=CHANNEL_LABELS.get(report.platform, report.platform),
    )
