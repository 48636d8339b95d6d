"""The request pipeline of the signed open API, over a parsed parameter dict (no HTTP here).

Checks run in the original server's order and the first failure ends the request:

1. presence of ``flag``, ``method``, ``sign``, ``timestamp``; ``method`` is ``class.method``;
2. ``timestamp`` within the window (before the sign, even for an unknown flag);
3. the sign matches the flag's token (a disabled flag's token still counts). An unknown flag
   is refused exactly like a wrong sign, and until the sign is verified every refusal is in
   the default (seed) style: nothing tells an unknown flag from a known one, or an app's
   style, to a caller without its token;
4. the sign was not used before — it is recorded *here*, so a request that fails a later
   check still uses up its sign;
5. the method exists; 6. permission: flag enabled, method granted, IP allowed, rate limit;
7. ``type`` is json (and ``charset`` utf-8); 8. application parameters; 9. the call.

Apps are cached per process (``cache_seconds``, with their decrypted token) for checks 1-3.
The replay guard's statement reads the app's current record in the same round trip (see
:func:`zhangben.access.replay.remember_sign_and_read_app`), and checks 3-9 then use that
record: a rotated token, a disabled flag or changed grants take effect on the next call, as
without the cache.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from zhangben.access.cache import TtlCache
from zhangben.access.integrators import Integrator, token_of
from zhangben.access.service import Access
from zhangben.core.ledger import Ledger
from zhangben.core.texts import text_problem
from zhangben.shopex import bill_methods, methods
from zhangben.shopex.params import ParamError
from zhangben.shopex.registry import REGISTRY, MethodContext, MethodRegistry
from zhangben.shopex.wire.codes import Reason, render_error, render_success, sign_mismatch_detail
from zhangben.shopex.wire.signature import explain, verify_sign
from zhangben.shopex.wire.times import parse_request_timestamp, within_window
from zhangben.web import outage

if TYPE_CHECKING:
    from zhangben.access.integrators import Cipher

log = logging.getLogger("zhangben.shopex")

MAX_WINDOW_SECONDS = 3600
SYSTEM_PARAMS = ("flag", "method", "sign", "timestamp")
#: The longest each system parameter may be (a flag is 1-64 characters when it is made; a
#: sign is 32 hex digits): anything longer, a NUL or a lone surrogate is a 2002 at check 1.
SYSTEM_TEXT_SIZES = {"flag": 64, "method": 128, "sign": 128, "timestamp": 64}
#: Signs with for an unknown flag, so that refusing it costs what a wrong sign costs.
_NO_TOKEN = "-" * 32  # noqa: S105 - not a secret: no app has it (tokens are alphanumeric)
#: The modules whose methods the gateway serves.
METHOD_MODULES = (methods, bill_methods)


class Refused(Exception):
    """A check failed: ``reason`` picks the code, ``sub_msg`` says why."""

    def __init__(self, reason: Reason, sub_msg: Any = None, retry_after: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.sub_msg = sub_msg
        self.retry_after = retry_after


@dataclass
class Outcome:
    """What the HTTP layer sends: ``body`` (a dict for ``wire.numbers.dumps``), the status
    (200, or 429 / 503 with ``retry_after``), and what the request log may show."""

    body: dict[str, Any]
    code: int | str
    status: int = 200
    retry_after: int | None = None
    flag: str | None = None
    method: str | None = None
    #: why it was refused (None for an answer)
    reason: Reason | None = None


@dataclass(frozen=True, slots=True)
class KnownApp:
    """An app as the gateway holds it: its record and its token in clear text (decrypted once
    per token, not per call)."""

    app: Integrator
    token: str = field(repr=False)


@dataclass
class Gateway:
    ledger: Ledger
    cipher: Cipher
    tz: ZoneInfo
    window_seconds: int = 300
    #: Every method of METHOD_MODULES (importing a method module registers its methods).
    registry: MethodRegistry = field(default_factory=lambda: REGISTRY)
    #: The clock (Unix seconds); tests replace it to probe the window's edges.
    clock: Callable[[], float] = time.time
    #: How long an app's record may serve checks 1-3 before it is read again (seconds).
    cache_seconds: float = 5.0

    def __post_init__(self) -> None:
        self.window_seconds = min(max(int(self.window_seconds), 1), MAX_WINDOW_SECONDS)
        self.apps: TtlCache[str, KnownApp] = TtlCache(self.cache_seconds)
        self.access = Access(self.ledger)

    def handle(self, params: dict[str, Any], client_ip: str | None) -> Outcome:
        """Run every check and the call; never raises."""
        state = _State(params=params)
        try:
            data = self._pipeline(state, client_ip)
            body = render_success(data, state.style)
            return Outcome(body, 0, flag=state.flag, method=state.method)
        except Refused as refused:
            return self._refusal(state, refused)
        except Exception as exc:  # never a stack trace on the wire
            retry_after = outage.unavailable(exc, "shopex")
            if retry_after is not None:  # logged once per failure class, without a trace
                return self._refusal(
                    state,
                    Refused(
                        Reason.UNAVAILABLE,
                        f"the database is unavailable; sign the call again and retry in "
                        f"{retry_after} s",
                        retry_after=retry_after,
                    ),
                )
            log.error(
                "shopex call failed: method=%s flag=%s error=%s",
                state.method,
                state.flag,
                type(exc).__name__,
                exc_info=exc,
            )
            return self._refusal(state, Refused(Reason.INTERNAL, "internal error"))

    def refuse(self, reason: Reason, sub_msg: Any) -> Outcome:
        """An outcome for a request that could not even be parsed."""
        return self._refusal(_State(params={}), Refused(reason, sub_msg))

    def _refusal(self, state: _State, refused: Refused) -> Outcome:
        body = render_error(refused.reason, refused.sub_msg, state.style)
        code = body["code"] if "code" in body else body["error_response"]["code"]
        status = _STATUS.get(refused.reason, 200)
        return Outcome(
            body, code, status, refused.retry_after, state.flag, state.method, refused.reason
        )

    # -- the steps ---------------------------------------------------------------------------

    def _pipeline(self, state: _State, client_ip: str | None) -> dict[str, Any]:
        # Until the sign is verified nothing tells one flag from another: every refusal is in
        # the default (seed) style, and an unknown flag is a sign mismatch like a known one's.
        params = state.params
        _check_presence(state)
        now = self.clock()
        ts = self._check_timestamp(params["timestamp"], now)
        known, cached = self._lookup(state.flag)
        known = self._check_sign(known, cached, params)
        app = self._check_replay(known, state, params, ts, now)
        handler = self.registry.get(state.method)
        if handler is None:
            raise Refused(Reason.UNKNOWN_METHOD, f"no method {state.method!r}")
        self._check_permission(app, state, client_ip, now)
        _check_format(params)
        ctx = MethodContext(self.ledger, app, self.tz, app.response_style)
        try:
            return handler(ctx, params)
        except ParamError as exc:
            reason = Reason.MISSING_APP_PARAM if exc.missing else Reason.BAD_PARAM
            raise Refused(reason, exc.message) from None

    def _lookup(self, flag: str) -> tuple[KnownApp | None, bool]:
        """The app of ``flag`` and whether it came from the cache."""
        known = self.apps.get(flag)
        if known is not None:
            return known, True
        app = self.access.find_integrator(flag)
        return (None if app is None else self._remember(app)), False

    def _remember(self, app: Integrator, previous: KnownApp | None = None) -> KnownApp:
        if previous is not None and previous.app.token_encrypted == app.token_encrypted:
            known = KnownApp(app, previous.token)
        else:
            known = KnownApp(app, token_of(app, self.cipher))
        self.apps.put(app.flag, known)
        return known

    def _check_timestamp(self, value: Any, now: float) -> datetime:
        try:
            ts = parse_request_timestamp(str(value), self.tz)
        except ValueError:
            raise Refused(
                Reason.TIMESTAMP_OUT_OF_WINDOW,
                "timestamp must be Unix seconds, yyyyMMddHHmmss or yyyy-MM-dd HH:mm:ss",
            ) from None
        server = datetime.fromtimestamp(now, UTC)
        if not within_window(ts, server, self.window_seconds):
            skew = int((ts - server).total_seconds())
            raise Refused(
                Reason.TIMESTAMP_OUT_OF_WINDOW,
                f"timestamp is {skew:+d} s from server time; the window is "
                f"±{self.window_seconds} s",
            )
        return ts

    def _check_sign(self, known: KnownApp | None, cached: bool, params: dict[str, Any]) -> KnownApp:
        """The app whose token signed ``params``; an unknown flag is refused exactly as a
        known flag with a wrong sign is, after the same work."""
        if known is None:
            verify_sign(params, _NO_TOKEN, params["sign"])
            raise self._sign_mismatch(None, params)
        if verify_sign(params, known.token, params["sign"]):
            return known
        if cached:  # the token may have been rotated since it was cached: read it again
            self.apps.discard(known.app.flag)
            fresh, _ = self._lookup(known.app.flag)
            if fresh is None:
                raise self._sign_mismatch(None, params)
            known = fresh
            if verify_sign(params, known.token, params["sign"]):
                return known
        raise self._sign_mismatch(known, params)

    @staticmethod
    def _sign_mismatch(known: KnownApp | None, params: dict[str, Any]) -> Refused:
        token = _NO_TOKEN if known is None else known.token
        steps = explain(params, token)  # the concatenation with a token param redacted
        detail = sign_mismatch_detail(str(params["sign"]), steps["concatenation"])
        return Refused(Reason.SIGN_MISMATCH, detail)

    def _check_replay(
        self, known: KnownApp, state: _State, params: dict[str, Any], ts: datetime, now: float
    ) -> Integrator:
        """Record the sign (durably, in the database) and return the app's current record,
        read in the same statement."""
        server = datetime.fromtimestamp(now, UTC)
        expires = max(ts, server) + timedelta(seconds=self.window_seconds + 1)
        flag, sign = known.app.flag, params["sign"]
        # one atomic statement: no BEGIN/COMMIT round trips
        fresh, current = self.access.remember_sign(flag, sign, expires, server)
        if current is None:  # deleted since it was cached
            self.apps.discard(flag)
            raise Refused(Reason.UNKNOWN_FLAG, f"unknown flag {flag!r}")
        rotated = current.token_encrypted != known.app.token_encrypted
        known = self._remember(current, known)  # just read: cached afresh
        if rotated and not verify_sign(params, known.token, sign):
            raise self._sign_mismatch(known, params)
        state.style = current.response_style  # the sign is verified: the app's own style
        if not fresh:
            raise Refused(Reason.REPLAYED, "this sign was already used: repeated request")
        return current

    def _check_permission(
        self, app: Integrator, state: _State, client_ip: str | None, now: float
    ) -> None:
        if not app.enabled:
            # the seed's 1001 for a disabled flag; the original's e000004
            reason = Reason.UNKNOWN_FLAG if app.response_style == "seed" else Reason.FORBIDDEN
            raise Refused(reason, f"flag {app.flag!r} is disabled")
        if not app.may_call(state.method):
            raise Refused(Reason.FORBIDDEN, f"method {state.method!r} is not granted to this flag")
        if not app.allows_ip(client_ip):
            raise Refused(Reason.FORBIDDEN, f"address {client_ip} is not allowed for this flag")
        if app.rate_limit_per_minute:
            limit = app.rate_limit_per_minute
            # one atomic upsert: no BEGIN/COMMIT round trips
            wait = self.access.hit_rate_limit(app.flag, limit, now)
            if wait is not None:
                raise Refused(
                    Reason.RATE_LIMITED,
                    f"rate limit of {limit} calls per minute exceeded; retry in {wait} s",
                    retry_after=wait,
                )


#: HTTP statuses other than 200 (every other answer is 200, as the original's).
_STATUS = {Reason.RATE_LIMITED: 429, Reason.UNAVAILABLE: 503}


@dataclass
class _State:
    params: dict[str, Any]
    style: str = "seed"
    flag: str | None = None
    method: str | None = None


def _unfit(value: Any, size: int) -> str | None:
    return text_problem(value, size) if isinstance(value, str) else None


def _php_empty(value: Any) -> bool:
    return value is None or value == "" or value == "0" or value is False or value == {}


def _check_presence(state: _State) -> None:
    params = state.params
    missing = [name for name in SYSTEM_PARAMS if _php_empty(params.get(name))]
    unfit = {name: _unfit(params.get(name), size) for name, size in SYSTEM_TEXT_SIZES.items()}
    for name in ("flag", "method"):
        if isinstance(params.get(name), str) and name not in missing and not unfit[name]:
            setattr(state, name, params[name])
    if missing:
        raise Refused(Reason.MISSING_PARAM, f"missing system parameter: {', '.join(missing)}")
    bad = [n for n in SYSTEM_PARAMS if not isinstance(params[n], str | int) or params[n] is True]
    if bad:
        raise Refused(Reason.BAD_SYSTEM_PARAM, f"system parameter must be a string: {bad[0]}")
    for name, problem in unfit.items():
        if problem:  # before any of them reaches the database (the flag's lookup, the sign's)
            raise Refused(Reason.BAD_SYSTEM_PARAM, f"{name} {problem}")
    method = str(params["method"])
    klass, _, name = method.rpartition(".")
    if not klass or not name:
        raise Refused(Reason.BAD_SYSTEM_PARAM, "method must be class.method")
    state.flag, state.method = str(params["flag"]), method


def _check_format(params: dict[str, Any]) -> None:
    kind = params.get("type")
    if kind is not None and str(kind).strip().lower() != "json":
        raise Refused(Reason.BAD_TYPE, "type must be json")
    charset = params.get("charset")
    if charset is not None and str(charset).strip().lower() not in ("utf-8", "utf8"):
        raise Refused(Reason.BAD_SYSTEM_PARAM, "charset must be utf-8")
