"""``zhangben verify``: the one verifier's report (:mod:`zhangben.imports.verify`), rendered."""

from __future__ import annotations

import typer

from zhangben.cli.common import bill_imports, console, friendly


@friendly
def verify_cmd() -> None:
    """Check the ledger (balances, balance-after chains), the imported bills (continuity,
    their entries), the ledger's balances against the platforms' balance columns, and every
    closed period's stored figures and hash."""
    report = bill_imports().verify()
    for check in report.checks:
        if check.ok:
            counted = f"{check.rows_checked} {check.rows} checked"
            if check.accounts_checked is not None:
                counted = f"{check.accounts_checked} accounts, {counted}"
            console.print(f"[green]{check.name} OK[/green]: {counted}")
        else:
            console.print(f"[red]{check.name}: {len(check.problems)} problem(s)[/red]")
            for p in check.problems:
                console.print(f"  - {p}", highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)
