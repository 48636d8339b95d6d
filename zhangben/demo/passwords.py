"""Passwords for the demo ledger's users, so that `make run` can be logged into at once."""

from __future__ import annotations

from zhangben.access.service import Access
from zhangben.core.errors import NotFound
from zhangben.core.ledger import Ledger

#: Demo only: never use these outside `make run`.
DEMO_PASSWORDS = {
    "finance": "finance-demo",
    "merchant": "merchant-demo",
    "viewer": "viewer-demo",
    "clerk": "clerk-demo",
    "supervisor": "supervisor-demo",
}


def set_demo_passwords(ledger: Ledger) -> None:
    """Give each demo user that exists its demo password."""
    access = Access(ledger)
    for username, password in DEMO_PASSWORDS.items():
        try:
            access.set_password(username, password)
        except NotFound:
            continue
