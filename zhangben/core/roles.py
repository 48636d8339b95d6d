"""The roles a user is stored with, and what each may do: the one place that says so.

Finance staff hold one of four roles, each including the ones before it:

* ``viewer`` 查看 — reads every account, changes nothing;
* ``clerk`` 出纳 — also imports bills and records entries;
* ``supervisor`` 主管 — also forces, undoes (冲正), closes and reopens periods;
* ``admin`` 管理员 — also manages users, API keys, integrators and category rules.

Two older values stay valid, so existing databases and the 壹川 surface keep working:
``staff`` is an admin, ``user`` (a merchant) is a clerk of the accounts they own. The 壹川
wire reports ``staff`` for every finance role and ``user`` for ``user``, as before.
"""

from __future__ import annotations

RANKS = ("viewer", "clerk", "supervisor", "admin")
#: the older stored values and the role they hold
LEGACY = {"staff": "admin", "user": "clerk"}
#: every value ``users.role`` may hold
STORED = RANKS + tuple(LEGACY)


def rank_of(stored: str) -> str:
    """The role a stored value holds (an unknown value holds nothing beyond ``viewer``)."""
    return LEGACY.get(stored, stored if stored in RANKS else "viewer")


def holds(stored: str, wanted: str) -> bool:
    """Whether a user stored as ``stored`` may do what ``wanted`` may."""
    return RANKS.index(rank_of(stored)) >= RANKS.index(wanted)


def sees_every_account(stored: str) -> bool:
    """Finance staff see every account; a merchant (``user``) only the ones they own."""
    return stored != "user" and stored in STORED
