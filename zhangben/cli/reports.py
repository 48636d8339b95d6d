"""``zhangben report daily|monthly|month|summary`` (日报/月结 figures; ``report month --xlsx``
writes the 月结 workbook) and ``zhangben summaries status|refresh|rebuild`` (the daily and
monthly summaries they are read from)."""

from __future__ import annotations

import os
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from zhangben.cli.common import console, fail, friendly, ledger, money
from zhangben.core import reports
from zhangben.core.errors import ValidationError
from zhangben.core.reports import Report, ReportRow

report_app = typer.Typer(
    help="Reports: opening, income, expense, closing and entries per day, month or group.",
    no_args_is_help=True,
)
summaries_app = typer.Typer(
    help="The daily and monthly summaries reports are read from.", no_args_is_help=True
)

MonthOpt = Annotated[str | None, typer.Option("--month", help="a whole month: 2026-10")]
FromOpt = Annotated[
    str | None, typer.Option("--from", help="first day (2026-10-01) or month (2026-10)")
]
ToOpt = Annotated[
    str | None, typer.Option("--to", help="last day, included (2026-10-31) or month (2026-10)")
]
ShopOpt = Annotated[list[str] | None, typer.Option("--shop", help="shop code (repeatable)")]
AccountOpt = Annotated[
    list[str] | None, typer.Option("--account", help="account number (repeatable)")
]
TypeOpt = Annotated[list[str] | None, typer.Option("--type", help="account type (repeatable)")]
ByOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--by", help="group by (repeatable): shop, account, type, platform, category, subject"
    ),
]

#: column title and how to read it from a row, per grouping
_COLUMNS = {
    "day": ("day", lambda r: r.day.isoformat()),
    "month": ("month", lambda r: r.month),
    "shop": ("shop", lambda r: r.shop or "—"),
    "account": ("account", lambda r: f"{r.account} {r.account_name or ''}".strip()),
    "type": ("type", lambda r: r.type),
    "platform": ("platform", lambda r: r.platform or "—"),
    "category": ("category", lambda r: _chart(r.category_id, r.category_name)),
    "subject": ("subject", lambda r: _chart(r.subject_id, r.subject_name)),
}


def _range_title(first: date, last: date) -> str:
    if first.day == 1 and last == reports.month_end(last.replace(day=1)):  # whole months
        return (
            f"{first:%Y-%m}"
            if first.month == last.month and first.year == last.year
            else (f"{first:%Y-%m} – {last:%Y-%m}")
        )
    return f"{first.isoformat()} – {last.isoformat()}"


def _chart(item: int | None, name: str | None) -> str:
    return "—" if item is None else f"{item} {name or ''}".strip()


def _span(month: str | None, start: str | None, end: str | None) -> tuple[date, date]:
    if month is not None:
        if start is not None or end is not None:
            fail("give --month, or --from and --to, not both")
        first = reports.parse_month(month)
        return first, reports.month_end(first)
    if start is None or end is None:
        fail("give --month 2026-10, or --from and --to")
    first = _day(start, "from", last=False)
    last = _day(end, "to", last=True)
    reports.check_range(first, last)
    return first, last


def _day(text: str, field: str, *, last: bool) -> date:
    if len(text.strip()) == 7:
        month = reports.parse_month(text, field)
        return reports.month_end(month) if last else month
    return reports.parse_day(text, field)


#: the core's field names as this command line's options
_OPTIONS = {
    "group_by": "--by", "from": "--from", "to": "--to", "month": "--month", "shop": "--shop"
}  # fmt: skip


def _options(fn):
    """A refused field named as the option that gave it (``--by: unknown grouping …``)."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            fail(f"{_OPTIONS.get(exc.field, exc.field)}: {exc.reason}")

    return wrapper


def _run(time: str | None, span, by, default, shop, account, type, title: str) -> None:
    extra = reports.parse_group_by(by) or default
    if any(g in reports.TIME for g in extra):
        fail("--by: day and month are the report's own (use report daily or report monthly)")
    dims = ((time,) if time else ()) + extra
    found = ledger().report(*span, dims, shop_codes=shop, numbers=account, types=type)
    console.print(_table(found, title))
    if not found.balances:  # by category or subject: the accounts' balances on a line
        spans = (f"{t.currency} {money(t.opening)} → {money(t.closing)}" for t in found.totals)
        console.print("balances: " + "; ".join(spans), highlight=False)


def _table(found: Report, title: str) -> Table:
    currencies = {r.currency for r in (*found.rows, *found.totals)}
    show_currency = len(currencies) > 1
    table = Table(title=f"{title} ({found.time_zone})")
    for name in found.group_by:
        table.add_column(_COLUMNS[name][0])
    if show_currency:
        table.add_column("currency")
    figures = (["opening"] if found.balances else []) + ["income", "expense"]
    figures += (["closing"] if found.balances else []) + ["entries"]
    for name in figures:
        table.add_column(name, justify="right")

    def cells(row: ReportRow) -> list[str]:
        out = [money(row.income), money(row.expense)]
        if found.balances:
            out = [money(row.opening), *out, money(row.closing)]
        return [*([row.currency] if show_currency else []), *out, str(row.entries)]

    for row in found.rows:
        table.add_row(*(_COLUMNS[n][1](row) for n in found.group_by), *cells(row))
    for i, total in enumerate(found.totals):
        label = ["total"] + [""] * (len(found.group_by) - 1)
        table.add_row(*label, *cells(total), end_section=False)
        if i == 0 and found.rows:
            table.rows[len(found.rows) - 1].end_section = True
    return table


@report_app.command("daily")
@friendly
@_options
def daily(
    month: MonthOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    shop: ShopOpt = None,
    account: AccountOpt = None,
    type: TypeOpt = None,
    by: ByOpt = None,
) -> None:
    """日报: every business day of the range (or per day and group with --by)."""
    span = _span(month, start, end)
    _run("day", span, by, (), shop, account, type, f"daily report {_range_title(*span)}")


@report_app.command("monthly")
@friendly
@_options
def monthly(
    month: MonthOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    shop: ShopOpt = None,
    account: AccountOpt = None,
    type: TypeOpt = None,
    by: ByOpt = None,
) -> None:
    """Every business month of the range (or per month and group with --by)."""
    span = _span(month, start, end)
    _run("month", span, by, (), shop, account, type, f"monthly report {_range_title(*span)}")


@report_app.command("month")
@friendly
@_options
def month_report(
    month: Annotated[str, typer.Argument(help="the month: 2026-10")],
    shop: ShopOpt = None,
    account: AccountOpt = None,
    type: TypeOpt = None,
    by: ByOpt = None,
    xlsx: Annotated[
        str | None,
        typer.Option(
            "--xlsx",
            help="also write the 月结 workbook (sheets 账户, 日报, 类目, 账期) to this file: "
            "of the whole ledger or of one --shop",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite the --xlsx file")] = False,
) -> None:
    """月结 figures of one month: per account (or --by category, shop, …), with totals;
    --xlsx also writes the 月结 workbook."""
    first = reports.parse_month(month, "MONTH")
    if xlsx is not None:
        if by or account or type:
            fail("--xlsx: the workbook is of the whole ledger or of one --shop (no --by, "
                 "--account or --type)")  # fmt: skip
        if shop and len(shop) > 1:
            fail("--xlsx: the workbook is of one shop: give --shop once")
        _workbook(month, shop[0] if shop else None, xlsx, force=force)
        return
    span = (first, reports.month_end(first))
    _run(None, span, by, ("account",), shop, account, type, f"month {first:%Y-%m}")


def _workbook(month: str, shop: str | None, target: str, *, force: bool) -> None:
    """The 月结 workbook into ``target``, written beside it under a temporary name and renamed
    when complete: a refusal or a failure leaves no file, and an existing file as it was."""
    path = Path(target)
    if path.suffix.lower() != ".xlsx":
        fail(f"--xlsx: {target!r}: the file name must end in .xlsx")
    if path.exists() and not force:
        fail(f"{target} exists: give --force to overwrite it")
    if not path.parent.is_dir():
        fail(f"{path.parent} is not a directory")
    from zhangben.periods import Periods, workbook  # openpyxl: for this option alone

    try:
        book = Periods(ledger()).month_book(month, shop=shop)
    except ValidationError as exc:
        fail(f"{'MONTH' if exc.field == 'month' else _OPTIONS.get(exc.field, exc.field)}: "
             f"{exc.reason}")  # fmt: skip
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with partial.open("wb") as out:
            workbook.write(book, out)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    console.print(_table(book.accounts, f"month {month}" + (f" · shop {shop}" if shop else "")))
    p = book.period
    findings = "无 (none)" if not book.findings else f"{len(book.findings)} finding(s)"
    console.print(
        f"wrote {target}: 账户 {len(book.accounts.rows)} rows, 日报 {len(book.days.rows)} "
        f"days, 类目 {len(book.categories.rows)} rows; 账期 {p.month} of "
        f"{'shop ' + shop if shop else 'the ledger'}: {p.status}; checks: {findings}",
        highlight=False,
        soft_wrap=True,
    )


@report_app.command("summary")
@friendly
@_options
def summary(
    month: MonthOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    shop: ShopOpt = None,
    account: AccountOpt = None,
    type: TypeOpt = None,
    by: ByOpt = None,
) -> None:
    """Any range as one period: per account (or --by …), with totals."""
    span = _span(month, start, end)
    _run(None, span, by, ("account",), shop, account, type, f"summary {_range_title(*span)}")


@summaries_app.command("status")
@friendly
def summaries_status() -> None:
    """How far the summaries are folded, and in which time zone."""
    _print_status(ledger().summaries_status())


@summaries_app.command("refresh")
@friendly
def summaries_refresh() -> None:
    """Fold the entries not in the summaries yet (reports do it themselves when many wait)."""
    _print_status(ledger().refresh_summaries())


@summaries_app.command("rebuild")
@friendly
def summaries_rebuild() -> None:
    """Empty the summaries and fold every entry again, in the business time zone."""
    _print_status(ledger().refresh_summaries(rebuild=True))


def _print_status(s) -> None:
    folded = f"; {s.folded} folded now" if s.folded else ""
    zone = s.time_zone or "none yet"
    console.print(
        f"summaries hold entries up to {s.last_entry_id} of {s.top_entry_id} "
        f"({s.pending} waiting; days of {zone}){folded}",
        highlight=False,
    )
