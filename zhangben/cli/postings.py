"""Postings and what they leave behind: ``zhangben post income|expense``, ``transfer``,
``reverse``, ``flows`` and ``balance``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from zhangben.cli.common import (
    accounts_table,
    balances_table,
    console,
    fail,
    friendly,
    ledger,
    local,
    money,
    parse_day_or_time,
    parse_time,
    print_entries,
    print_result,
)
from zhangben.core.queries import EntryFilter

post_app = typer.Typer(help="Post income or expense.", no_args_is_help=True)

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


@friendly
def flows(
    account: Annotated[list[str] | None, typer.Option(help="account number (repeatable)")] = None,
    start: Annotated[str | None, typer.Option(help="from this time (inclusive)")] = None,
    end: Annotated[str | None, typer.Option(help="until this time (exclusive)")] = None,
    type: Annotated[list[str] | None, typer.Option(help="income, expense, transfer_in, …")] = None,
    shop: Annotated[list[str] | None, typer.Option(help="shop code (repeatable)")] = None,
    source: Annotated[list[str] | None, typer.Option()] = None,
    category: Annotated[list[int] | None, typer.Option()] = None,
    trade_no: Annotated[str | None, typer.Option(help="trade number (交易号)")] = None,
    external_id: Annotated[
        str | None, typer.Option(help="platform flow number (账务流水号) or external id")
    ] = None,
    order_no: Annotated[str | None, typer.Option(help="merchant order number (商户订单号)")] = None,
    counterparty: Annotated[str | None, typer.Option(help="counterparty (对方), exactly")] = None,
    find: Annotated[
        str | None, typer.Option(help="any of trade no, external id, order no, counterparty")
    ] = None,
    export: Annotated[
        str | None, typer.Option(help="write every match to this .csv or .xlsx file")
    ] = None,
    force: Annotated[bool, typer.Option(help="let --export replace an existing file")] = False,
    page: int = 1,
    size: int = 20,
) -> None:
    """The flow (流水), newest first; or every match exported to a file."""
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
        trade_no=trade_no,
        external_id=external_id,
        order_no=order_no,
        counterparty=counterparty,
        find=find,
    )
    if export is not None:
        from zhangben.cli.exports import export_to_file  # the writers: for --export alone

        export_to_file(f, export, force=force)
        return
    result = ledger().entries(f, limit=size, offset=(page - 1) * size)
    print_entries(result.items, f"page {page}, {result.total} entries in all")


@friendly
def find(
    text: Annotated[
        str, typer.Argument(help="trade number, platform flow number, order number or counterparty")
    ],
    size: Annotated[int, typer.Option(help="show at most this many")] = 100,
) -> None:
    """Find a flow: the entries whose trade number (交易号), platform flow number (账务流水号)
    or external id, merchant order number (商户订单号) or counterparty (对方) is TEXT."""
    if not 1 <= size <= 1000:
        fail("size must be 1..1000")
    result = ledger().entries(EntryFilter(find=text), limit=size)
    print_entries(result.items, f"{result.total} entries match {text!r}")


@friendly
def balance(
    account: Annotated[str | None, typer.Argument(help="account number (all when omitted)")] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="a day (its closing balance: 2024-01-31) or an instant"),
    ] = None,
    type: str | None = None,
    shop: str | None = None,
) -> None:
    """Current balances, or balances as of a day (its end) or an instant."""
    lg = ledger()
    shops = [shop] if shop else None
    if as_of:
        when = parse_day_or_time(as_of, "as_of")
        shown = local(when) if isinstance(when, datetime) else f"{when.isoformat()} (end of day)"
        if account:
            amount = money(lg.balance_as_of(account, when))
            console.print(f"{account} balance as of {shown}: {amount}")
            return
        found = lg.balances_as_of(when, type=type, shop_codes=shops)
        console.print(balances_table(found, f"balances as of {shown}"))
        return
    rows = [lg.account(account)] if account else lg.accounts(type=type, shop_codes=shops)
    console.print(accounts_table(rows))
