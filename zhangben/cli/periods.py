"""Periods and the month close (月结): ``zhangben period close|reopen|list|show|check|verify``."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table

from zhangben.cli.common import (
    Operator,
    console,
    err,
    fail,
    friendly,
    ledger,
    local,
    money,
)
from zhangben.cli.common import actor as _actor
from zhangben.core.errors import PeriodNotReady
from zhangben.core.periods import Period
from zhangben.periods import Periods

period_app = typer.Typer(
    help="Periods (月结): close a month, reopen it, list and verify the closed ones.",
    no_args_is_help=True,
)

MonthArg = Annotated[str, typer.Argument(help="the month, e.g. 2026-10 (business time zone)")]
Shop = Annotated[
    str | None, typer.Option("--shop", help="a shop's period (default: the whole ledger)")
]


def _periods() -> Periods:
    return Periods(ledger())


def _scope(shop: str | None) -> str:
    return f"shop {shop}" if shop else "the ledger"


def _figures(period: Period) -> Table:
    table = Table(title=f"{period.month} · {_scope(period.shop)}")
    for col in ("account", "name", "opening", "income", "expense", "closing", "entries"):
        table.add_column(col, justify="left" if col in ("account", "name") else "right")
    for f in period.figures:
        table.add_row(
            f["account"], f["name"], *(_m(f[k]) for k in ("opening", "income", "expense",
                                                         "closing")), str(f["entries"]),
        )  # fmt: skip
    for t in period.snapshot["totals"] if period.snapshot else []:
        table.add_row(
            "total", t["currency"], *(_m(t[k]) for k in ("opening", "income", "expense",
                                                        "closing")), str(t["entries"]),
        )  # fmt: skip
    return table


def _m(text: str) -> str:
    return money(Decimal(text))


@friendly
def close(
    month: MonthArg,
    shop: Shop = None,
    force: Annotated[
        bool, typer.Option("--force", help="close despite the checks' findings, acknowledged")
    ] = False,
    operator: Operator = None,
) -> None:
    """Close a month: check it, store its figures and their SHA-256, refuse writes into it."""
    try:
        period = _periods().close(month, shop=shop, actor=_actor(operator), force=force)
    except PeriodNotReady as exc:
        head = exc.message.split(": ", 1)[0]
        failed = f"{len(exc.findings)} check(s) failed"
        err.print(f"[red]error:[/red] {head}: {failed}:", highlight=False)
        for finding in exc.findings:
            err.print(f"  - [{finding.check}] {finding.text}", markup=False, soft_wrap=True)
        fail("resolve them, or close with --force to acknowledge them")
    console.print(
        f"closed period {period.month} of {_scope(period.shop)}: {len(period.figures)} accounts, "
        f"sha256 {period.snapshot_sha256}",
        highlight=False,
    )
    for item in period.acknowledged:
        console.print(f"  acknowledged [{item['check']}] {item['text']}", markup=False)
    console.print(_figures(period))


@friendly
def reopen(
    month: MonthArg,
    shop: Shop = None,
    reason: Annotated[str | None, typer.Option(help="why it is reopened (required)")] = None,
    operator: Operator = None,
) -> None:
    """Reopen the latest closed period of a shop (or of the ledger), with a reason."""
    period = _periods().reopen(month, shop=shop, actor=_actor(operator), reason=reason)
    console.print(
        f"reopened period {period.month} of {_scope(period.shop)}: {period.events[-1].reason}",
        highlight=False,
    )


@friendly
def list_command(shop: Shop = None) -> None:
    """Every period closed at least once, and how far each shop is closed."""
    service = _periods()
    found = service.list_periods(shop=shop)
    table = Table()
    for col in ("period", "scope", "status", "closed at", "by", "accounts", "sha256"):
        table.add_column(col)
    for p in found:
        table.add_row(
            p.month, _scope(p.shop), p.status + (" (forced)" if p.forced else ""),
            local(p.closed_at), p.closed_by, str(len(p.figures)), p.snapshot_sha256[:16],
        )  # fmt: skip
    console.print(table)
    through = service.closed_through()
    for scope in sorted(through, key=lambda s: s or ""):
        if shop is None or scope == shop:
            console.print(f"{_scope(scope)} is closed through {through[scope]}", highlight=False)
    if not found:
        console.print("no period has been closed", highlight=False)


@friendly
def show(month: MonthArg, shop: Shop = None) -> None:
    """One period: its status, figures, acknowledged findings and events."""
    p = _periods().get(month, shop=shop)
    console.print(f"period {p.month} of {_scope(p.shop)}: {p.status}", highlight=False)
    if p.snapshot is None:
        return
    console.print(f"sha256 {p.snapshot_sha256}", highlight=False)
    console.print(_figures(p))
    for item in p.acknowledged:
        console.print(f"acknowledged [{item['check']}] {item['text']}", markup=False)
    for e in p.events:
        why = f": {e.reason}" if e.reason else ""
        console.print(f"{local(e.at)} {e.action} by {e.actor}{why}", highlight=False)


@friendly
def check(month: MonthArg, shop: Shop = None) -> None:
    """What stands in the way of closing a month (exit 1 when anything does)."""
    found = _periods().checks(month, shop=shop)
    if not found:
        console.print(f"period {month} of {_scope(shop)}: every check passed", highlight=False)
        return
    console.print(f"period {month} of {_scope(shop)}: {len(found)} finding(s)", highlight=False)
    for finding in found:
        console.print(f"  - [{finding.check}] {finding.text}", markup=False, soft_wrap=True)
    raise typer.Exit(1)


@friendly
def verify() -> None:
    """Recompute every closed period's figures and hash (exit 1 on a mismatch)."""
    report = _periods().verify()
    if report.ok:
        console.print(f"periods OK: {report.periods_checked} closed periods checked")
        return
    console.print(f"[red]periods: {len(report.problems)} problem(s)[/red]")
    for problem in report.problems:
        console.print(f"  - {problem}", highlight=False)
    raise typer.Exit(1)


period_app.command("close")(close)
period_app.command("reopen")(reopen)
period_app.command("list")(list_command)
period_app.command("show")(show)
period_app.command("check")(check)
period_app.command("verify")(verify)
