"""`zhangben user …` through Typer's runner, then the 壹川 login with what it set up."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.yichuan.support import (
    accountlog,
    cheap_argon2,  # noqa: F401 - autouse fixture
    login,
    token_of,
)
from zhangben.cli import app

runner = CliRunner()


@pytest.fixture
def cli(db_url):
    def run(*args: str, ok: bool = True, input: str | None = None):
        result = runner.invoke(app, ["--db", db_url, *args], input=input)
        if ok:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code != 0, result.output
        return result

    return run


def test_user_administration_from_the_cli(cli, client, ledger):
    cli("account", "add", "0000000000000002", "商户账户", "--type", "merchant")
    out = cli(
        "user",
        "add",
        "boss",
        "--role",
        "staff",
        "--name",
        "财务主管",
        input="pw-boss-1\npw-boss-1\n",
    ).output
    assert "added staff boss (财务主管)" in out
    assert "Password" in out and "pw-boss-1" not in out  # asked for, hidden
    cli("user", "add", "shop1", "--password", "pw-shop-1")
    assert (
        "already exists" in cli("user", "add", "shop1", "--password", "pw-shop-1", ok=False).output
    )
    assert "8-1024" in cli("user", "add", "shop2", "--password", "short", ok=False).output
    bad_role = cli("user", "add", "x", "--role", "boss", "--password", "long-enough", ok=False)
    assert "must be one of viewer, clerk, supervisor, admin, staff, user" in bad_role.output
    cli("user", "add", "shop3", ok=False, input="pw-shop-3\nnot-the-same\n")

    assert (
        "shop1 now owns account 0000000000000002"
        in cli("user", "grant-account", "shop1", "0000000000000002").output
    )
    listing = cli("user", "list").output
    assert "boss" in listing and "财务主管" in listing and "0000000000000002" in listing
    assert "shop3" not in listing

    shop_token = token_of(client, "shop1", "pw-shop-1")
    assert accountlog(client, shop_token)["code"] == 0

    cli("user", "passwd", "shop1", input="pw-shop-new\npw-shop-new\n")
    assert accountlog(client, shop_token)["code"] == 40101
    assert login(client, "shop1", "pw-shop-1")["code"] == 40102
    shop_token = token_of(client, "shop1", "pw-shop-new")

    assert "disabled" in cli("user", "disable", "shop1").output
    assert accountlog(client, shop_token)["code"] == 40101
    assert " no " in cli("user", "list").output
    cli("user", "enable", "shop1")
    assert login(client, "shop1", "pw-shop-new")["code"] == 0

    assert "does not exist" in cli("user", "disable", "ghost", ok=False).output
    assert "does not exist" in cli("user", "grant-account", "shop1", "NOPE", ok=False).output


def test_user_unlock_lifts_a_login_lock(cli, client):
    """`zhangben user unlock USERNAME [--ip ADDR]`, and `--ip ADDR` alone for an address's own
    lock (issue 14, point 15)."""
    from fastapi.testclient import TestClient

    cli("user", "add", "shop1", "--password", "pw-shop-1")
    office, home = (TestClient(client.app, client=(ip, 50000)) for ip in ("10.0.0.1", "10.0.0.2"))
    for caller in (office, home):
        for _ in range(5):
            login(caller, "shop1", "bad-guess")
        assert login(caller, "shop1", "pw-shop-1")["code"] == 40103
    out = cli("user", "unlock", "shop1", "--ip", "10.0.0.1").output
    assert "forgot 5 failed login(s) of shop1 from 10.0.0.1; shop1 is unlocked at 10.0.0.1" in out
    assert login(office, "shop1", "pw-shop-1")["code"] == 0
    assert login(home, "shop1", "pw-shop-1")["code"] == 40103
    assert (
        "forgot 5 failed login(s) of shop1; shop1 is unlocked"
        in cli("user", "unlock", "shop1").output
    )
    assert login(home, "shop1", "pw-shop-1")["code"] == 0
    assert "forgot 0 failed login(s)" in cli("user", "unlock", "shop1").output

    sprayer = TestClient(client.app, client=("192.0.2.7", 50000))
    for i in range(30):
        login(sprayer, f"name{i}", "spray")
    assert login(sprayer, "shop1", "pw-shop-1")["code"] == 40103
    out = cli("user", "unlock", "shop1", "--ip", "192.0.2.7").output
    assert "192.0.2.7 itself is still locked for 1" in out
    assert "`zhangben user unlock --ip 192.0.2.7` lifts that too" in out
    out = cli("user", "unlock", "--ip", "192.0.2.7").output
    assert "forgot 30 failed login(s) from 192.0.2.7; 192.0.2.7 is unlocked" in out
    assert login(sprayer, "shop1", "pw-shop-1")["code"] == 0
    assert "give a USERNAME, --ip ADDR, or both" in cli("user", "unlock", ok=False).output


def test_roles_from_the_cli(cli, client, ledger):
    cli("user", "add", "cashier", "--role", "clerk", "--password", "pw-cashier-1")
    assert ledger.user("cashier").role == "clerk" and ledger.user("cashier").can("clerk")
    token = token_of(client, "cashier", "pw-cashier-1")
    assert "cashier is now supervisor" in cli("user", "role", "cashier", "supervisor").output
    assert ledger.user("cashier").can("supervisor") and not ledger.user("cashier").can("admin")
    assert accountlog(client, token)["code"] == 40101  # a new role: log in again
    assert "must be one of" in cli("user", "role", "cashier", "boss", ok=False).output
    assert ledger.user("cashier").role == "supervisor"
    assert "does not exist" in cli("user", "role", "ghost", "viewer", ok=False).output
