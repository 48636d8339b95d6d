"""Integrators (apps): who may call the open APIs, what they may see, and their secret token.

A token is generated here (32 random letters and digits from :mod:`secrets`), shown to the
operator once, and stored encrypted with Fernet. The key comes from settings
(``ZHANGBEN_SECRET_KEY``); :func:`fernet_for` builds the cipher from it. Every function takes a
SQLAlchemy ``Connection``; :class:`zhangben.access.service.Access` runs them in transactions.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.errors import Conflict, NotFound, ValidationError
from zhangben.store.access_tables import integrators
from zhangben.store.engine import normalize_url

TOKEN_LENGTH = 32
TOKEN_ALPHABET = string.ascii_letters + string.digits
RESPONSE_STYLES = ("seed", "shopex")
ALL = "*"

_FLAG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_METHOD_RE = re.compile(r"^(\*|[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*(\.\*)?)$")

if TYPE_CHECKING:  # cryptography is imported where a token is encrypted or decrypted
    from cryptography.fernet import Fernet, MultiFernet

    Cipher = Fernet | MultiFernet


def __getattr__(name: str):
    if name == "Cipher":  # imported at run time (annotations import it only for type checks)
        from cryptography.fernet import Fernet, MultiFernet

        return Fernet | MultiFernet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: Marks "leave unchanged" in :func:`grant` (``None`` there means "no restriction").
UNSET = _Unset()


@dataclass(frozen=True, slots=True)
class Integrator:
    id: int
    name: str
    flag: str
    enabled: bool
    methods: tuple[str, ...]
    shop_codes: tuple[str, ...] | None
    account_numbers: tuple[str, ...] | None
    ip_allow: tuple[str, ...] | None
    data_mask: bool
    rate_limit_per_minute: int | None
    response_style: str
    created_at: datetime
    token_rotated_at: datetime | None = None
    token_encrypted: str = field(default="", repr=False, compare=False)

    def may_call(self, method: str) -> bool:
        """``*`` grants everything, ``finance.*`` a whole class, else the exact name."""
        for granted in self.methods:
            if granted == ALL or granted == method:
                return True
            if granted.endswith(".*") and method.startswith(granted[:-1]):
                return True
        return False

    def allows_ip(self, address: str | None) -> bool:
        if self.ip_allow is None:
            return True
        try:
            ip = ipaddress.ip_address((address or "").strip())
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.ip_allow)


# -- the token cipher ---------------------------------------------------------------------------


def fernet_for(secret_key: str | None, database_url: str) -> Cipher:
    """The cipher for tokens at rest.

    ``secret_key`` is a Fernet key (urlsafe base64 of 32 bytes); any other string is stretched
    into one with HKDF-SHA256. Several keys separated by commas rotate: the first encrypts, all
    decrypt. When ``secret_key`` is None the key is derived from ``database_url`` — anyone who
    knows the URL can then decrypt the tokens, so this is for demos only.
    """
    from cryptography.fernet import Fernet, MultiFernet

    if secret_key is None or not secret_key.strip():
        material = normalize_url(database_url).encode()
        return Fernet(_derive(material, b"zhangben demo key from database url"))
    keys = [k.strip() for k in secret_key.split(",") if k.strip()]
    ciphers = [Fernet(_as_fernet_key(k)) for k in keys]
    return ciphers[0] if len(ciphers) == 1 else MultiFernet(ciphers)


def _as_fernet_key(key: str) -> bytes:
    try:
        if len(base64.urlsafe_b64decode(key.encode())) == 32:
            return key.encode()
    except ValueError:
        pass
    return _derive(key.encode(), b"zhangben secret key")


def _derive(material: bytes, info: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"zhangben/integrators", info=info)
    return base64.urlsafe_b64encode(hkdf.derive(material))


def _cipher(secret_key: Cipher | str) -> Cipher:
    from cryptography.fernet import Fernet, MultiFernet

    if isinstance(secret_key, Fernet | MultiFernet):
        return secret_key
    if isinstance(secret_key, str) and secret_key:
        return fernet_for(secret_key, "")
    raise ValueError("pass fernet_for(settings.secret_key, settings.database_url)")


def new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def token_of(integrator: Integrator, secret_key: Cipher | str) -> str:
    """The integrator's token in clear text."""
    from cryptography.fernet import InvalidToken

    try:
        return _cipher(secret_key).decrypt(integrator.token_encrypted.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            f"cannot decrypt the token of {integrator.flag!r}: wrong ZHANGBEN_SECRET_KEY?"
        ) from exc


# -- records --------------------------------------------------------------------------------------


def _tuple(value) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def integrator_from_row(row) -> Integrator:
    return Integrator(
        id=row.id,
        name=row.name,
        flag=row.flag,
        enabled=bool(row.enabled),
        methods=tuple(row.methods or ()),
        shop_codes=_tuple(row.shop_codes),
        account_numbers=_tuple(row.account_numbers),
        ip_allow=_tuple(row.ip_allow),
        data_mask=bool(row.data_mask),
        rate_limit_per_minute=row.rate_limit_per_minute,
        response_style=row.response_style,
        created_at=row.created_at,
        token_rotated_at=row.token_rotated_at,
        token_encrypted=row.token_encrypted,
    )


def get_integrator(conn: Connection, ref: int | str) -> Integrator:
    """By id (int) or flag (str; an all-digit string that is no flag is tried as an id)."""
    row = None
    if isinstance(ref, str):
        row = conn.execute(sa.select(integrators).where(integrators.c.flag == ref)).first()
        if row is None and ref.isdigit():
            ref = int(ref)
    if row is None and isinstance(ref, int):
        row = conn.execute(sa.select(integrators).where(integrators.c.id == ref)).first()
    if row is None:
        raise NotFound(f"app {ref} does not exist")
    return integrator_from_row(row)


def find_integrator(conn: Connection, flag: str) -> Integrator | None:
    """By flag only; None when unknown (the gateway's lookup)."""
    row = conn.execute(sa.select(integrators).where(integrators.c.flag == flag)).first()
    return None if row is None else integrator_from_row(row)


def list_integrators(conn: Connection) -> list[Integrator]:
    rows = conn.execute(sa.select(integrators).order_by(integrators.c.id))
    return [integrator_from_row(r) for r in rows]


# -- admin ----------------------------------------------------------------------------------------


def create_integrator(
    conn: Connection,
    *,
    name: str,
    secret_key: Cipher | str,
    flag: str | None = None,
    methods: Iterable[str] = (ALL,),
    shop_codes: Iterable[str] | None = None,
    account_numbers: Iterable[str] | None = None,
    ip_allow: Iterable[str] | None = None,
    data_mask: bool = False,
    rate_limit_per_minute: int | None = None,
    response_style: str = "seed",
) -> tuple[Integrator, str]:
    """Create an app; returns it and its token (the only time the token is shown)."""
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise ValidationError("name", "must be 1-128 characters")
    flag = (flag or "").strip() or _new_flag(conn)
    if not _FLAG_RE.match(flag):
        raise ValidationError(
            "flag", f"{flag!r} is not valid (1-64 letters, digits, '.', '_' or '-')"
        )
    if find_integrator(conn, flag) is not None:
        raise Conflict(f"app {flag} already exists")
    token = new_token()
    values = dict(
        name=name,
        flag=flag,
        token_encrypted=_cipher(secret_key).encrypt(token.encode()).decode(),
        enabled=True,
        created_at=datetime.now(UTC),
        **_checked(
            methods=methods,
            shop_codes=shop_codes,
            account_numbers=account_numbers,
            ip_allow=ip_allow,
            data_mask=data_mask,
            rate_limit_per_minute=rate_limit_per_minute,
            response_style=response_style,
        ),
    )
    new_id = conn.execute(
        integrators.insert().values(**values).returning(integrators.c.id)
    ).scalar_one()
    return get_integrator(conn, new_id), token


def set_enabled(conn: Connection, ref: int | str, enabled: bool) -> Integrator:
    app = get_integrator(conn, ref)
    conn.execute(
        integrators.update().where(integrators.c.id == app.id).values(enabled=bool(enabled))
    )
    return get_integrator(conn, app.id)


def rotate_token(conn: Connection, ref: int | str, secret_key: Cipher | str) -> str:
    """A new token replaces the old one at once; returns it (shown once)."""
    app = get_integrator(conn, ref)
    token = new_token()
    conn.execute(
        integrators.update()
        .where(integrators.c.id == app.id)
        .values(
            token_encrypted=_cipher(secret_key).encrypt(token.encode()).decode(),
            token_rotated_at=datetime.now(UTC),
        )
    )
    return token


def grant(
    conn: Connection,
    ref: int | str,
    *,
    methods=UNSET,
    shop_codes=UNSET,
    account_numbers=UNSET,
    ip_allow=UNSET,
    data_mask=UNSET,
    rate_limit_per_minute=UNSET,
    response_style=UNSET,
) -> Integrator:
    """Change what an app may do. Arguments left UNSET stay as they are; for shop_codes,
    account_numbers, ip_allow and rate_limit_per_minute, None lifts the restriction."""
    app = get_integrator(conn, ref)
    given = {
        k: v
        for k, v in dict(
            methods=methods,
            shop_codes=shop_codes,
            account_numbers=account_numbers,
            ip_allow=ip_allow,
            data_mask=data_mask,
            rate_limit_per_minute=rate_limit_per_minute,
            response_style=response_style,
        ).items()
        if v is not UNSET
    }
    if given:
        values = _checked(**given)
        conn.execute(integrators.update().where(integrators.c.id == app.id).values(**values))
    return get_integrator(conn, app.id)


def _new_flag(conn: Connection) -> str:
    while True:
        flag = "app" + "".join(
            secrets.choice(string.ascii_lowercase + string.digits) for _ in range(9)
        )
        if find_integrator(conn, flag) is None:
            return flag


def _strings(name: str, value: Iterable[str] | None, pattern: re.Pattern | None = None):
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    items: list[str] = []
    for raw in value:
        item = str(raw).strip()
        if not item or len(item) > 128 or (pattern is not None and not pattern.match(item)):
            raise ValidationError(name, f"{raw!r} is not valid")
        if item not in items:
            items.append(item)
    return items


def _networks(value: Iterable[str] | None) -> list[str] | None:
    items = _strings("ip_allow", value)
    if items is None:
        return None
    try:
        return [str(ipaddress.ip_network(item, strict=False)) for item in items]
    except ValueError as exc:
        raise ValidationError("ip_allow", str(exc)) from exc


def _checked(**given) -> dict:
    """Validate and normalise the grant fields present in ``given``."""
    out: dict = {}
    if "methods" in given:
        methods = _strings("methods", given["methods"], _METHOD_RE)
        if methods is None:
            raise ValidationError("methods", "must be a list (use ['*'] for all)")
        out["methods"] = methods
    for key in ("shop_codes", "account_numbers"):
        if key in given:
            out[key] = _strings(key, given[key])
    if "ip_allow" in given:
        out["ip_allow"] = _networks(given["ip_allow"])
    if "data_mask" in given:
        out["data_mask"] = bool(given["data_mask"])
    if "rate_limit_per_minute" in given:
        rate = given["rate_limit_per_minute"]
        if rate is not None and (not isinstance(rate, int) or isinstance(rate, bool) or rate < 1):
            raise ValidationError("rate_limit_per_minute", "must be a positive integer or None")
        out["rate_limit_per_minute"] = rate
    if "response_style" in given:
        if given["response_style"] not in RESPONSE_STYLES:
            raise ValidationError("response_style", f"must be one of {', '.join(RESPONSE_STYLES)}")
        out["response_style"] = given["response_style"]
    return out


__all__ = [
    "ALL",
    "UNSET",
    "Cipher",
    "Integrator",
    "create_integrator",
    "fernet_for",
    "find_integrator",
    "get_integrator",
    "grant",
    "list_integrators",
    "new_token",
    "rotate_token",
    "set_enabled",
    "token_of",
]
