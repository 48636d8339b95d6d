"""``zhangben verify``: the ledger's balances and chains, the imported bills' continuity, and
every closed period's figures and hash."""

from __future__ import annotations

import typer

from zhangben.cli.common import bill_imports, console, friendly, ledger


@friendly
def verify_cmd() -> None:
    """Check every balance against its entries and every balance-after chain."""
    reports = [("ledger", ledger().verify()), ("bills", bill_imports().verify())]
    bad = False
    for title, report in reports:
        if report.ok:
            console.print(
                f"[green]{title} OK[/green]: {report.accounts_checked} accounts, "
                f"{report.entries_checked} entries checked"
            )
        else:
            bad = True
            console.print(f"[red]{title}: {len(report.problems)} problem(s)[/red]")
            for p in report.problems:
                console.print(f"  - {p}", highlight=False)
    periods = ledger().verify_periods()
    if periods.ok:
        checked = periods.periods_checked
        console.print(f"[green]periods OK[/green]: {checked} closed periods checked")
    else:
        bad = True
        console.print(f"[red]periods: {len(periods.problems)} problem(s)[/red]")
        for p in periods.problems:
            console.print(f"  - {p}", highlight=False)
    if bad:
        raise typer.Exit(1)
