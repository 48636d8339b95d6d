"""The access facade: users and their logins, API keys, apps (integrators) and the abuse guards,
as the adapters (CLI, REST, 壹川, ShopEx, demo) use them.

As with :class:`~zhangben.core.ledger.Ledger`, each method is one transaction of its own (writes
retried on transient conflicts) and raises a :class:`~zhangben.core.errors.LedgerError` subclass,
having written nothing, when it refuses a request. The functions it calls take a connection and
stay the place to read the rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from zhangben.access import apikeys, idempotency, ratelimit, replay, sessions
from zhangben.access import integrators as apps
from zhangben.access.apikeys import ApiKey
from zhangben.access.integrators import Integrator
from zhangben.core.ledger import Ledger
from zhangben.core.records import Account, User
from zhangben.store.engine import read_statement, read_transaction, run_statements, run_write

if TYPE_CHECKING:
    from zhangben.access.integrators import Cipher


class Access:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._engine = ledger.engine

    def _read(self, work):
        with read_transaction(self._engine) as conn:
            return work(conn)

    def _read_one(self, work):
        """A read of one statement: one round trip on PostgreSQL (see ``read_statement``)."""
        with read_statement(self._engine) as conn:
            return work(conn)

    def _write(self, work):
        return run_write(self._engine, work)

    def _statements(self, work):
        """Statements atomic on their own: no BEGIN/COMMIT round trips (``run_statements``)."""
        return run_statements(self._engine, work)

    # -- users ------------------------------------------------------------------------------

    def add_user(
        self,
        *,
        username: str,
        display_name: str = "",
        role: str = "user",
        password: str | None = None,
    ) -> User:
        """A user who logs in with ``password`` (none: cannot log in until one is set)."""
        return self._write(
            lambda c: sessions.add_user(
                c, username=username, display_name=display_name, role=role, password=password
            )
        )

    def set_password(self, username: str, password: str) -> User:
        """Set a new password and revoke the user's sessions."""
        return self._write(lambda c: sessions.set_password(c, username, password))

    def set_user_enabled(self, username: str, enabled: bool) -> User:
        """Enable or disable a user; disabling revokes their sessions at once."""
        return self._write(lambda c: sessions.set_enabled(c, username, enabled))

    def set_role(self, username: str, role: str) -> User:
        """Store another role (:mod:`zhangben.core.roles`); the user's sessions are revoked."""
        return self._write(lambda c: sessions.set_role(c, username, role))

    def grant_account(self, username: str, account_number: str) -> Account:
        """Make ``username`` the owner of the account."""
        return self._write(lambda c: sessions.grant_account(c, username, account_number))

    # -- sessions ---------------------------------------------------------------------------

    def login(
        self,
        username: str,
        password: str,
        *,
        ip: str | None,
        now: datetime,
        ttl_seconds: int,
    ) -> tuple[str, User, datetime]:
        """Check the password and open a session: ``(token, user, expires_at)``. The attempt is
        counted as a failure (committed) before the password is checked, serialized per
        address, so at most ``MAX_FAILURES`` guesses per username and address are judged per
        window however they are timed; a success forgets that username's failures there.
        argon2 runs outside any transaction.
        Raises :class:`~zhangben.access.sessions.LoginFailed` (or ``LoginThrottled``)."""
        attempt = self._write(lambda c: sessions.precheck_login(c, username, ip, now))
        ok = sessions.password_matches(attempt.row, password)
        result = self._write(lambda c: sessions.finish_login(c, attempt, ttl_seconds, ok))
        if isinstance(result, sessions.LoginFailed):
            raise result
        return result

    def unlock_logins(self, username: str | None, ip: str | None = None) -> int:
        """Forget failed logins (``username``'s, from ``ip`` only when given; or every one
        from ``ip``), lifting the locks they make; returns how many were forgotten."""
        return self._write(lambda c: sessions.unlock(c, username, ip))

    def login_lock(
        self, username: str, ip: str, now: datetime | None = None
    ) -> sessions.Lock | None:
        """The lock in force for ``username`` logging in from ``ip``, if any."""
        now = now or datetime.now(UTC)
        return self._read(lambda c: sessions.lock_of(c, username, ip, now))

    def session_user(self, token: str | None, now: datetime | None = None) -> User | None:
        """The user of a live session, or None (unknown, expired, revoked, user disabled)."""
        now = now or datetime.now(UTC)
        return self._read_one(lambda c: sessions.authenticate(c, token, now))

    def logout(self, token: str | None) -> bool:
        """Revoke the session of ``token``; True when a live session was revoked."""
        return self._write(lambda c: sessions.logout(c, token))

    # -- API keys ---------------------------------------------------------------------------

    def add_api_key(
        self,
        *,
        integrator: str | None = None,
        new_integrator: str | None = None,
        cipher: Cipher | None = None,
        scopes: Iterable[str] = ("read",),
        shop_codes: list[str] | None = None,
        account_numbers: list[str] | None = None,
        name: str = "",
    ) -> tuple[Integrator, ApiKey, str]:
        """A key for the integrator ``integrator`` (flag or id), or for a new integrator named
        ``new_integrator`` (its token encrypted with ``cipher``), in one transaction:
        ``(integrator, key, secret)``. The secret is not stored."""

        def work(conn):
            if new_integrator is not None:
                app, _token = apps.create_integrator(conn, name=new_integrator, secret_key=cipher)
            else:
                app = apps.get_integrator(conn, integrator)
            key, secret = apikeys.create_key(
                conn,
                app.id,
                scopes=tuple(scopes),
                shop_codes=shop_codes,
                account_numbers=account_numbers,
                name=name,
            )
            return app, key, secret

        return self._write(work)

    def api_keys(self, integrator: str | None = None) -> list[ApiKey]:
        """Every key, or the keys of one integrator (flag or id)."""

        def work(conn):
            iid = apps.get_integrator(conn, integrator).id if integrator else None
            return apikeys.list_keys(conn, iid)

        return self._read(work)

    def revoke_api_key(self, key_id: int) -> ApiKey:
        """Revoke a key (idempotent)."""
        return self._write(lambda c: apikeys.revoke_key(c, key_id))

    def authenticate_key(self, secret: str) -> ApiKey | None:
        """The live key of ``secret``, or None."""
        return self._read_one(lambda c: apikeys.authenticate_key(c, secret))

    # -- apps (integrators) -----------------------------------------------------------------

    def add_integrator(self, *, name: str, cipher: Cipher, **grants) -> tuple[Integrator, str]:
        """Create an app; returns it and its token (shown this once). ``grants``: flag,
        methods, shop_codes, account_numbers, ip_allow, data_mask, rate_limit_per_minute,
        response_style."""
        return self._write(
            lambda c: apps.create_integrator(c, name=name, secret_key=cipher, **grants)
        )

    def integrators(self) -> list[Integrator]:
        return self._read(apps.list_integrators)

    def integrator(self, ref: int | str) -> Integrator:
        """The app of a flag or id (raises NotFound)."""
        return self._read(lambda c: apps.get_integrator(c, ref))

    def find_integrator(self, flag: str) -> Integrator | None:
        """The app of ``flag``, or None (one statement)."""
        return self._read_one(lambda c: apps.find_integrator(c, flag))

    def set_integrator_enabled(self, ref: int | str, enabled: bool) -> Integrator:
        return self._write(lambda c: apps.set_enabled(c, ref, enabled))

    def rotate_token(self, ref: int | str, cipher: Cipher) -> str:
        """Replace the app's token at once; returns the new one."""
        return self._write(lambda c: apps.rotate_token(c, ref, cipher))

    def grant(self, ref: int | str, **changes) -> Integrator:
        """Change what an app may call and see (see :func:`zhangben.access.integrators.grant`)."""
        return self._write(lambda c: apps.grant(c, ref, **changes))

    # -- guards: replay, rate limit, idempotency records ------------------------------------

    def remember_sign(
        self, flag: str, sign: str, expires_at: datetime, now: datetime
    ) -> tuple[bool, Integrator | None]:
        """Record a request's sign and read the app's current record, in one atomic
        statement: ``(fresh, app)`` (see :func:`replay.remember_sign_and_read_app`)."""
        return self._statements(
            lambda c: replay.remember_sign_and_read_app(c, flag, sign, expires_at, now)
        )

    def hit_rate_limit(self, key: str, limit: int, now_ts: float) -> int | None:
        """Count one call of ``key``: None within ``limit`` calls this minute, else the seconds
        to wait (one atomic upsert)."""
        return self._statements(lambda c: ratelimit.hit(c, key, limit, now_ts))

    def claim_idempotency_key(
        self,
        caller: str,
        key: str,
        request_hash: str,
        stale_after: timedelta = idempotency.STALE_AFTER,
    ) -> idempotency.StoredResponse | None:
        """Claim ``key``; the stored response when it was answered before
        (see :func:`idempotency.begin`)."""
        return self._statements(
            lambda c: idempotency.begin(c, caller, key, request_hash, stale_after=stale_after)
        )

    def release_idempotency_key(self, caller: str, key: str) -> None:
        self._statements(lambda c: idempotency.release(c, caller, key))

    def store_idempotent_response(
        self, caller: str, key: str, status: int, body: str, content_type: str
    ) -> None:
        self._statements(lambda c: idempotency.store(c, caller, key, status, body, content_type))
