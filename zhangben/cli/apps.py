"""Commands of the signed open API: ``zhangben app …`` (integrators), ``zhangben call`` and
``zhangben sign --explain`` (the integrator's tools)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote_plus

import typer
from rich.table import Table

from zhangben.access import integrators as apps
from zhangben.cli.common import access, console, err, fail, friendly, local, settings
from zhangben.shopex.wire.forms import parse_php_fields
from zhangben.shopex.wire.numbers import dumps
from zhangben.shopex.wire.signature import explain

app_app = typer.Typer(
    help="Integrators (apps) of the open APIs: flag, token, grants.", no_args_is_help=True
)

Ref = Annotated[str, typer.Argument(help="flag or id of the app")]
Csv = str | None


def _cipher():
    s = settings()
    return apps.fernet_for(s.secret_key, s.database_url)


def _csv(value: Csv) -> list[str] | None:
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def _all_or(value: Csv, everything: bool):
    """For grant: ``--all-…`` lifts the restriction (None), a list sets it, else unchanged."""
    if everything:
        return None
    return apps.UNSET if value is None else _csv(value)


def _show_list(values) -> str:
    return "all" if values is None else ", ".join(values) or "(none)"


def _print_app(a: apps.Integrator) -> None:
    console.print(f"app {a.id}: {a.name}", highlight=False)
    rows = [
        ("flag", a.flag),
        ("enabled", "yes" if a.enabled else "no (disabled)"),
        ("methods", ", ".join(a.methods) or "(none)"),
        ("shops", _show_list(a.shop_codes)),
        ("accounts", _show_list(a.account_numbers)),
        ("ip allow-list", "any address" if a.ip_allow is None else ", ".join(a.ip_allow)),
        ("data masking", "on" if a.data_mask else "off"),
        ("rate limit", f"{a.rate_limit_per_minute}/min" if a.rate_limit_per_minute else "none"),
        ("response style", a.response_style),
        ("created", local(a.created_at)),
        ("token rotated", local(a.token_rotated_at) if a.token_rotated_at else "never"),
    ]
    for key, value in rows:
        console.print(f"  {key:15} {value}", highlight=False)


def _print_token(flag: str, token: str) -> None:
    console.print(f"flag:  {flag}", highlight=False)
    console.print(f"token: {token}", highlight=False)
    err.print(
        "[yellow]Store this token now: it is shown only this once "
        "(`zhangben app rotate-token` makes a new one).[/yellow]"
    )
    if not settings().secret_key:
        err.print(
            "[yellow]ZHANGBEN_SECRET_KEY is not set: the token is encrypted with a key derived "
            "from the database URL, which is fine for a demo only.[/yellow]"
        )


@app_app.command("add")
@friendly
def app_add(
    name: Annotated[str, typer.Argument(help="who the app belongs to, e.g. 'ERP 用友'")],
    flag: Annotated[str | None, typer.Option(help="the flag (default: generated)")] = None,
    methods: Annotated[str, typer.Option(help="granted methods, comma-separated")] = "*",
    shops: Annotated[Csv, typer.Option(help="visible shop codes (default: all)")] = None,
    accounts: Annotated[Csv, typer.Option(help="visible account numbers (default: all)")] = None,
    ip: Annotated[Csv, typer.Option(help="allowed addresses/networks (default: any)")] = None,
    mask: Annotated[bool, typer.Option("--mask/--no-mask", help="mask names, remarks")] = False,
    rate: Annotated[int | None, typer.Option(help="calls per minute (default: no limit)")] = None,
    style: Annotated[str, typer.Option(help="response style: seed or shopex")] = "seed",
) -> None:
    """Create an app; prints its flag and its token (once)."""
    created, token = access().add_integrator(
        name=name,
        cipher=_cipher(),
        flag=flag,
        methods=_csv(methods) or [],
        shop_codes=_csv(shops),
        account_numbers=_csv(accounts),
        ip_allow=_csv(ip),
        data_mask=mask,
        rate_limit_per_minute=rate,
        response_style=style,
    )
    console.print(f"app {created.id} created: {created.name}", highlight=False)
    _print_token(created.flag, token)


@app_app.command("list")
@friendly
def app_list() -> None:
    """Every app (never their tokens)."""
    found = access().integrators()
    table = Table()
    for col in ("id", "name", "flag", "enabled", "methods", "shops", "accounts", "style"):
        table.add_column(col)
    for a in found:
        table.add_row(
            str(a.id),
            a.name,
            a.flag,
            "yes" if a.enabled else "no",
            ", ".join(a.methods),
            _show_list(a.shop_codes),
            _show_list(a.account_numbers),
            a.response_style,
        )
    console.print(table)


@app_app.command("show")
@friendly
def app_show(ref: Ref) -> None:
    """One app's settings (not its token)."""
    _print_app(access().integrator(ref))


@app_app.command("disable")
@friendly
def app_disable(ref: Ref) -> None:
    """Refuse the app's calls from now on (1001 / e000004)."""
    a = access().set_integrator_enabled(ref, False)
    console.print(f"app {a.flag} disabled", highlight=False)


@app_app.command("enable")
@friendly
def app_enable(ref: Ref) -> None:
    a = access().set_integrator_enabled(ref, True)
    console.print(f"app {a.flag} enabled", highlight=False)


@app_app.command("rotate-token")
@friendly
def app_rotate(ref: Ref) -> None:
    """Replace the token at once; prints the new one (once)."""
    service = access()
    token = service.rotate_token(ref, _cipher())
    flag = service.integrator(ref).flag
    _print_token(flag, token)


@app_app.command("grant")
@friendly
def app_grant(
    ref: Ref,
    methods: Annotated[Csv, typer.Option(help="granted methods, comma-separated")] = None,
    shops: Annotated[Csv, typer.Option(help="visible shop codes")] = None,
    all_shops: Annotated[bool, typer.Option("--all-shops")] = False,
    accounts: Annotated[Csv, typer.Option(help="visible account numbers")] = None,
    all_accounts: Annotated[bool, typer.Option("--all-accounts")] = False,
    ip: Annotated[Csv, typer.Option(help="allowed addresses/networks")] = None,
    any_ip: Annotated[bool, typer.Option("--any-ip")] = False,
    mask: Annotated[bool | None, typer.Option("--mask/--no-mask")] = None,
    rate: Annotated[int | None, typer.Option(help="calls per minute")] = None,
    no_rate: Annotated[bool, typer.Option("--no-rate")] = False,
    style: Annotated[str | None, typer.Option(help="seed or shopex")] = None,
) -> None:
    """Change what an app may call and see; options not given stay as they are."""
    changes = dict(
        methods=apps.UNSET if methods is None else _csv(methods),
        shop_codes=_all_or(shops, all_shops),
        account_numbers=_all_or(accounts, all_accounts),
        ip_allow=_all_or(ip, any_ip),
        data_mask=apps.UNSET if mask is None else mask,
        rate_limit_per_minute=None if no_rate else (apps.UNSET if rate is None else rate),
        response_style=apps.UNSET if style is None else style,
    )
    a = access().grant(ref, **changes)
    _print_app(a)


def _params(pairs: list[str]) -> dict:
    """``key=value`` words into the PHP-style array (``a[b]=c`` nests)."""
    parsed = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"{pair!r} is not key=value")
        parsed.append((key, value))
    return parse_php_fields(parsed)


def call(
    method: Annotated[str, typer.Argument(help="class.method, e.g. finance.getAccountBalance")],
    params: Annotated[list[str] | None, typer.Argument(help="key=value parameters")] = None,
    url: Annotated[
        str, typer.Option(envvar="ZHANGBEN_URL", help="the server")
    ] = "http://127.0.0.1:8000",
    flag: Annotated[str, typer.Option(envvar="ZHANGBEN_FLAG", help="your app's flag")] = "",
    token: Annotated[str, typer.Option(envvar="ZHANGBEN_TOKEN", help="your app's token")] = "",
) -> None:
    """Sign and call a method of the open API; prints the data as JSON."""
    import httpx

    from zhangben.sdk import ShopexClient, ShopexError, SignatureError

    if not flag or not token:
        fail("give --flag and --token (or set ZHANGBEN_FLAG and ZHANGBEN_TOKEN)")
    try:
        with ShopexClient(url, flag, token) as client:
            data = client.call(method, _params(params or []))
    except SignatureError as exc:
        fail(f"{exc} (server concatenation: {exc.server_concatenation})")
    except ShopexError as exc:
        fail(str(exc))
    except (httpx.HTTPError, ValueError, TypeError) as exc:
        fail(f"cannot call {url}: {exc}")
    typer.echo(dumps(data).decode("utf-8"))


def sign(
    params: Annotated[list[str] | None, typer.Argument(help="key=value parameters")] = None,
    token: Annotated[str, typer.Option(envvar="ZHANGBEN_TOKEN", help="the app's token")] = "",
    show: Annotated[bool, typer.Option("--explain", help="show every step")] = False,
    decode: Annotated[
        bool, typer.Option("--urldecode", help="values are URL-encoded (as copied from a body)")
    ] = False,
) -> None:
    """Compute the sign of key=value parameters (``sign`` itself is ignored)."""
    if not token:
        fail("give --token (or set ZHANGBEN_TOKEN)")
    words = [unquote_plus(p) for p in params or []] if decode else list(params or [])
    steps = explain(_params(words), token)
    if not show:
        typer.echo(steps["sign"])
        return
    typer.echo(f"concatenation: {steps['concatenation']}")
    typer.echo(f"inner md5:     {steps['inner_md5']}  (MD5 of the concatenation, upper-case)")
    typer.echo(f"sign:          {steps['sign']}  (MD5 of inner md5 + token, upper-case)")
    if steps["token_in_params"]:
        err.print("[yellow]warning: the token travels as a parameter; it is secret.[/yellow]")
