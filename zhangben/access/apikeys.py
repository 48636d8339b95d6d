"""API keys of integrators for the REST API (``Authorization: Bearer zb_<prefix>_<secret>``).

An integrator (the record that also holds its ShopEx flag) may hold any number of keys, each
with scopes (:data:`SCOPES`) and optional shop/account restrictions that narrow the
integrator's own. The key is shown once; only its SHA-256 is stored. A key carries 256 bits
of randomness, so a fast hash is enough (a slow password hash such as argon2 protects
guessable passwords, and would cost milliseconds on every request); the non-secret prefix
finds the row with one index probe and the hash is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.access.integrators import get_integrator
from zhangben.core.errors import NotFound, ValidationError
from zhangben.core.roles import holds
from zhangben.store.access_tables import api_keys, integrators

#: ``read`` GET, ``write`` every other write, ``reconcile`` reconciliation's writes (核销),
#: ``force`` a forced match and the second approval of one (docs/rest-api.md#authentication-
#: scopes-and-limits).
SCOPES = ("read", "write", "reconcile", "force")
#: What a scope brings with it, applied when a key authenticates (not stored), so a key made
#: before ``reconcile`` existed keeps reconciling with its ``write``.
IMPLIES = {
    "write": ("read", "reconcile"),
    "reconcile": ("read",),
    "force": ("read", "reconcile"),
}
KEY_PREFIX = "zb"


def granted(scopes: Iterable[str]) -> frozenset[str]:
    """The scopes ``scopes`` grant: themselves and what they imply (:data:`IMPLIES`)."""
    held = set(scopes)
    for scope in tuple(held):
        held.update(IMPLIES.get(scope, ()))
    return frozenset(held)


def role_scopes(stored_role: str) -> frozenset[str]:
    """A user session's scopes, by role: a viewer reads; a clerk also writes and reconciles;
    a supervisor or an admin also forces."""
    if holds(stored_role, "supervisor"):
        return granted(("write", "force"))
    return granted(("write",)) if holds(stored_role, "clerk") else frozenset({"read"})


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    integrator_id: int
    integrator_name: str
    prefix: str
    name: str
    scopes: tuple[str, ...]
    shop_codes: tuple[str, ...] | None
    account_numbers: tuple[str, ...] | None
    created_at: datetime
    revoked_at: datetime | None = None
    integrator_enabled: bool = True
    integrator_shop_codes: tuple[str, ...] | None = None
    integrator_account_numbers: tuple[str, ...] | None = None
    rate_limit_per_minute: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.integrator_enabled

    @property
    def allowed_shops(self) -> frozenset[str] | None:
        """Shops this key may touch (key ∩ integrator); None = every shop."""
        return _narrow(self.shop_codes, self.integrator_shop_codes)

    @property
    def allowed_accounts(self) -> frozenset[str] | None:
        """Account numbers this key may touch (key ∩ integrator); None = every account."""
        return _narrow(self.account_numbers, self.integrator_account_numbers)


def _narrow(*lists: Sequence[str] | None) -> frozenset[str] | None:
    result: frozenset[str] | None = None
    for items in lists:
        if items is not None:
            result = frozenset(items) if result is None else result & frozenset(items)
    return result


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _clean_list(field: str, values: Iterable[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    items = tuple(dict.fromkeys(str(v).strip() for v in values))
    if not items or any(not v or len(v) > 64 for v in items):
        raise ValidationError(field, "each value must be 1-64 characters")
    return items


def create_key(
    conn: Connection,
    integrator_id: int,
    *,
    scopes: Sequence[str] = ("read",),
    shop_codes: Iterable[str] | None = None,
    account_numbers: Iterable[str] | None = None,
    name: str = "",
) -> tuple[ApiKey, str]:
    """A new key for the integrator: ``(ApiKey, secret)``. The secret is not stored."""
    get_integrator(conn, integrator_id)
    wanted = tuple(dict.fromkeys(scopes))
    if not wanted or any(s not in SCOPES for s in wanted):
        raise ValidationError("scopes", f"each scope must be one of {', '.join(SCOPES)}")
    if wanted != ("read",) and "read" not in wanted:
        wanted = ("read", *wanted)
    if len(name or "") > 128:
        raise ValidationError("name", "must be at most 128 characters")
    while True:
        prefix = secrets.token_hex(6)
        taken = conn.execute(sa.select(api_keys.c.id).where(api_keys.c.prefix == prefix)).first()
        if taken is None:
            break
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    new_id = conn.execute(
        api_keys.insert()
        .values(
            integrator_id=integrator_id,
            prefix=prefix,
            secret_hash=hash_secret(secret),
            name=name or "",
            scopes=list(wanted),
            shop_codes=_as_list(_clean_list("shop_codes", shop_codes)),
            account_numbers=_as_list(_clean_list("account_numbers", account_numbers)),
            created_at=datetime.now(UTC),
        )
        .returning(api_keys.c.id)
    ).scalar_one()
    return get_key(conn, new_id), secret


def _as_list(items: tuple[str, ...] | None) -> list[str] | None:
    return None if items is None else list(items)


_COLUMNS = (
    api_keys,
    integrators.c.name.label("integrator_name"),
    integrators.c.enabled.label("integrator_enabled"),
    integrators.c.shop_codes.label("integrator_shop_codes"),
    integrators.c.account_numbers.label("integrator_account_numbers"),
    integrators.c.rate_limit_per_minute,
)


def _select() -> sa.Select:
    return sa.select(*_COLUMNS).select_from(
        api_keys.join(integrators, integrators.c.id == api_keys.c.integrator_id)
    )


def _tuple(value) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _from_row(row) -> ApiKey:
    return ApiKey(
        id=row.id,
        integrator_id=row.integrator_id,
        integrator_name=row.integrator_name,
        prefix=row.prefix,
        name=row.name,
        scopes=tuple(row.scopes),
        shop_codes=_tuple(row.shop_codes),
        account_numbers=_tuple(row.account_numbers),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        integrator_enabled=bool(row.integrator_enabled),
        integrator_shop_codes=_tuple(row.integrator_shop_codes),
        integrator_account_numbers=_tuple(row.integrator_account_numbers),
        rate_limit_per_minute=row.rate_limit_per_minute,
    )


def get_key(conn: Connection, key_id: int) -> ApiKey:
    row = conn.execute(_select().where(api_keys.c.id == key_id)).first()
    if row is None:
        raise NotFound(f"API key {key_id} does not exist")
    return _from_row(row)


def list_keys(conn: Connection, integrator_id: int | None = None) -> list[ApiKey]:
    query = _select().order_by(api_keys.c.id)
    if integrator_id is not None:
        query = query.where(api_keys.c.integrator_id == integrator_id)
    return [_from_row(r) for r in conn.execute(query)]


def revoke_key(conn: Connection, key_id: int) -> ApiKey:
    """Revoke a key (idempotent): it authenticates nothing from now on."""
    key = get_key(conn, key_id)
    if key.revoked_at is None:
        conn.execute(
            api_keys.update().where(api_keys.c.id == key_id).values(revoked_at=datetime.now(UTC))
        )
    return get_key(conn, key_id)


def authenticate_key(conn: Connection, secret: str) -> ApiKey | None:
    """The active key for ``secret``, or None (unknown, malformed, revoked, integrator
    disabled). The hash comparison is constant-time."""
    parts = (secret or "").split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    row = conn.execute(_select().where(api_keys.c.prefix == parts[1])).first()
    if row is None or not hmac.compare_digest(row.secret_hash, hash_secret(secret)):
        return None
    key = _from_row(row)
    return key if key.active else None
