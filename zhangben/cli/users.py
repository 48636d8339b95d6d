"""`zhangben user …`: the people who log in to the 壹川 API (staff and merchants)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from zhangben.access.sessions import wait_text
from zhangben.cli.common import access, console, fail, friendly, ledger
from zhangben.core.roles import STORED as ROLES

user_app = typer.Typer(
    help=(
        "Users and their roles: viewer, clerk, supervisor, admin (finance staff, every account);"
        " user (a merchant: the accounts they own); staff (older name of admin)."
    ),
    no_args_is_help=True,
)

Password = Annotated[
    str,
    typer.Option(
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="asked for (hidden, twice) when not given",
    ),
]


@user_app.command("add")
@friendly
def user_add(
    username: str,
    password: Password,
    name: Annotated[str, typer.Option(help="display name")] = "",
    role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLES)}")] = "user",
) -> None:
    """Add a user who can log in."""
    user = access().add_user(username=username, display_name=name, role=role, password=password)
    console.print(f"added {user.role} {user.username} ({user.display_name}), id {user.id}")


@user_app.command("list")
@friendly
def user_list() -> None:
    """Every user with their role, state and owned accounts."""
    lg = ledger()
    owned: dict[int, list[str]] = {}
    for account in lg.accounts():
        if account.owner_user_id is not None:
            owned.setdefault(account.owner_user_id, []).append(account.number)
    table = Table()
    for col in ("id", "username", "name", "role", "enabled", "accounts"):
        table.add_column(col, justify="right" if col == "id" else "left")
    for u in lg.users():
        table.add_row(
            str(u.id),
            u.username,
            u.display_name,
            u.role,
            "yes" if u.enabled else "no",
            ", ".join(owned.get(u.id, [])),
        )
    console.print(table)


@user_app.command("role")
@friendly
def user_role(
    username: str,
    role: Annotated[str, typer.Argument(help=f"one of {', '.join(ROLES)}")],
) -> None:
    """Give a user another role; their sessions end (they log in again with it)."""
    user = access().set_role(username, role)
    console.print(f"{user.username} is now {user.role}; their sessions are revoked")


@user_app.command("passwd")
@friendly
def user_passwd(username: str, password: Password) -> None:
    """Set a user's password (their sessions are revoked)."""
    access().set_password(username, password)
    console.print(f"password of {username} changed; their sessions are revoked")


@user_app.command("disable")
@friendly
def user_disable(username: str) -> None:
    """Stop a user from logging in; their sessions end at once."""
    access().set_user_enabled(username, False)
    console.print(f"{username} is disabled; their sessions are revoked")


@user_app.command("enable")
@friendly
def user_enable(username: str) -> None:
    """Let a disabled user log in again."""
    access().set_user_enabled(username, True)
    console.print(f"{username} is enabled")


@user_app.command("grant-account")
@friendly
def user_grant_account(username: str, account: str) -> None:
    """Make USERNAME the owner of ACCOUNT (an account number)."""
    acc = access().grant_account(username, account)
    console.print(f"{username} now owns account {acc.number} ({acc.name})")


@user_app.command("unlock")
@friendly
def user_unlock(
    username: Annotated[
        str | None, typer.Argument(help="whose failed logins to forget (all when omitted)")
    ] = None,
    ip: Annotated[str | None, typer.Option("--ip", help="only those from this address")] = None,
) -> None:
    """Lift a login lock at once: forget USERNAME's failed logins (from --ip ADDR only), or,
    with --ip alone, every failed login from that address."""
    if username is None and ip is None:
        fail("give a USERNAME, --ip ADDR, or both")
    forgotten = access().unlock_logins(username, ip)
    where = f" from {ip}" if ip else ""
    if username is None:
        console.print(f"forgot {forgotten} failed login(s){where}; {ip} is unlocked")
    else:
        console.print(
            f"forgot {forgotten} failed login(s) of {username}{where}; {username} is unlocked"
            + (f" at {ip}" if ip else "")
        )
    if username is not None and ip is not None:
        lock = access().login_lock(username, ip)
        if lock is not None and lock.address_wide:
            wait = int((lock.until - datetime.now(UTC)).total_seconds())
            console.print(
                f"{ip} itself is still locked for {wait_text(wait)} by failed logins of other "
                f"usernames: `zhangben user unlock --ip {ip}` lifts that too"
            )
