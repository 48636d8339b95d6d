"""Passwords for the demo ledger's users, so that `make run` can be logged into at once."""

from __future__ import annotations

from zhangben.access import sessions
from zhangben.core.errors import NotFound
from zhangben.core.ledger import Ledger
from zhangben.store.engine import run_write

#: Demo only: never use these outside `make run`.
DEMO_PASSWORDS = {"finance": "finance-demo", "merchant": "merchant-demo"}


def set_demo_passwords(ledger: Ledger) -> None:
    """Give each demo user that exists its demo password."""

    def work(conn) -> None:
        for username, password in DEMO_PASSWORDS.items():
            try:
                sessions.set_password(conn, username, password)
            except NotFound:
                continue

    run_write(ledger.engine, work)
