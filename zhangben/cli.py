"""The operators' command line (Typer + Rich). Every command prints one clear line and exits
non-zero when the ledger refuses it."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Annotated

import typer
from rich.table import Table

from zhangben.commands.common import (
    console,
    fail,
    friendly,
    ledger,
    local,
    money,
    parse_time,
    print_entries,
    print_result,
    settings,
    state,
)
from zhangben.core.queries import EntryFilter
from zhangben.settings import get_settings
from zhangben.store.engine import make_engine
from zhangben.store.migrate import upgrade

app = typer.Typer(
    help="zhangben (账本): accounts and their flows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
account_app = typer.Typer(help="Open, list, show and close accounts.", no_args_is_help=True)
post_app = typer.Typer(help="Post income or expense.", no_args_is_help=True)
chart_app = typer.Typer(help="Categories and subjects (类目/科目).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(account_app, name="account")
app.add_typer(post_app, name="post")
app.add_typer(chart_app, name="chart")

#: Feature command modules (each has ``register(app)``), added as the features land.
FEATURE_COMMANDS = (
    "zhangben.commands.shopex",
    "zhangben.commands.users",
    "zhangben.commands.apikeys",
    "zhangben.commands.imports",
)


@app.callback()
def main_callback(
    database_url: Annotated[
        str | None,
        typer.Option("--db", envvar="ZHANGBEN_DATABASE_URL", help="SQLAlchemy URL of the ledger"),
    ] = None,
) -> None:
    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    state.settings = settings
    state.ledger = None


# -- db ---------------------------------------------------------------------------------------


@db_app.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Apply every migration that is missing (safe to run again)."""
    engine = make_engine(settings().database_url)
    upgrade(engine)
    console.print(f"schema up to date ({engine.url.render_as_string(hide_password=True)})")


# -- accounts ---------------------------------------------------------------------------------


@account_app.command("add")
@friendly
def account_add(
    number: str,
    name: str,
    type: Annotated[
        str, typer.Option(help="main, backup, merchant, alipay, wechat, jd_wallet, jzt, …")
    ] = "main",
    currency: str = "CNY",
    shop: Annotated[str | None, typer.Option(help="shop code")] = None,
    owner: Annotated[str | None, typer.Option(help="owner's username")] = None,
    overdraft: Annotated[bool, typer.Option(help="may the balance go below zero")] = False,
) -> None:
    """Open an account."""
    lg = ledger()
    owner_id = lg.user(owner).id if owner else None
    acc = lg.open_account(
        number=number,
        name=name,
        type=type,
        currency=currency,
        shop_code=shop,
        owner_user_id=owner_id,
        allow_overdraft=overdraft,
    )
    console.print(f"opened account {acc.number} ({acc.name}), id {acc.id}")


def _accounts_table(accounts) -> Table:
    table = Table()
    for col in ("id", "number", "name", "type", "shop", "currency", "balance", "status"):
        table.add_column(col, justify="right" if col in ("id", "balance") else "left")
    for a in accounts:
        table.add_row(
            str(a.id),
            a.number,
            a.name,
            a.type,
            a.shop_code or "",
            a.currency,
            money(a.balance),
            a.status + (" (overdraft)" if a.allow_overdraft else ""),
        )
    return table


@account_app.command("list")
@friendly
def account_list(
    type: str | None = None,
    shop: str | None = None,
    owner: Annotated[str | None, typer.Option(help="owner's username")] = None,
) -> None:
    """List accounts with their balances."""
    lg = ledger()
    owner_id = lg.user(owner).id if owner else None
    console.print(
        _accounts_table(
            lg.accounts(type=type, shop_codes=[shop] if shop else None, owner_user_id=owner_id)
        )
    )


@account_app.command("show")
@friendly
def account_show(number: str) -> None:
    """One account and its latest entries."""
    lg = ledger()
    acc = lg.account(number)
    console.print(_accounts_table([acc]))
    print_entries(lg.entries(EntryFilter(account_ids=[acc.id]), limit=10).items, "latest entries")


@account_app.command("close")
@friendly
def account_close(number: str) -> None:
    """Close an account: it refuses postings and keeps its history."""
    acc = ledger().close_account(number)
    console.print(f"account {acc.number} is {acc.status}")


# -- postings ---------------------------------------------------------------------------------

TradeNo = Annotated[str | None, typer.Option(help="trade number; also the idempotency key")]
When = Annotated[str | None, typer.Option("--time", help="trade time, e.g. '2024-01-31 10:00:00'")]


def _operator(name: str | None) -> int | None:
    return ledger().user(name).id if name else None


def _post(
    kind: str,
    account: str,
    amount: str,
    trade_no,
    time,
    category,
    subject,
    counterparty,
    description,
    remark,
    source,
    external_id,
    key,
    operator,
) -> None:
    lg = ledger()
    method = lg.income if kind == "income" else lg.expense
    print_result(
        method(
            account,
            amount,
            trade_no=trade_no,
            trade_time=parse_time(time),
            category_id=category,
            subject_id=subject,
            counterparty=counterparty,
            description=description,
            remark=remark,
            source=source,
            external_id=external_id,
            idempotency_key=key,
            operator_id=_operator(operator),
        )
    )


def _make_post_command(kind: str):
    @friendly
    def command(
        account: str,
        amount: str,
        trade_no: TradeNo = None,
        time: When = None,
        category: int | None = None,
        subject: int | None = None,
        counterparty: str | None = None,
        description: str = "",
        remark: str = "",
        source: str = "manual",
        external_id: str | None = None,
        key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
        operator: Annotated[str | None, typer.Option(help="operator's username")] = None,
    ) -> None:
        _post(
            kind,
            account,
            amount,
            trade_no,
            time,
            category,
            subject,
            counterparty,
            description,
            remark,
            source,
            external_id,
            key,
            operator,
        )

    command.__doc__ = f"Post {kind} to ACCOUNT (AMOUNT is a decimal like 12.34)."
    return command


post_app.command("income")(_make_post_command("income"))
post_app.command("expense")(_make_post_command("expense"))


@app.command("transfer")
@friendly
def transfer(
    source: str,
    target: str,
    amount: str,
    trade_no: TradeNo = None,
    time: When = None,
    description: str | None = None,
    remark: str = "",
    key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    operator: Annotated[str | None, typer.Option(help="operator's username")] = None,
) -> None:
    """Move AMOUNT from SOURCE to TARGET: two entries, one atomic step."""
    print_result(
        ledger().transfer(
            source,
            target,
            amount,
            trade_no=trade_no,
            trade_time=parse_time(time),
            description=description,
            remark=remark,
            idempotency_key=key,
            operator_id=_operator(operator),
        )
    )


@app.command("reverse")
@friendly
def reverse(
    entry_id: Annotated[int | None, typer.Argument(help="entry to reverse")] = None,
    transfer_id: Annotated[
        int | None, typer.Option("--transfer", help="reverse a whole transfer")
    ] = None,
    description: str | None = None,
    key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    operator: Annotated[str | None, typer.Option(help="operator's username")] = None,
) -> None:
    """Cancel an entry (or a whole transfer) with a reversing entry; nothing is edited."""
    if (entry_id is None) == (transfer_id is None):
        fail("give either an ENTRY_ID or --transfer ID")
    lg = ledger()
    kw = dict(description=description, idempotency_key=key, operator_id=_operator(operator))
    result = (
        lg.reverse_entry(entry_id, **kw)
        if entry_id is not None
        else lg.reverse_transfer(transfer_id, **kw)
    )
    print_result(result)


# -- queries ----------------------------------------------------------------------------------


@app.command("flows")
@friendly
def flows(
    account: Annotated[list[str] | None, typer.Option(help="account number (repeatable)")] = None,
    start: Annotated[str | None, typer.Option(help="from this time (inclusive)")] = None,
    end: Annotated[str | None, typer.Option(help="until this time (exclusive)")] = None,
    type: Annotated[list[str] | None, typer.Option(help="income, expense, transfer_in, …")] = None,
    shop: Annotated[list[str] | None, typer.Option(help="shop code (repeatable)")] = None,
    source: Annotated[list[str] | None, typer.Option()] = None,
    category: Annotated[list[int] | None, typer.Option()] = None,
    page: int = 1,
    size: int = 20,
) -> None:
    """The flow (流水), newest first."""
    if page < 1 or not 1 <= size <= 1000:
        fail("page must be ≥ 1 and size 1..1000")
    f = EntryFilter(
        account_numbers=account or None,
        start=parse_time(start, "start"),
        end=parse_time(end, "end"),
        types=type,
        shop_codes=shop or None,
        sources=source,
        category_ids=category,
    )
    result = ledger().entries(f, limit=size, offset=(page - 1) * size)
    print_entries(result.items, f"page {page}, {result.total} entries in all")


@app.command("balance")
@friendly
def balance(
    account: Annotated[str | None, typer.Argument(help="account number (all when omitted)")] = None,
    as_of: Annotated[str | None, typer.Option(help="balance at this instant")] = None,
    type: str | None = None,
    shop: str | None = None,
) -> None:
    """Current balances, or one account's balance as of an instant."""
    lg = ledger()
    if as_of:
        if not account:
            fail("--as-of needs an ACCOUNT")
        when = parse_time(as_of, "as_of")
        console.print(
            f"{account} balance as of {local(when)}: {money(lg.balance_as_of(account, when))}"
        )
        return
    rows = (
        [lg.account(account)]
        if account
        else lg.accounts(type=type, shop_codes=[shop] if shop else None)
    )
    console.print(_accounts_table(rows))


@app.command("verify")
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


@app.command("demo")
@friendly
def demo() -> None:
    """Load the small demo ledger into an empty database."""
    from zhangben.demo import load_demo

    if load_demo(ledger()):
        console.print("demo ledger loaded")
    else:
        console.print("the ledger already has accounts; demo not loaded")


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: int = 1,
    demo_data: Annotated[
        bool, typer.Option("--demo", help="load the demo ledger if empty")
    ] = False,
) -> None:
    """Run the HTTP service (Swagger UI at /docs)."""
    import os

    import uvicorn

    s = settings()
    lg = ledger()
    if demo_data:
        from zhangben.demo import load_demo

        load_demo(lg)
    os.environ["ZHANGBEN_DATABASE_URL"] = s.database_url
    host, port = host or s.host, port or s.port
    console.print(
        f"zhangben serving {lg.engine.url.render_as_string(hide_password=True)} "
        f"on http://{host}:{port} (docs: http://{host}:{port}/docs)"
    )
    config = uvicorn.Config(
        "zhangben.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )
    if workers > 1:
        # uvicorn binds the shared socket with protocol 0, so asyncio never sets TCP_NODELAY
        # on its connections and every keep-alive response waits for a delayed ACK (~40 ms);
        # bind it ourselves as an explicit TCP socket instead.
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[_tcp_listener(host, port)]).run()
    else:
        uvicorn.Server(config).run()


def _tcp_listener(host: str, port: int):
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _register_features() -> None:
    for name in FEATURE_COMMANDS:
        if importlib.util.find_spec(name):
            importlib.import_module(name).register(app)


_register_features()


def main() -> None:
    app()
