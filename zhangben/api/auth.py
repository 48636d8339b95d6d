"""Who is calling: an integrator's API key or a 壹川 login session, both as Bearer tokens.

* API key (``zb_<prefix>_<secret>``): scopes ``read``, ``write``, ``reconcile``, ``force``
  (``write`` and ``force`` imply ``reconcile``: :data:`~zhangben.access.apikeys.IMPLIES`);
  optionally limited to shops and/or account numbers (the key's limits narrowed by its
  integrator's); the integrator's ``rate_limit_per_minute`` applies to its REST calls
  (counted in the database, so across worker processes).
  Each worker caches a key it has verified (by the SHA-256 of the whole key) for
  ``ZHANGBEN_AUTH_CACHE_SECONDS`` (default 5): a revoked key, a disabled integrator or changed
  grants take effect within that time; the rate limit is still counted in the database on
  every request.
* Session token: its scopes follow the user's role (:func:`~zhangben.access.apikeys.
  role_scopes`); staff read and write everything and alone may verify and edit the chart; a
  user reads and writes only the accounts they own, and opens or closes none. The finance
  roles (:mod:`zhangben.core.roles`) are staff; a viewer only reads, and staff's own actions
  need a supervisor or an admin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from zhangben.access import apikeys
from zhangben.access.scope import Scope, owner_limit
from zhangben.access.service import Access
from zhangben.api.problems import ApiProblem
from zhangben.core.records import Account, User
from zhangben.web import observe

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="API key zb_<prefix>_<secret>, or a 壹川 session token",
    description="An integrator's API key (`zhangben apikey add`) or a login session token.",
)


@dataclass(frozen=True, slots=True)
class Principal:
    caller: str  # stable id of the caller for idempotency records: "key:<integrator>", "user:<id>"
    scopes: frozenset[str]
    shops: frozenset[str] | None = None  # None = every shop
    accounts: frozenset[str] | None = None  # None = every account
    user: User | None = None
    key_id: int | None = None  # the API key's id (for the request log; never the key)

    @property
    def is_staff(self) -> bool:
        return self.user is not None and self.user.is_staff

    @property
    def owner_id(self) -> int | None:
        """For a non-staff user: only accounts with this owner are theirs."""
        return owner_limit(self.user)

    @property
    def operator_id(self) -> int | None:
        return self.user.id if self.user is not None else None

    @property
    def unrestricted(self) -> bool:
        return self.scope.unrestricted

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise ApiProblem("forbidden", f"these credentials lack the {scope!r} scope")

    def require_staff(self) -> None:
        """Staff's own actions (verify, the chart, periods): a supervisor or an admin."""
        if not (self.is_staff and self.user.can("supervisor")):
            raise ApiProblem("forbidden", "only staff may do this")

    @property
    def scope(self) -> Scope:
        return Scope(self.shops, self.accounts, self.owner_id)

    def may_see(self, account: Account) -> bool:
        return self.scope.may_see(account)

    def check(self, account: Account) -> None:
        if not self.may_see(account):
            raise ApiProblem("forbidden", f"these credentials may not use account {account.number}")

    def narrow(self, wanted: list[str] | None, allowed: frozenset[str] | None) -> list[str] | None:
        """A list filter intersected with what the caller may see (None = no filter)."""
        if allowed is None:
            return wanted
        return sorted(allowed if wanted is None else allowed.intersection(wanted))


def _from_key(key: apikeys.ApiKey) -> Principal:
    return Principal(
        caller=f"key:{key.integrator_id}",
        scopes=apikeys.granted(key.scopes),
        shops=key.allowed_shops,
        accounts=key.allowed_accounts,
        key_id=key.id,
    )


def _from_user(user: User) -> Principal:
    scopes = apikeys.role_scopes(user.role)  # a viewer only reads; a supervisor also forces
    return Principal(caller=f"user:{user.id}", scopes=scopes, user=user)


def authenticate(access: Access, token: str) -> tuple[Principal, apikeys.ApiKey | None] | None:
    """One statement either way: an API key, or a session's user."""
    if token.startswith(apikeys.KEY_PREFIX + "_"):
        key = access.authenticate_key(token)
        return (_from_key(key), key) if key else None
    user = access.session_user(token, datetime.now(UTC))
    return (_from_user(user), None) if user else None


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    """What the key cache holds for a verified API key."""

    principal: Principal
    integrator_id: int
    rate_limit_per_minute: int | None


def _unauthorized() -> ApiProblem:
    return ApiProblem(
        "unauthorized",
        "the token is unknown, revoked or expired",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


async def principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Principal:
    """The dependency every API route uses. Async, so that a request whose API key is in the
    cache costs no thread hand-off and no database round trip here."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiProblem(
            "unauthorized",
            "send Authorization: Bearer <API key or session token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    ctx = request.app.state.zb_api
    token = credentials.credentials.strip()
    if not token.startswith(apikeys.KEY_PREFIX + "_"):
        # session tokens are not cached: logging out or disabling a user ends them at once
        found = await run_in_threadpool(authenticate, ctx.access, token)
        if found is None:
            raise _unauthorized()
        observe.note(request, username=found[0].user.username)
        return found[0]
    digest = apikeys.hash_secret(token)
    verified = ctx.keys.get(digest)
    if verified is None:
        found = await run_in_threadpool(authenticate, ctx.access, token)
        if found is None or found[1] is None:
            raise _unauthorized()
        who, key = found
        verified = VerifiedKey(who, key.integrator_id, key.rate_limit_per_minute)
        ctx.keys.put(digest, verified)
    observe.note(request, key_id=verified.principal.key_id)
    if verified.rate_limit_per_minute:
        try:
            await run_in_threadpool(_count_call, ctx.access, verified)
        except ApiProblem:
            observe.note(request, refusal="rate_limited")
            raise
    return verified.principal


def _count_call(access: Access, key: VerifiedKey) -> None:
    limit = key.rate_limit_per_minute
    wait = access.hit_rate_limit(f"rest:{key.integrator_id}", limit, time.time())
    if wait is not None:
        raise ApiProblem(
            "rate_limited",
            f"more than {limit} requests this minute; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
