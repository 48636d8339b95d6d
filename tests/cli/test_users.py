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
    assert "must be one of staff, user" in bad_role.output
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
