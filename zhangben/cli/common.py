"""What every command module shares: the ledger and its services for this invocation, Rich
output, and the one-line error convention."""

from __future__ import annotations

import getpass
import re
import sys
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from zhangben.core.errors import LedgerError
from zhangben.core.money import format_amount

# Every call is a new process: what only some commands use (SQLAlchemy, the services, the
# settings' pydantic) is imported where it is used, not here (zhangben/cli/__init__.py).
if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from zhangben.access.service import Access
    from zhangben.core.ledger import Ledger
    from zhangben.core.records import Entry, PostingResult
    from zhangben.imports.service import Imports
    from zhangben.settings import Settings

# Piped output (scripts, tests) gets wide tables instead of truncated cells.
console = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


class State:
    database_url: str | None = None  # --db, which overrides ZHANGBEN_DATABASE_URL
    settings: Settings | None = None
    ledger: Ledger | None = None


state = State()


#: Exit code of a command that cannot start: a bad setting, a database that cannot be opened.
CONFIG_ERROR = 2


def get_settings() -> Settings:
    """:func:`zhangben.settings.get_settings` (pydantic loads with the first command that
    reads a setting)."""
    from zhangben.settings import get_settings

    return get_settings()


def load_settings() -> Settings:
    """The ``ZHANGBEN_*`` settings, or one line naming the bad one and exit code 2."""
    import pydantic

    try:
        return get_settings()
    except pydantic.ValidationError as exc:
        problems = [
            f"ZHANGBEN_{'_'.join(str(p) for p in e['loc']).upper()}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        fail("invalid setting " + "; ".join(problems), CONFIG_ERROR)


def settings() -> Settings:
    """This command's settings, read once (a bad one: one line and exit code 2)."""
    if state.settings is None:
        loaded = load_settings()
        if state.database_url:
            loaded = loaded.model_copy(update={"database_url": state.database_url})
        state.settings = loaded
    return state.settings


def _shown(url: str) -> str:
    """A database URL fit to print: its password masked."""
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return re.sub(r":[^:@/]*@", ":***@", url)


def open_engine() -> Engine:
    """The engine of the database this command uses, connected once; or, when it cannot be
    used (an unparsable URL, an unknown driver, a server that does not answer, an SQLite file
    in a directory that does not exist), one line saying so and exit code 2."""
    import sqlalchemy as sa

    from zhangben.store.engine import make_engine, normalize_url

    url = settings().database_url
    where = f"the database URL {_shown(url)!r} (ZHANGBEN_DATABASE_URL or --db)"
    try:
        parsed = sa.make_url(normalize_url(url))
    except sa.exc.ArgumentError:
        fail(
            f"{where} is not a database URL; use sqlite:///FILE or "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE",
            CONFIG_ERROR,
        )
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        fail(
            f"{where}: unknown database {parsed.get_backend_name()!r}; zhangben runs on sqlite "
            "and postgresql",
            CONFIG_ERROR,
        )
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).parent
        if not parsed.database.startswith("file:") and not folder.is_dir():
            fail(f"{where}: the directory {str(folder)!r} does not exist", CONFIG_ERROR)
    try:
        engine = make_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:  # a driver that is not installed
        fail(f"{where}: cannot load its driver {parsed.drivername!r} ({exc})", CONFIG_ERROR)
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        fail(f"cannot connect to the database {_shown(url)}: {reason}", CONFIG_ERROR)
    return engine


def ledger(*, migrate: bool = True) -> Ledger:
    """The ledger for this command. The embedded SQLite database is migrated on first use;
    PostgreSQL is migrated only by ``zhangben db upgrade``."""
    if state.ledger is None:
        from zhangben.core.ledger import Ledger
        from zhangben.store.migrate import is_up_to_date, upgrade

        s = settings()
        engine = open_engine()
        if migrate and not is_up_to_date(engine):
            if engine.dialect.name != "sqlite":
                fail("the database schema is not up to date: run `zhangben db upgrade`")
            upgrade(engine)
        state.ledger = Ledger(engine, s.tz)
    return state.ledger


def access() -> Access:
    """Users, sessions, API keys and apps, over this command's ledger."""
    from zhangben.access.service import Access

    return Access(ledger())


def bill_imports() -> Imports:
    """Bill imports and their rules, over this command's ledger."""
    from zhangben.imports.service import Imports

    return Imports(ledger())


#: ``--operator``: who did it, recorded with a close, a reconciliation, …
Operator = Annotated[
    str | None, typer.Option(help="username recorded as who did it (default: cli:<login>)")
]


def actor(operator: str | None) -> str:
    """Who did it, as recorded: ``user:NAME`` for ``--operator NAME``, else ``cli:<login>``."""
    if operator:
        return f"user:{ledger().user(operator).username}"
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "cli"


def fail(message: str, code: int = 1):
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def friendly(fn):
    """Turn a refused request into one line on stderr and exit code 1."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LedgerError as exc:
            fail(exc.message)
        except ValueError as exc:
            fail(str(exc))

    return wrapper


def parse_time(value: str | None, field: str = "time") -> datetime | None:
    """``yyyy-MM-dd[ HH:mm[:ss]]`` or ISO 8601; naive times are in the business time zone."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{field}: {value!r} is not a time like 2024-01-31 23:59:59") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=settings().tz)


def parse_day_or_time(value: str, field: str = "as_of") -> date | datetime:
    """``yyyy-MM-dd`` is a day (a business day: its end, for a balance); anything longer is
    a time as :func:`parse_time` reads it."""
    text = value.strip()
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{field}: {value!r} is not a day like 2024-01-31") from None
    return parse_time(text, field)


def money(amount: Decimal) -> str:
    return (
        format_amount(amount, 2)
        if amount == amount.quantize(Decimal("0.01"))
        else format_amount(amount)
    )


def local(dt: datetime) -> str:
    return dt.astimezone(settings().tz).strftime("%Y-%m-%d %H:%M:%S")


TRANSFER_LEGS = ("transfer_out", "transfer_in")


def transfer_id(entry: Entry) -> int | None:
    """The transfer a leg belongs to (what ``reverse --transfer`` takes): its posting's id."""
    return entry.posting_id if entry.type in TRANSFER_LEGS else None


def print_entries(items: list[Entry], title: str | None = None) -> None:
    """Entries as a table; a transfer leg shows its transfer id (``reverse --transfer ID``)."""
    table = Table(title=title)
    numeric = ("id", "transfer", "amount", "balance")
    for col in (
        "id",
        "transfer",
        "trade no",
        "time",
        "account",
        "type",
        "amount",
        "balance",
        "subject",
        "remark",
    ):
        table.add_column(col, justify="right" if col in numeric else "left")
    for e in items:
        table.add_row(
            str(e.id),
            str(transfer_id(e) or ""),
            e.trade_no,
            local(e.trade_time),
            e.account_number,
            e.type,
            money(e.amount),
            money(e.balance_after),
            e.subject_name or e.category_name or "",
            e.remark or e.description,
        )
    console.print(table)


def print_result(result: PostingResult) -> None:
    """``transfer posted: transfer 14, trade no …`` (the id ``reverse --transfer`` takes), or
    ``income posted: posting 15, …``; then the entries written."""
    verb = "already posted (idempotent replay)" if result.replayed else "posted"
    what = "transfer" if result.kind == "transfer" else "posting"
    console.print(
        f"{result.kind} {verb}: {what} {result.posting_id}, trade no {result.trade_no}",
        highlight=False,
    )
    print_entries(list(result.entries))


def accounts_table(accounts) -> Table:
    table = Table()
    for col in ("id", "number", "name", "type", "shop", "currency", "balance", "status"):
        table.add_column(col, justify="right" if col in ("id", "balance") else "left")
    for a in accounts:
        table.add_row(
            str(a.id),
            a.number,
            a.name,
            a.type,
            a.shop_code or "",
            a.currency,
            money(a.balance),
            a.status + (" (overdraft)" if a.allow_overdraft else ""),
        )
    return table


def balances_table(found, title: str | None = None) -> Table:
    """(account, balance) pairs, with a total per currency."""
    table = Table(title=title)
    for col in ("number", "name", "type", "shop", "currency", "balance"):
        table.add_column(col, justify="right" if col == "balance" else "left")
    totals: dict[str, Decimal] = {}
    for a, balance in found:
        table.add_row(a.number, a.name, a.type, a.shop_code or "", a.currency, money(balance))
        totals[a.currency] = totals.get(a.currency, Decimal(0)) + balance
    for i, (currency, total) in enumerate(sorted(totals.items())):
        table.add_row("total", "", "", "", currency, money(total), end_section=False)
        if i == 0 and found:
            table.rows[len(found) - 1].end_section = True
    return table
