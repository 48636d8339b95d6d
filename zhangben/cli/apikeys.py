"""``zhangben apikey add|list|revoke``: API keys of integrators for the REST API."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from zhangben.access import integrators as apps
from zhangben.cli.common import access, console, err, fail, friendly, local, settings

apikey_app = typer.Typer(help="API keys of integrators for the REST API.", no_args_is_help=True)


def _restriction(values: list[str] | None) -> str:
    return "all" if values is None else ", ".join(values)


@apikey_app.command("add")
@friendly
def add(
    integrator: Annotated[
        str | None, typer.Option("--integrator", help="flag or id of an existing integrator")
    ] = None,
    new_integrator: Annotated[
        str | None, typer.Option("--new-integrator", help="create an integrator of this name")
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help="read (default), write, reconcile (核销; write implies it), force (强制核销)",
        ),
    ] = None,
    shop: Annotated[list[str] | None, typer.Option("--shop", help="limit to shop(s)")] = None,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="limit to account number(s)")
    ] = None,
    name: Annotated[str, typer.Option(help="a label for the key")] = "",
) -> None:
    """Create a key and print it ONCE (only its hash is stored)."""
    if (integrator is None) == (new_integrator is None):
        fail("give exactly one of --integrator FLAG_OR_ID and --new-integrator NAME")
    s = settings()
    cipher = apps.fernet_for(s.secret_key, s.database_url) if new_integrator is not None else None
    app, key, secret = access().add_api_key(
        integrator=integrator,
        new_integrator=new_integrator,
        cipher=cipher,
        scopes=scope or ("read",),
        shop_codes=shop or None,
        account_numbers=account or None,
        name=name,
    )
    console.print(
        f"API key {key.id} for integrator {app.id} ({app.name}, flag {app.flag}): "
        f"scopes {', '.join(key.scopes)}; shops {_restriction(shop)}; "
        f"accounts {_restriction(account)}",
        highlight=False,
    )
    console.print(f"key: {secret}", highlight=False, soft_wrap=True)
    err.print("[yellow]Store this key now: it is shown only this once.[/yellow]")


@apikey_app.command("list")
@friendly
def list_(
    integrator: Annotated[
        str | None, typer.Option("--integrator", help="only this integrator's keys")
    ] = None,
) -> None:
    """Every key (never the secret: only its public prefix)."""
    keys = access().api_keys(integrator)
    table = Table()
    for col in ("id", "integrator", "prefix", "name", "scopes", "shops", "accounts", "created"):
        table.add_column(col)
    table.add_column("status")
    for k in keys:
        table.add_row(
            str(k.id),
            f"{k.integrator_id} {k.integrator_name}",
            f"zb_{k.prefix}_…",
            k.name,
            ",".join(k.scopes),
            _restriction(k.shop_codes and list(k.shop_codes)),
            _restriction(k.account_numbers and list(k.account_numbers)),
            local(k.created_at),
            "revoked " + local(k.revoked_at) if k.revoked_at else "active",
        )
    console.print(table)


@apikey_app.command("revoke")
@friendly
def revoke(key_id: Annotated[int, typer.Argument(help="id from `apikey list`")]) -> None:
    """Revoke a key (idempotent). Servers stop accepting it within ZHANGBEN_AUTH_CACHE_SECONDS
    (5 s by default), the time each process may reuse a verified key."""
    key = access().revoke_api_key(key_id)
    console.print(f"API key {key.id} (zb_{key.prefix}_…) revoked", highlight=False)
