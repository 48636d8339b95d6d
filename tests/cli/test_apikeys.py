"""``zhangben apikey add|list|revoke`` and the key it prints working over HTTP."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from tests.api.support import bearer
from zhangben.cli import app

runner = CliRunner()


def test_apikey_commands(db_url, client):
    def cli(*args, ok=True):
        result = runner.invoke(app, ["--db", db_url, *args])
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    out = cli("apikey", "add", "--new-integrator", "ERP", "--scope", "read", "--scope", "write")
    secret = re.search(r"key: (zb_\S+)", out).group(1)
    assert "scopes read, write" in out
    assert (
        client.post(
            "/api/v1/accounts", json={"number": "C1", "name": "c"}, headers=bearer(secret)
        ).status_code
        == 201
    )
    flag = re.search(r"flag (\S+)\)", out).group(1)
    out = cli("apikey", "add", "--integrator", flag, "--shop", "S001", "--name", "shop one")
    reader = re.search(r"key: (zb_\S+)", out).group(1)
    assert "scopes read;" in out and "shops S001" in out
    listing = cli("apikey", "list")
    assert secret not in listing and secret.split("_")[1] in listing and "shop one" in listing
    cli("apikey", "revoke", "1")
    client.app.state.zb_api.keys.clear()  # as once ZHANGBEN_AUTH_CACHE_SECONDS have passed
    assert client.get("/api/v1/accounts", headers=bearer(secret)).status_code == 401
    assert client.get("/api/v1/accounts", headers=bearer(reader)).status_code == 200
    assert "revoked" in cli("apikey", "list")
    assert "exactly one" in cli("apikey", "add", ok=False)
    assert "does not exist" in cli("apikey", "add", "--integrator", "nope", ok=False)
    assert "scope" in cli("apikey", "add", "--integrator", flag, "--scope", "admin", ok=False)
