"""Client for the ShopEx OMS open API (zhangben's gateway or the original).

    with ShopexClient("https://erp.example.com", "erp01", token) as client:
        page = client.call("finance.getTransactionList", account_id="ACC001", page_no=1)

Each call adds the system parameters (``flag``, ``method``, ``ver=1``, ``charset=utf-8``,
``type=json``, ``timestamp`` in Unix seconds, and a random ``nonce`` so that two identical
calls within one second get different signs and are not refused as replays), signs them,
and POSTs them form-encoded; nested values go PHP-style (``a[b]=c``, lists ``a[0]=x``).
Both response styles are understood: the data of a success is returned (``{"response": …}``
unwrapped, or the seed style's top-level fields without ``code``/``msg``), a failure raises
a :class:`ShopexError` subclass. JSON numbers come back as ``Decimal``, never ``float``.
Transport failures surface as ``httpx`` exceptions.

An HTTP 503 (the server's database is unavailable) is retried, ``retries`` times after
``Retry-After`` (at most 10 s each), then raised as :class:`Unavailable`. That is safe: every
method of the open API reads, and each attempt is signed afresh (new timestamp and nonce), so
the replay guard never refuses a retry.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx

from zhangben.shopex.wire.signature import sign_params

__all__ = [
    "AsyncShopexClient",
    "InvalidParams",
    "PermissionDenied",
    "ReplayError",
    "ServerError",
    "ShopexClient",
    "ShopexError",
    "SignatureError",
    "TimestampError",
    "UnknownFlag",
    "Unavailable",
    "UnknownMethod",
]

ENDPOINT = "/index.php/openapi/rpc/service/"


class ShopexError(Exception):
    """A refused call: ``code`` (int in the seed style, ``"e0000NN"`` in the shopex style,
    ``""`` for the original's business failures, the HTTP status for a non-JSON answer),
    ``msg`` and ``sub_msg`` (the detail, may be ``None``)."""

    def __init__(self, code: int | str, msg: str, sub_msg: Any = None) -> None:
        super().__init__(f"[{code}] {msg}" + (f": {sub_msg}" if sub_msg else ""))
        self.code = code
        self.msg = msg
        self.sub_msg = sub_msg


class SignatureError(ShopexError):
    """The sign did not match (1003 / e000002)."""

    @property
    def server_concatenation(self) -> str | None:
        """The server's concatenated string, when its detail carries one."""
        detail = self.sub_msg
        if isinstance(detail, str):
            try:
                detail = json.loads(detail)
            except ValueError:
                return None
        value = detail.get("assemble_str") if isinstance(detail, dict) else None
        return value if isinstance(value, str) else None


class TimestampError(ShopexError):
    """The timestamp is outside the server's window (1002 / e000008): check the clock."""


class ReplayError(ShopexError):
    """The sign was already used (401 / e000009)."""


class PermissionDenied(ShopexError):
    """Method not granted, IP not allowed or rate limited (403 / e000004)."""


class UnknownMethod(ShopexError):
    """No such method (2003 / e000003)."""


class InvalidParams(ShopexError):
    """Missing or malformed parameters (1, 400, 1004, 2001, 2002 / e000001, e000006)."""


class UnknownFlag(ShopexError):
    """Unknown or disabled flag (1001)."""


class ServerError(ShopexError):
    """The server failed (500 / e000005, e000007) or did not answer JSON."""


class Unavailable(ServerError):
    """The server's database is unavailable (HTTP 503: 503 / e000005); retried by the
    clients before it is raised."""


_SEED_ERRORS: dict[int, type[ShopexError]] = {
    1: InvalidParams,
    400: InvalidParams,
    401: ReplayError,
    403: PermissionDenied,
    500: ServerError,
    503: Unavailable,
    1001: UnknownFlag,
    1002: TimestampError,
    1003: SignatureError,
    1004: InvalidParams,
    2001: InvalidParams,
    2002: InvalidParams,
    2003: UnknownMethod,
}
_E_ERRORS: dict[str, type[ShopexError]] = {
    "e000001": InvalidParams,
    "e000002": SignatureError,
    "e000003": UnknownMethod,
    "e000004": PermissionDenied,
    "e000005": ServerError,
    "e000006": InvalidParams,
    "e000007": ServerError,
    "e000008": TimestampError,
    "e000009": ReplayError,
}


def _wire_value(value: Any) -> Any:
    """The value as the server will see it after PHP form parsing (``None`` = not sent)."""
    if value is None:
        return None
    if isinstance(value, Mapping) or (isinstance(value, list | tuple)):
        pairs = value.items() if isinstance(value, Mapping) else enumerate(value)
        out = {}
        for key, child in pairs:
            key = str(key)
            if not key or "[" in key or "]" in key or "\0" in key:
                raise ValueError(f"nested key {key!r} cannot travel as a form field")
            converted = _wire_value(child)
            if converted is not None:
                out[key] = converted
        return out or None  # an empty array cannot be sent as a form field
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send {value}")
        return format(value, "f")
    raise TypeError(f"cannot send a {type(value).__name__} parameter (floats are refused)")


def _form_pairs(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _form_pairs(f"{prefix}[{key}]", child, out)
    else:
        out.append((prefix, value))


def build_request(flag: str, token: str, method: str, params: Mapping[str, Any]) -> bytes:
    """The signed, form-encoded body of one call."""
    fields: dict[str, Any] = {
        "flag": flag,
        "method": method,
        "ver": "1",
        "charset": "utf-8",
        "type": "json",
        "timestamp": str(int(time.time())),
        "nonce": secrets.token_hex(8),
    }
    for key, value in params.items():
        if key in ("sign", "flag", "method"):
            raise ValueError(f"{key!r} is set by the client, not a call parameter")
        if not key or key.lstrip(" ") != key or any(c in key for c in ".[] \0"):
            raise ValueError(f"parameter name {key!r} would be renamed by PHP form parsing")
        fields[key] = value
    wire = {k: w for k, w in ((k, _wire_value(v)) for k, v in fields.items()) if w is not None}
    wire["sign"] = sign_params(wire, token)
    pairs: list[tuple[str, str]] = []
    for key, value in wire.items():
        _form_pairs(key, value, pairs)
    return urlencode(pairs).encode("ascii")


def parse_response(status: int, body: bytes) -> Any:
    """The data of a success, in either style; raises :class:`ShopexError` otherwise."""
    try:
        return _parse(status, body)
    except ServerError as exc:
        if status == 503 and not isinstance(exc, Unavailable):
            raise Unavailable(exc.code, exc.msg, exc.sub_msg) from None
        raise


def _parse(status: int, body: bytes) -> Any:
    try:
        payload = json.loads(body, parse_float=Decimal)
    except ValueError:
        raise ServerError(status, f"HTTP {status}: not a JSON answer") from None
    if isinstance(payload, dict) and "error_response" in payload:
        err = payload["error_response"] or {}
        code = str(err.get("code") or "")
        cls = _E_ERRORS.get(code, ShopexError)
        raise cls(code, str(err.get("msg") or ""), err.get("sub_msg"))
    if isinstance(payload, dict) and "response" in payload:
        data = payload["response"]
        return {} if data == [] else data
    if isinstance(payload, dict) and isinstance(payload.get("code"), int | str):
        try:
            code = int(payload["code"])
        except ValueError:
            code = -1
        if code == 0:
            return {k: v for k, v in payload.items() if k not in ("code", "msg", "sub_msg")}
        cls = _SEED_ERRORS.get(code, ShopexError)
        raise cls(code, str(payload.get("msg") or ""), payload.get("sub_msg"))
    raise ServerError(status, f"HTTP {status}: unrecognised answer")


MAX_RETRY_WAIT = 10.0


class _Base:
    def __init__(self, flag: str, token: str, retries: int = 3) -> None:
        self.flag = flag
        self._token = token
        self.retries = retries

    def _wait(self, resp: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying ``resp``, or None: answer it."""
        if resp.status_code != 503 or attempt >= self.retries:
            return None
        text = resp.headers.get("Retry-After", "")
        return min(float(text) if text.isdigit() else 0.5 * 2**attempt, MAX_RETRY_WAIT)

    def _body(self, method: str, params: Mapping[str, Any] | None, kw: dict[str, Any]) -> bytes:
        return build_request(self.flag, self._token, method, {**(params or {}), **kw})

    def __repr__(self) -> str:  # never show the token
        return f"{type(self).__name__}(flag={self.flag!r})"


_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


class ShopexClient(_Base):
    """Synchronous client; ``transport`` (e.g. ``httpx.MockTransport``) is for tests."""

    def __init__(
        self,
        base_url: str,
        flag: str,
        token: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        retries: int = 3,
    ) -> None:
        super().__init__(flag, token, retries)
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)

    def call(self, method: str, params: Mapping[str, Any] | None = None, /, **kw: Any) -> Any:
        """Call ``method`` (``class.method``) with ``params`` and/or keyword parameters."""
        attempt = 0
        while True:
            body = self._body(method, params, kw)  # signed afresh for every attempt
            resp = self._http.post(ENDPOINT, content=body, headers=_HEADERS)
            wait = self._wait(resp, attempt)
            if wait is None:
                return parse_response(resp.status_code, resp.content)
            time.sleep(wait)
            attempt += 1

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ShopexClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncShopexClient(_Base):
    """Asynchronous twin of :class:`ShopexClient`."""

    def __init__(
        self,
        base_url: str,
        flag: str,
        token: str,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retries: int = 3,
    ) -> None:
        super().__init__(flag, token, retries)
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def call(self, method: str, params: Mapping[str, Any] | None = None, /, **kw: Any) -> Any:
        """Call ``method`` (``class.method``) with ``params`` and/or keyword parameters."""
        attempt = 0
        while True:
            body = self._body(method, params, kw)  # signed afresh for every attempt
            resp = await self._http.post(ENDPOINT, content=body, headers=_HEADERS)
            wait = self._wait(resp, attempt)
            if wait is None:
                return parse_response(resp.status_code, resp.content)
            await asyncio.sleep(wait)
            attempt += 1

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncShopexClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
