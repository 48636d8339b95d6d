"""One settings object, read from ``ZHANGBEN_*`` environment variables."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHANGBEN_", env_file=".env", extra="ignore")

    #: SQLAlchemy URL. SQLite (a file in the working directory) is the embedded default;
    #: PostgreSQL (``postgresql+psycopg://…``) is production.
    database_url: str = "sqlite:///zhangben.db"
    #: Business time zone: naive times on the wire are read in it, and times are shown in it.
    timezone: str = "Asia/Shanghai"
    #: Key that encrypts integrator tokens at rest (Fernet, urlsafe base64 of 32 bytes).
    #: When unset a key is derived from the database URL, which is fine for a demo only.
    secret_key: str | None = None
    #: ShopEx open API: accepted clock skew of ``timestamp`` in seconds (at most 3600).
    shopex_window_seconds: int = 300
    #: 壹川 login sessions live this long (seconds).
    session_ttl_seconds: int = 8 * 3600
    #: The largest bill file (or ZIP) the console takes in one upload (bytes); larger bills
    #: go through ``zhangben import``.
    console_max_upload_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    #: Each worker process caches an API key's or a ShopEx app's record this long (seconds)
    #: after reading it, so a revoked key or a changed app takes effect within this time in
    #: every process; 0 reads the database on every request.
    auth_cache_seconds: float = Field(5.0, ge=0, le=60)
    #: REST API: an Idempotency-Key claim still in progress after this many seconds is taken
    #: to be dead (its worker was killed, or the database went away) and a retry may take it
    #: over; until then a retry gets 409 ``idempotency_in_progress``. Safe at any value: the
    #: ledger core's own key replays a posting that was written.
    idempotency_stale_seconds: float = Field(15.0, ge=1, le=3600)
    #: Reconciliation: a forced match whose absolute difference is above this many yuan is
    #: stored pending, its lines held, until a second person with the force right approves
    #: or rejects it (docs/reconciliation.md#a-second-approver).
    recon_force_approval_above: Decimal = Field(
        Decimal("1000.00"), ge=0, max_digits=18, decimal_places=4
    )
    host: str = "127.0.0.1"
    port: int = 8000
    #: Serve Prometheus metrics at ``/metrics`` (off: no such route).
    metrics: bool = False
    #: When set, ``/metrics`` answers only ``Authorization: Bearer <this token>``.
    metrics_token: SecretStr | None = None
    #: ``text``, or ``json``: every log line a JSON object, and one line per request.
    log_format: Literal["text", "json"] = "text"

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value):
        return None if value == "" else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f"{value!r} is not a time zone (an IANA name such as Asia/Shanghai or UTC)"
            ) from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    return Settings()
