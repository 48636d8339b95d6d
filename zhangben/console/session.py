"""Who is looking: the 壹川 users and their login sessions (the ``Access`` facade), carried in
an HttpOnly cookie, and the CSRF token of every form.

* The session is the one the 壹川 login opens (same users, passwords, throttling, expiry,
  logout); the cookie holds its token, ``HttpOnly``, ``SameSite=Lax``, path ``/console``.
* CSRF: every form carries the session's token for forms, ``sha256("csrf:" + session
  token)``: only a page of this session can know it (the cookie is unreadable to scripts,
  and a digest is not the token). Before login, a random value in a cookie of its own is
  echoed by the login form (double submit). A POST whose token does not match writes
  nothing and shows a Chinese message.
* Roles: the console's four roles are read from the two stored ones (docs/console.md):
  ``staff`` is admin and supervisor, ``user`` is clerk and viewer of the accounts they own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from zhangben.access.scope import Scope
from zhangben.core.records import User

COOKIE = "zb_console"
LOGIN_CSRF_COOKIE = "zb_console_csrf"
PATH = "/console"

#: console role → what it may do (each role includes the ones before it)
ROLES = ("viewer", "clerk", "supervisor", "admin")
ROLE_LABELS = {"viewer": "查看", "clerk": "出纳", "supervisor": "主管", "admin": "管理员"}
#: the stored role → the console roles it holds
STORED_ROLES = {"user": ("viewer", "clerk"), "staff": ROLES}

STALE_FORM = "表单已过期（页面停留过久或已重新登录），请刷新页面后重试；本次未作任何修改。"


def csrf_for(session_token: str) -> str:
    return hashlib.sha256(f"csrf:{session_token}".encode()).hexdigest()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


@dataclass(frozen=True, slots=True)
class Viewer:
    """The logged-in user of a console request."""

    user: User
    token: str

    @property
    def scope(self) -> Scope:
        return Scope.of_user(self.user)

    @property
    def roles(self) -> tuple[str, ...]:
        return STORED_ROLES.get(self.user.role, ("viewer",))

    @property
    def role(self) -> str:
        """The highest console role."""
        return self.roles[-1]

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def can(self, role: str) -> bool:
        return role in self.roles

    @property
    def csrf(self) -> str:
        return csrf_for(self.token)
