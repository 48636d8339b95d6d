"""The wiring is explicit and complete: every HTTP surface is mounted, every documented command
is registered, and the adapters reach the database only through the service facades."""

import ast
from pathlib import Path

import pytest
import typer.main
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from zhangben.app import create_app
from zhangben.cli import app as cli_app
from zhangben.settings import Settings

PACKAGE = Path(__file__).resolve().parents[2] / "zhangben"

# -- HTTP surfaces ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("wiring") / "wiring.db"
    with TestClient(create_app(Settings(database_url=f"sqlite:///{db}"))) as client:
        yield client


def test_every_surface_is_mounted(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/healthz", "/v3/login", "/v3/logout", "/v3/me", "/v3/accountlog"):
        assert path in paths
    for path in ("/api/v1/accounts", "/api/v1/postings", "/api/v1/transfers", "/api/v1/entries"):
        assert path in paths
    # Each surface answers in its own wire format (a missing route would be a plain 404).
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/v3/me").json()["code"] != 0  # 壹川 envelope: not logged in
    assert client.get("/api/v1/accounts").status_code == 401  # REST: problem+json
    assert client.get("/api/v1/accounts").headers["content-type"] == "application/problem+json"
    for path in ("/index.php/openapi/rpc/service/", "/openapi/rpc/service"):
        shopex = client.post(path, data={})  # ShopEx gateway: missing system parameters
        assert shopex.status_code == 200 and "code" in shopex.json()


def test_the_gateway_serves_every_method_module(client):
    names = client.app.state.shopex_gateway.registry.names()
    assert {"finance.getAccountBalance", "finance.getTransactionList"} <= set(names)  # methods
    assert {"finance.getList", "finance.getJZT", "finance.getJDbill"} <= set(names)  # bills


# -- CLI ----------------------------------------------------------------------------------------

#: The command tree the README documents (top-level command → its sub-commands).
DOCUMENTED_COMMANDS = {
    "db": {"upgrade"},
    "account": {"add", "list", "show", "close"},
    "post": {"income", "expense"},
    "chart": {"list", "add"},
    "user": {"add", "list", "passwd", "disable", "enable", "grant-account", "unlock", "role"},
    "apikey": {"add", "list", "revoke"},
    "app": {"add", "list", "show", "disable", "enable", "rotate-token", "grant"},
    "import-rules": {"list", "set", "delete"},
    "report": {"daily", "monthly", "month", "summary"},
    "summaries": {"status", "refresh", "rebuild"},
    "period": {"close", "reopen", "list", "show", "check", "verify"},
    "recon": {
        "import",
        "run",
        "queues",
        "queue",
        "apply",
        "match",
        "approve",
        "reject",
        "undo",
        "void",
        "ignore",
        "key",
        "groups",
        "events",
        "verify",
    },  # fmt: skip
    "voucher": {
        "book",
        "chart",
        "map",
        "rules",
        "generate",
        "test",
        "batches",
        "show",
        "export",
        "void",
    },
    "transfer": set(),
    "reverse": set(),
    "flows": set(),
    "find": set(),
    "balance": set(),
    "verify": set(),
    "demo": set(),
    "serve": set(),
    "call": set(),
    "sign": set(),
    "import": set(),
    "imports": set(),
    "import-samples": set(),
}


def test_every_documented_command_is_registered_and_nothing_else():
    root = typer.main.get_command(cli_app)
    tree = {name: set(getattr(command, "commands", {})) for name, command in root.commands.items()}
    assert tree == DOCUMENTED_COMMANDS


def test_help_lists_every_command():
    runner = CliRunner()
    top = runner.invoke(cli_app, ["--help"], terminal_width=200)
    assert top.exit_code == 0, top.output
    for name, subcommands in DOCUMENTED_COMMANDS.items():
        assert f" {name} " in top.output, name
        if subcommands:
            group = runner.invoke(cli_app, [name, "--help"], terminal_width=200)
            assert group.exit_code == 0, group.output
            for sub in subcommands:
                assert f" {sub} " in group.output, (name, sub)


# -- one service style ----------------------------------------------------------------------

#: Where transactions are opened: the ledger core, the store, and the service facades.
SERVICES = ("core/", "store/", "access/", "imports/service.py", "periods/service.py",
            "recon/service.py", "vouchers/service.py")  # fmt: skip
TRANSACTION_HELPERS = {
    "run_write",
    "run_statements",
    "read_transaction",
    "read_statement",
    "write_transaction",
}


def offences(source: str) -> list[str]:
    """Each use of a transaction helper or of an ``.engine`` attribute in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "zhangben.store.engine":
            found += [f"imports {a.name}" for a in node.names if a.name in TRANSACTION_HELPERS]
        elif isinstance(node, ast.Attribute) and node.attr == "engine":
            found.append(f"line {node.lineno}: .engine")
        elif isinstance(node, ast.Attribute) and node.attr in TRANSACTION_HELPERS:
            found.append(f"line {node.lineno}: {node.attr}")
        elif isinstance(node, ast.Name) and node.id in TRANSACTION_HELPERS:
            found.append(f"line {node.lineno}: {node.id}")
    return found


def test_the_checker_sees_each_pattern():
    bad = (
        "from zhangben.store.engine import run_write\n"
        "run_write(ledger.engine, work)\n"
        "with engine_mod.read_statement(e) as conn: pass\n"
    )
    assert len(offences(bad)) == 4
    assert offences("from zhangben.store.engine import make_engine\nmake_engine(url)\n") == []


def test_adapters_open_no_transactions_and_never_reach_for_the_engine():
    checked, found = 0, {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name.startswith(SERVICES):
            continue
        checked += 1
        if problems := offences(path.read_text(encoding="utf-8")):
            found[name] = problems
    assert checked > 50
    assert found == {}, "call a Ledger / Access / Imports method instead"


def test_no_module_is_wired_in_silently():
    """A module found by ``find_spec`` vanishes without an error when it is renamed."""
    users = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "find_spec" in path.read_text(encoding="utf-8")
    ]
    assert users == []
