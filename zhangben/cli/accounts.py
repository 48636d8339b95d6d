"""``zhangben account add|list|show|close``: open, list, show and close accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from zhangben.cli.common import accounts_table, console, friendly, ledger, print_entries
from zhangben.core.queries import EntryFilter

account_app = typer.Typer(help="Open, list, show and close accounts.", no_args_is_help=True)


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
        accounts_table(
            lg.accounts(type=type, shop_codes=[shop] if shop else None, owner_user_id=owner_id)
        )
    )


@account_app.command("show")
@friendly
def account_show(number: str) -> None:
    """One account and its latest entries."""
    lg = ledger()
    acc = lg.account(number)
    console.print(accounts_table([acc]))
    print_entries(lg.entries(EntryFilter(account_ids=[acc.id]), limit=10).items, "latest entries")


@account_app.command("close")
@friendly
def account_close(number: str) -> None:
    """Close an account: it refuses postings and keeps its history."""
    acc = ledger().close_account(number)
    console.print(f"account {acc.number} is {acc.status}")
