"""``zhangben chart list|add``: the categories and subjects (类目/科目) of the chart."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from zhangben.cli.common import console, friendly, ledger

chart_app = typer.Typer(help="Categories and subjects (类目/科目).", no_args_is_help=True)


@chart_app.command("list")
@friendly
def chart_list() -> None:
    """The categories and their subjects."""
    table = Table()
    for col in ("id", "category", "subject", "kind"):
        table.add_column(col)
    for c in ledger().chart():
        table.add_row(str(c.id), c.name, "", c.kind)
        for s in c.subjects:
            table.add_row(str(s.id), "", s.name, s.kind)
    console.print(table)


@chart_app.command("add")
@friendly
def chart_add(
    name: str,
    kind: str = "any",
    parent: Annotated[int | None, typer.Option(help="category id: adds a subject")] = None,
) -> None:
    """Add a category, or a subject under --parent."""
    item = ledger().add_chart_item(name=name, kind=kind, parent_id=parent)
    console.print(f"added {'subject' if item.parent_id else 'category'} {item.id} {item.name}")
