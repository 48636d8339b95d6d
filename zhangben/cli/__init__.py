"""The operators' command line (Typer + Rich). Every command prints one clear line and exits
non-zero when the ledger refuses it.

This module is the table of contents: each command and group is registered here by name, from
the module that owns it."""

from __future__ import annotations

from typing import Annotated

import typer

from zhangben.cli import (
    accounts,
    apikeys,
    apps,
    chart,
    imports,
    periods,
    postings,
    recon,
    reports,
    serve,
    users,
    verify,
    vouchers,
)
from zhangben.cli.common import state

app = typer.Typer(
    help="zhangben (账本): accounts and their flows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main_callback(
    database_url: Annotated[
        str | None,
        typer.Option("--db", envvar="ZHANGBEN_DATABASE_URL", help="SQLAlchemy URL of the ledger"),
    ] = None,
) -> None:
    # The settings are read when a command first needs them (common.settings), so that a bad
    # one is one line and exit code 2 there, and `--help` still works.
    state.database_url = database_url or None
    state.settings = None
    state.ledger = None


# Commands, then groups, in the order `zhangben --help` lists them.
app.command("transfer")(postings.transfer)
app.command("reverse")(postings.reverse)
app.command("flows")(postings.flows)
app.command("find")(postings.find)
app.command("balance")(postings.balance)
app.command("verify")(verify.verify_cmd)
app.command("demo")(serve.demo)
app.command("serve")(serve.serve)
app.command("call")(apps.call)
app.command("sign")(apps.sign)
app.command("import")(imports.import_command)
app.command("imports")(imports.imports_command)
app.command("import-samples")(imports.import_samples_command)
app.add_typer(serve.db_app, name="db")
app.add_typer(accounts.account_app, name="account")
app.add_typer(postings.post_app, name="post")
app.add_typer(chart.chart_app, name="chart")
app.add_typer(apps.app_app, name="app")
app.add_typer(users.user_app, name="user")
app.add_typer(apikeys.apikey_app, name="apikey")
app.add_typer(imports.rules_app, name="import-rules")
app.add_typer(reports.report_app, name="report")
app.add_typer(reports.summaries_app, name="summaries")
app.add_typer(periods.period_app, name="period")
app.add_typer(recon.recon_app, name="recon")
app.add_typer(vouchers.voucher_app, name="voucher")


def main() -> None:
    app()
