"""The CLI's start-up: every ``zhangben`` call is a new process, so what it imports before its
command runs is paid on every call (zhangben/cli/__init__.py). Importing ``zhangben.cli``
loads no command module and no database library; a command loads its own module and what it
uses, not the other commands' services. Run in subprocesses, as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from zhangben.cli import COMMANDS

#: what no command loads unless it needs it
HEAVY = (
    "alembic",  # only to change a schema
    "cryptography",  # integrators' tokens
    "argon2",  # passwords
    "openpyxl",  # workbooks
    "re2",  # reconciliation conditions
    "fastapi",
    "uvicorn",
    "httpx",
    "zhangben.access",
    "zhangben.imports",
    "zhangben.exports",
    "zhangben.periods",
    "zhangben.recon",
    "zhangben.vouchers",
    "zhangben.web",
)


def loaded(code: str, db_url: str | None = None) -> set[str]:
    """The modules in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHANGBEN_")}
    if db_url:
        env["ZHANGBEN_DATABASE_URL"] = db_url
    script = f"import json, sys\n{code}\nprint('\\nMODULES ' + json.dumps(sorted(sys.modules)))\n"
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    return set(json.loads(run.stdout.rsplit("\nMODULES ", 1)[1]))


def heavy(modules: set[str], *allowed: str) -> list[str]:
    """The modules of :data:`HEAVY` loaded, but the ``allowed`` ones."""
    return sorted(m for m in modules if m.startswith(HEAVY) and not m.startswith(allowed))


def run_command(*args: str) -> str:
    """Python that runs ``zhangben ARGS`` as the console script does, exit status 0 required."""
    return (
        f"sys.argv = ['zhangben', *{list(args)!r}]\n"
        "from zhangben.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code"
    )


def test_importing_the_cli_loads_no_command_and_no_database_library():
    modules = loaded("import zhangben.cli")
    commands = {f"zhangben.cli.{module}" for module, _ in COMMANDS.values()}
    assert not commands & modules, sorted(commands & modules)
    assert not {"sqlalchemy", "pydantic", "zhangben.core.ledger", "zhangben.settings"} & modules
    assert heavy(modules) == []


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["account", "list"], ()),
        (["flows", "--size", "1"], ()),
        (["balance"], ()),
        (["user", "list"], ("zhangben.access",)),  # no password hashed, no token decrypted
        (["apikey", "list"], ("zhangben.access",)),
        (["period", "list"], ("zhangben.periods", "zhangben.imports", "zhangben.exports")),
        (["recon", "queues"], ("zhangben.recon", "re2", "zhangben.imports", "zhangben.exports")),
        (["report", "month", "2024-01"], ()),
        (["summaries", "status"], ()),
    ],
    ids=lambda v: " ".join(v) if v and isinstance(v[0], str) and " " not in v[0] else None,
)
def test_a_command_loads_only_what_it_uses(db_url, args, allowed):
    modules = loaded(run_command(*args), db_url)
    assert f"zhangben.cli.{COMMANDS[args[0]][0]}" in modules
    others = {f"zhangben.cli.{m}" for m, _ in COMMANDS.values()} - {
        f"zhangben.cli.{COMMANDS[args[0]][0]}"
    }
    assert not others & modules, sorted(others & modules)
    assert heavy(modules, *allowed) == []
