"""The HTTP face of the signed open API: ``/index.php/openapi/rpc/service/``.

Parameters come from a form-urlencoded body (PHP nested keys ``a[b]=c`` included), a
multipart body (files ignored, as PHP's ``$_POST`` has none), a JSON object body, or — for GET,
or a POST without a body — the query string. Every answer is HTTP 200 with a JSON body, except
rate limiting (429 with ``Retry-After``), a database outage (503 with ``Retry-After``) and a
body above :data:`MAX_BODY_BYTES` (413, refused while it streams in, before any parsing:
:mod:`zhangben.web.bodylimit`); those three carry the same JSON error body as the others. The
client address is the TCP peer (``request.client``); behind a reverse proxy, let uvicorn
rewrite it from ``X-Forwarded-For`` for trusted proxies only (``--forwarded-allow-ips``).

The routes are left out of the OpenAPI schema (they are not REST); the README documents them.
"""

from __future__ import annotations

import json
import logging
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from zhangben.access.integrators import fernet_for
from zhangben.core.ledger import Ledger
from zhangben.core.texts import MAX_NESTING, nesting_depth
from zhangben.settings import Settings
from zhangben.shopex.gateway import Gateway, Outcome
from zhangben.shopex.wire.codes import Reason
from zhangben.shopex.wire.forms import parse_php_fields
from zhangben.shopex.wire.numbers import dumps
from zhangben.web import bodylimit, observe

log = logging.getLogger("zhangben.shopex")

PATHS = (
    "/index.php/openapi/rpc/service/",
    "/index.php/openapi/rpc/service",
    "/openapi/rpc/service/",
    "/openapi/rpc/service",
)
MAX_BODY_BYTES = 1 << 20
MAX_FIELDS = 1000
MEDIA_TYPE = "application/json; charset=utf-8"
#: The refusals the metrics count (zhangben_refusals_total), by the gateway's reason.
_REFUSALS = {Reason.RATE_LIMITED: "rate_limited", Reason.REPLAYED: "replayed"}


class BadRequest(Exception):
    pass


def mount(app: FastAPI, ledger: Ledger, settings: Settings) -> None:
    gateway = Gateway(
        ledger=ledger,
        cipher=fernet_for(settings.secret_key, settings.database_url),
        tz=settings.tz,
        window_seconds=settings.shopex_window_seconds,
        cache_seconds=settings.auth_cache_seconds,
    )
    app.state.shopex_gateway = gateway
    text_log = settings.log_format == "text"

    async def service(request: Request) -> Response:
        started = time.perf_counter()
        try:
            params = await read_params(request)
        except BadRequest as exc:
            outcome = gateway.refuse(Reason.BAD_SYSTEM_PARAM, str(exc))
        else:
            client_ip = request.client.host if request.client else None
            outcome = await run_in_threadpool(gateway.handle, params, client_ip)
        response = _response(gateway, outcome)
        observe.note(
            request,
            method=outcome.method if gateway.registry.get(outcome.method or "") else "unknown",
            flag=_loggable(outcome.flag, 64) if outcome.flag else None,
            code=outcome.code,
            refusal=_REFUSALS.get(outcome.reason),
        )
        if text_log:  # in JSON the request line says the same (zhangben.web.observe)
            log.info(
                "shopex method=%s flag=%s code=%s status=%d %.1fms",
                _loggable(outcome.method),
                _loggable(outcome.flag),
                outcome.code,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
        return response

    def too_large(max_bytes: int) -> Response:
        outcome = gateway.refuse(
            Reason.BAD_SYSTEM_PARAM, f"request body too large (at most {max_bytes} bytes)"
        )
        if text_log:
            log.info("shopex method=- flag=- code=%s status=413 body too large", outcome.code)
        return Response(dumps(outcome.body), 413, media_type=MEDIA_TYPE)

    bodylimit.limit(app, sorted({p.rstrip("/") for p in PATHS}), MAX_BODY_BYTES, too_large)

    # plain Starlette routes: the handler reads the request itself, so FastAPI's dependency
    # solving and request handling would only add per-request work
    for path in PATHS:
        app.router.routes.append(
            Route(path, service, methods=["GET", "POST"], include_in_schema=False)
        )


def _response(gateway: Gateway, outcome: Outcome) -> Response:
    try:
        content = dumps(outcome.body)
    except (TypeError, ValueError) as exc:
        log.error("shopex response not encodable: %s", type(exc).__name__)
        outcome = gateway.refuse(Reason.INTERNAL, "internal error")
        content = dumps(outcome.body)
    headers = {"Retry-After": str(outcome.retry_after)} if outcome.retry_after else None
    return Response(content, outcome.status, headers=headers, media_type=MEDIA_TYPE)


async def read_params(request: Request) -> dict[str, Any]:
    """The request's parameters as the PHP-style array the sign is computed over."""
    if request.method == "GET":
        return _query(request)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise BadRequest("request body too large")
    if ctype == "multipart/form-data":
        try:
            form = await request.form(max_files=MAX_FIELDS, max_fields=MAX_FIELDS)
        except Exception:
            raise BadRequest("malformed multipart body") from None
        pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        return parse_php_fields(pairs)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest("request body too large")
    if not body.strip():
        return _query(request)
    if ctype == "application/json" or ctype.endswith("+json"):
        return _json_object(body)
    return parse_php_fields(_pairs(body.decode("utf-8", "replace")))


def _query(request: Request) -> dict[str, Any]:
    return parse_php_fields(_pairs(request.url.query))


def _pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise BadRequest("too many fields") from None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the JSON body must be an object")
    # the parameter array itself is one level; below it, PHP's max_input_nesting_level
    if nesting_depth(data, MAX_NESTING + 1) > MAX_NESTING + 1:
        raise BadRequest(f"the JSON body nests deeper than {MAX_NESTING} levels")
    return data


def _no_constant(name: str):
    raise ValueError(name)


def _loggable(value: str | None, size: int = 80) -> str:
    """A request-supplied name, made safe for one log line."""
    if value is None:
        return "-"
    text = "".join(c if c.isprintable() and not c.isspace() else "?" for c in value[:size])
    return text or "-"
