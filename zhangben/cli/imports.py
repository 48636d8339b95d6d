"""Bill import commands: ``import``, ``imports``, ``import-rules`` and ``import-samples``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zhangben.cli.common import bill_imports, console, err, fail, friendly, local, money
from zhangben.core.errors import LedgerError
from zhangben.imports import BillFormatError
from zhangben.imports.files import Limits
from zhangben.imports.runner import ImportRefused, ImportReport

SHOWN_PROBLEMS = 20

rules_app = typer.Typer(help="Category rules of imported bill rows.", no_args_is_help=True)


def _speed(task) -> str:
    elapsed = task.elapsed or 0
    return f"{task.completed / elapsed:,.0f} rows/s" if elapsed > 0 else ""


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


def import_command(
    files: Annotated[list[Path], typer.Argument(help="bill files (CSV, XLSX, Alipay ZIP)")],
    account: Annotated[str, typer.Option("--account", "-a", help="the platform account")],
    format_name: Annotated[
        str | None, typer.Option("--format", help="alipay, wechat_trade, wechat_fund, …")
    ] = None,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="leave bad rows out and list them")
    ] = False,
    operator: Annotated[str | None, typer.Option(help="username recorded as importer")] = None,
    batch_size: Annotated[
        int,
        typer.Option(min=1, max=10000, hidden=True, help="ignored: rows are written set-based"),
    ] = 1000,
    limit: Annotated[
        list[str] | None,
        typer.Option(
            "--limit",
            metavar="NAME=VALUE",
            help="raise or lower a limit of what a file may hold: inflated (4GiB), ratio "
            "(100), line (64KiB), cells (1000), empty (10000)",
        ),
    ] = None,
    no_opening_balance: Annotated[
        bool,
        typer.Option(
            "--no-opening-balance",
            help="post no opening-balance entry (期初余额) into an account with no earlier "
            "entries: the ledger then starts the file from the account's balance",
        ),
    ] = False,
) -> None:
    """Import platform bill files into a platform account (idempotent, all-or-nothing)."""
    try:
        limits = Limits.parse(limit or [])
    except ValueError as exc:
        fail(f"--limit {exc}")
    service = bill_imports()
    try:
        operator_id = service.ledger.user(operator).id if operator else None
    except LedgerError as exc:
        fail(exc.message)
    rejected = 0
    for path in files:
        try:
            report = _import_one(
                service,
                path,
                account,
                format_name,
                skip_bad_rows,
                operator_id,
                limits,
                opening_balance=not no_opening_balance,
            )
        except (BillFormatError, ImportRefused, LedgerError, OSError) as exc:
            rejected += 1
            text = exc.message if isinstance(exc, LedgerError) else str(exc)
            err.print(f"[red]rejected[/red] {path.name}: {text}", highlight=False, soft_wrap=True)
            continue
        _print_report(report)
    if rejected:
        raise typer.Exit(1)


def _import_one(
    service, path, account, format_name, skip_bad_rows, operator_id, limits, *, opening_balance
):
    with _progress_bar() as bar:
        read = bar.add_task(f"read  {path.name}", total=None, rate="")
        write = bar.add_task(f"write {path.name}", total=None, rate="", visible=False)

        def progress(phase: str, done: int, total: int | None) -> None:
            task = read if phase == "read" else write
            bar.update(task, completed=done, total=total, visible=True)
            bar.update(task, rate=_speed(bar.tasks[task]))

        return service.import_file(
            path,
            account=account,
            format_name=format_name,
            skip_bad_rows=skip_bad_rows,
            operator_id=operator_id,
            progress=progress,
            limits=limits,
            opening_balance=opening_balance,
        )


def _print_report(r: ImportReport) -> None:
    table = Table(title=f"{r.filename} → {r.account} (import {r.import_id})")
    for col in ("format", "rows", "new", "duplicate", "rejected", "breaks", "rows/s", "order"):
        table.add_column(col, justify="left" if col in ("format", "order") else "right")
    table.add_row(
        r.format,
        str(r.rows_total),
        str(r.rows_new),
        str(r.rows_duplicate),
        str(r.rows_rejected),
        str(len(r.breaks)),
        f"{r.rows_per_second:,.0f}",
        "newest first" if r.newest_first else "oldest first",
    )
    console.print(table)
    if r.rows_linked:
        console.print(
            f"{r.rows_linked} new row(s) linked to flows posted before by hand (not posted again)",
            highlight=False,
        )
    if r.first_trade_time is not None:
        span = f"{local(r.first_trade_time)} – {local(r.last_trade_time)}"
        if r.first_balance is not None:
            span += f", platform balance {money(r.first_balance)} → {money(r.last_balance)}"
        console.print(f"rows from {span}", highlight=False)
    _print_balances(r)
    for title, items in (
        ("skipped bad rows", [str(e) for e in r.bad_rows]),
        ("continuity breaks (对账)", [str(b) for b in r.breaks]),
        ("summary mismatch", r.summary_problems),
    ):
        if items:
            console.print(f"[yellow]{title}:[/yellow]")
            for text in items[:SHOWN_PROBLEMS]:
                console.print(f"  - {text}", highlight=False)
            if len(items) > SHOWN_PROBLEMS:
                console.print(f"  … and {len(items) - SHOWN_PROBLEMS} more")


def _print_balances(r: ImportReport) -> None:
    """The opening entry or the opening mismatch, and the account's balance beside the
    platform's at the last row."""
    if r.platform_opening is None:
        return
    if r.opening_entry_id is not None:
        console.print(
            f"opening balance {money(r.opening_amount)} posted (期初余额, entry "
            f"{r.opening_entry_id}, dated {local(r.opening_time)}): the platform's balance "
            "before the first row",
            highlight=False,
        )
    elif r.opening_difference:
        title = "opening balance mismatch:"
        console.print(
            f"{f'[yellow]{title}[/yellow]' if r.opening_mismatch else title} before the first "
            f"row the ledger holds {money(r.ledger_opening)} and the platform "
            f"{money(r.platform_opening)} (difference {money(r.opening_difference)}); no "
            f"opening entry: {r.opening_held_back}",
            highlight=False,
        )
    console.print(
        f"account {r.account} balance {money(r.balance)}; the platform's balance at the last "
        f"row {money(r.last_balance)}",
        highlight=False,
    )


@friendly
def imports_command(
    account: Annotated[str | None, typer.Option("--account", "-a")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """The import records, newest first."""
    table = Table()
    for col in (
        "id",
        "file",
        "sha256",
        "format",
        "account",
        "rows",
        "new",
        "dup",
        "rej",
        "breaks",
        "status",
        "by",
        "when",
    ):
        table.add_column(col)
    for r in bill_imports().records(account_number=account, limit=limit):
        table.add_row(
            str(r.id),
            r.filename,
            r.file_sha256[:12],
            r.format,
            r.account_number,
            str(r.rows_total),
            str(r.rows_new),
            str(r.rows_duplicate),
            str(r.rows_rejected),
            str(r.continuity_breaks),
            r.status,
            r.operator or "",
            local(r.created_at),
        )
    console.print(table)


@rules_app.command("list")
@friendly
def rules_list(platform: Annotated[str | None, typer.Option()] = None) -> None:
    """The rules: platform + business type (+ direction) → category / subject."""
    from zhangben.imports.rules import FALLBACK

    rules, names = bill_imports().rules(platform)
    table = Table()
    for col in ("platform", "business type", "direction", "category", "subject", "enabled"):
        table.add_column(col)
    for r in rules:
        table.add_row(
            r.platform,
            r.business_type,
            r.direction,
            f"{r.category_id} {names.get(r.category_id, '')}",
            "" if r.subject_id is None else f"{r.subject_id} {names.get(r.subject_id, '')}",
            "yes" if r.enabled else "no",
        )
    console.print(table)
    fallback = ", ".join(f"{d} → {c}/{s}" for d, (c, s) in FALLBACK.items())
    console.print(f"rows matching no rule: {fallback}", highlight=False)


@rules_app.command("set")
@friendly
def rules_set(
    platform: str,
    business_type: str,
    category: Annotated[int | None, typer.Option(help="category id")] = None,
    subject: Annotated[int | None, typer.Option(help="subject id")] = None,
    direction: Annotated[str, typer.Option(help="income, expense or any")] = "any",
    disable: Annotated[bool, typer.Option("--disable", help="keep the rule, but off")] = False,
) -> None:
    """Add or replace a rule."""
    rule = bill_imports().set_rule(
        platform,
        business_type,
        category_id=category,
        subject_id=subject,
        direction=direction,
        enabled=not disable,
    )
    console.print(
        f"rule set: {rule.platform} {rule.business_type} ({rule.direction}) → "
        f"{rule.category_id}/{rule.subject_id or '-'}{'' if rule.enabled else ' (disabled)'}",
        highlight=False,
    )


@rules_app.command("delete")
@friendly
def rules_delete(platform: str, business_type: str, direction: str = "any") -> None:
    """Remove a rule (its rows then fall back to 19/20 or 19/21)."""
    done = bill_imports().delete_rule(platform, business_type, direction)
    if not done:
        fail(f"no rule for {platform} {business_type} ({direction})")
    console.print("rule deleted")


@friendly
def import_samples_command(
    directory: Annotated[Path, typer.Argument(help="where to write the sample files")],
    rows: Annotated[int, typer.Option(min=10, help="rows per file")] = 3000,
) -> None:
    """Write a month of sample Alipay and JD wallet bills, plus a tampered copy; and a WeChat
    Pay bill with the order file that fits it (reconciliation)."""
    from zhangben.demo.bills import write_demo_files
    from zhangben.demo.orders import write_order_samples

    written = {**write_demo_files(directory, rows=rows), **write_order_samples(directory)}
    for name, path in written.items():
        console.print(f"{name:>12}: {path}", highlight=False)
