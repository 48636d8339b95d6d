"""``zhangben verify``: the ledger's balances and chains, and the imported bills' continuity."""

from __future__ import annotations

import importlib
import importlib.util

import typer

from zhangben.cli.common import console, friendly, ledger


@friendly
def verify_cmd() -> None:
    """Check every balance against its entries and every balance-after chain."""
    reports = [("ledger", ledger().verify())]
    for name in ("zhangben.imports.verify",):
        if importlib.util.find_spec(name.rsplit(".", 1)[0]) and importlib.util.find_spec(name):
            reports.append(("bills", importlib.import_module(name).verify_bills(ledger())))
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
    if bad:
        raise typer.Exit(1)
