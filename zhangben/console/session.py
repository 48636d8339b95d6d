"""Who is looking: the 壹川 users and their login sessions (the ``Access`` facade), carried in
an HttpOnly cookie, and the CSRF token of every form.

* The session is the one the 壹川 login opens (same users, passwords, throttling, expiry,
  logout); the cookie holds its token, ``HttpOnly``, ``SameSite=Lax``, path ``/console``.
* CSRF: every form carries the session's token for forms, ``sha256("csrf:" + session
  token)``: only a page of this session can know it (the cookie is unreadable to scripts,
  and a digest is not the token). Before login, a random value in a cookie of its own is
  echoed by the login form (double submit). A POST whose token does not match writes
  nothing and shows a Chinese message.
* Roles: the stored role (:mod:`zhangben.core.roles`, the one mapping) decides what the
  viewer may do; the labels here are how the console names them.
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

ROLE_LABELS = {"viewer": "查看", "clerk": "出纳", "supervisor": "主管", "admin": "管理员"}

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
    def role(self) -> str:
        """viewer, clerk, supervisor or admin."""
        return self.user.rank

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def can(self, role: str) -> bool:
        return self.user.can(role)

    @property
    def csrf(self) -> str:
        return csrf_for(self.token)
