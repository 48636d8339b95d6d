"""The operators' command line (Typer + Rich). Every command prints one clear line and exits
non-zero when the ledger refuses it.

This module is the table of contents: each command and group is registered here by name, from
the module that owns it (:data:`COMMANDS`). A command's module is imported, and its Click
command built, only when that command is run (or listed, by ``--help``): every call is a new
process, and importing and building all of them cost more than most commands themselves
(docs/development.md, "Adding a surface"). tests/cli/test_startup.py holds the start-up to
that."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Annotated

import typer
from typer.core import TyperGroup

from zhangben.cli.common import state

#: name -> (module of zhangben.cli, its attribute: a command's function or a group's Typer), in
#: the order `zhangben --help` lists them: commands, then groups.
COMMANDS: dict[str, tuple[str, str]] = {
    "transfer": ("postings", "transfer"),
    "reverse": ("postings", "reverse"),
    "flows": ("postings", "flows"),
    "find": ("postings", "find"),
    "balance": ("postings", "balance"),
    "verify": ("verify", "verify_cmd"),
    "demo": ("serve", "demo"),
    "serve": ("serve", "serve"),
    "call": ("apps", "call"),
    "sign": ("apps", "sign"),
    "import": ("imports", "import_command"),
    "imports": ("imports", "imports_command"),
    "import-samples": ("imports", "import_samples_command"),
    "db": ("serve", "db_app"),
    "account": ("accounts", "account_app"),
    "post": ("postings", "post_app"),
    "chart": ("chart", "chart_app"),
    "app": ("apps", "app_app"),
    "user": ("users", "user_app"),
    "apikey": ("apikeys", "apikey_app"),
    "import-rules": ("imports", "rules_app"),
    "report": ("reports", "report_app"),
    "summaries": ("reports", "summaries_app"),
    "period": ("periods", "period_app"),
    "recon": ("recon", "recon_app"),
    "voucher": ("vouchers", "voucher_app"),
}


def registered(name: str):
    """The function or Typer group registered as ``name`` (its module imported now)."""
    module, attribute = COMMANDS[name]
    return getattr(importlib.import_module(f"zhangben.cli.{module}"), attribute)


#: the Click commands built so far (a Click command keeps no state between invocations, so
#: the in-process runs of the tests share them)
_BUILT: dict = {}


def _click_commands(names: list[str]) -> None:
    """Build the Click commands of ``names`` into :data:`_BUILT`, as Typer builds them
    registered on the root app (in one app: building each alone costs more)."""
    names = [name for name in names if name not in _BUILT]
    if not names:
        return
    some = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    some.callback()(lambda: None)  # a group, whatever it holds
    for name in names:
        target = registered(name)
        if isinstance(target, typer.Typer):
            some.add_typer(target, name=name)
        else:
            some.command(name)(target)
    built = typer.main.get_command(some).commands
    for name in names:
        _BUILT[name] = built[name]


def _click_command(name: str):
    """The Click command of ``name``."""
    _click_commands([name])
    return _BUILT[name]


class _Commands(MutableMapping):
    """The root group's commands by name, each built on first use, in :data:`COMMANDS` order."""

    def __init__(self) -> None:
        self._built: dict = {}
        self._names = list(COMMANDS)

    def __getitem__(self, name: str):
        if name in self._built:
            return self._built[name]
        if name not in self._names:
            raise KeyError(name)
        return _click_command(name)

    def __setitem__(self, name: str, command) -> None:
        self._built[name] = command
        if name not in self._names:
            self._names.append(name)

    def __delitem__(self, name: str) -> None:
        self._names.remove(name)
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


class _LazyGroup(TyperGroup):
    """The root group: a command is imported and built when it is looked up."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands()

    def list_commands(self, ctx) -> list[str]:
        return list(self.commands)

    def format_help(self, ctx, formatter) -> None:
        _click_commands(list(COMMANDS))  # all of them listed: built together
        super().format_help(ctx, formatter)


app = typer.Typer(
    help="zhangben (账本): accounts and their flows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_LazyGroup,
)


@app.callback()
def main_callback(
    database_url: Annotated[
        str | None,
        typer.Option("--db", envvar="ZHANGBEN_DATABASE_URL", help="SQLAlchemy URL of the ledger"),
    ] = None,
) -> None:
    # The settings are read when a command first needs them (common.settings), so that a bad
    # one is one line and exit code 2 there, and `--help` still works.
    state.database_url = database_url or None
    state.settings = None
    state.ledger = None


def main() -> None:
    app()
