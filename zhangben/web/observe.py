"""Every request observed once, below the surfaces' formats: its request id, surface, method,
status and latency, for the Prometheus metrics (:mod:`.metrics`) and the JSON request log.

:class:`Observe` is the outermost ASGI middleware. For each HTTP request it

* takes the request id from ``X-Request-ID`` when it is fit (1-128 characters of
  ``A-Z a-z 0-9 . _ : @ + = / -``), else makes one (32 hex digits); returns it in the
  response's ``X-Request-ID``; and holds it in :data:`REQUEST_ID` while the request runs, so
  that every log line written meanwhile can name it (:mod:`.logs`);
* after the response, labels the request with its surface (by path), its method (what the
  surface noted, e.g. the ShopEx method; else the HTTP method and the route's template, such
  as ``GET /api/v1/accounts/{number}``, or ``unmatched``: never a raw path, so the labels
  stay few), its status and latency, and hands them to the metrics and the request log.

A surface adds what only it knows with :func:`note` (the ShopEx method and flag, an API key's
id, a 壹川 user, a refusal such as a replayed sign). Nothing here reads a body, a query string
or a credential.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("zhangben.request")

#: The request id of the request being served in this context (None outside requests).
REQUEST_ID: ContextVar[str | None] = ContextVar("zhangben_request_id", default=None)
HEADER = b"x-request-id"
_FIT_ID = re.compile(r"[A-Za-z0-9._:@+=/-]{1,128}")
_VERBS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_SCOPE_KEY = "zhangben.note"
#: the fields of a :class:`Note` a request log line shows (when set)
_LOGGED = ("flag", "key_id", "username", "code", "refusal")


@dataclass(slots=True)
class Note:
    """What a surface tells about its request; every field is optional."""

    #: the method label, when the route's template does not say it (ShopEx: the method called)
    method: str | None = None
    flag: str | None = None  # ShopEx: the integrator's flag
    key_id: int | None = None  # REST: the API key's id (never the key)
    username: str | None = None  # 壹川 and REST sessions: the logged-in user
    code: int | str | None = None  # the surface's own result code (ShopEx)
    refusal: str | None = None  # rate_limited, replayed, login_throttled


def note(request: HTTPConnection, **fields: Any) -> None:
    """Tell the observer about this request (no-op for an app without :class:`Observe`)."""
    found = request.scope.get(_SCOPE_KEY)
    if found is not None:
        for name, value in fields.items():
            setattr(found, name, value)


class Recorder(Protocol):
    """Where finished requests go (:class:`zhangben.web.metrics.Metrics`)."""

    def request(
        self, surface: str, method: str, status: int, seconds: float, refusal: str | None
    ) -> None: ...


def request_id(scope: Scope) -> str:
    """The caller's ``X-Request-ID`` when it is fit, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            text = value.decode("latin-1")
            if _FIT_ID.fullmatch(text):
                return text
            break
    return os.urandom(16).hex()


def route_label(scope: Scope, root_path: str, prefix: str) -> str:
    """``<HTTP method> <route template>``, from what the router matched: a route's path
    (FastAPI keeps an included router's routes relative to its prefix: ``prefix`` is put
    back), or a mount's path (the root path it added) followed by ``/{path}``."""
    verb = scope.get("method", "")
    verb = verb if verb in _VERBS else "OTHER"
    template = getattr(scope.get("route"), "path", None)
    if template is None:
        mounted = scope.get("root_path", root_path)
        if mounted == root_path:
            return f"{verb} unmatched"
        template = mounted[len(root_path) :] + "/{path}"
    elif prefix and not (template == prefix or template.startswith(prefix + "/")):
        template = prefix + template
    return f"{verb} {template}"


class Observe:
    def __init__(
        self,
        app: ASGIApp,
        surfaces: Sequence[tuple[str, Sequence[str]]],
        recorder: Recorder | None = None,
        log_requests: bool = False,
    ) -> None:
        self.app = app
        self.surfaces = [(name, tuple(p.rstrip("/") for p in paths)) for name, paths in surfaces]
        #: a surface's prefix, when it has one (its routes are relative to it)
        self.prefixes = {name: paths[0] for name, paths in self.surfaces if len(paths) == 1}
        self.recorder = recorder
        self.log_requests = log_requests

    def surface(self, path: str) -> str:
        for name, prefixes in self.surfaces:
            for prefix in prefixes:
                if path == prefix or path.startswith(prefix + "/"):
                    return name
        return "service"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = scope.get("root_path", "")
        rid = request_id(scope)
        header = (HEADER, rid.encode("ascii"))
        found = scope[_SCOPE_KEY] = Note()
        status = 500  # unless a response starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        token = REQUEST_ID.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            try:
                self._finish(scope, root_path, found, status, time.perf_counter() - started)
            finally:
                REQUEST_ID.reset(token)

    def _finish(
        self, scope: Scope, root_path: str, found: Note, status: int, seconds: float
    ) -> None:
        surface = self.surface(scope["path"])
        method = found.method or route_label(scope, root_path, self.prefixes.get(surface, ""))
        if self.recorder is not None:
            self.recorder.request(surface, method, status, seconds, found.refusal)
        if self.log_requests:
            fields: dict[str, Any] = {
                "request_id": REQUEST_ID.get(),
                "surface": surface,
                "method": method,
                "status": status,
                "latency_ms": round(seconds * 1000, 2),
            }
            for name in _LOGGED:
                value = getattr(found, name)
                if value is not None:
                    fields[name] = value
            log.info(
                "%s %s %d %.1fms", surface, method, status, seconds * 1000, extra={"fields": fields}
            )


def install(
    app,
    surfaces: Sequence[tuple[str, Sequence[str]]],
    recorder: Recorder | None,
    log_requests: bool,
) -> None:
    """Observe every request of ``app`` (call it after every other middleware is added, so
    that it is the outermost: body-limit refusals are observed too)."""
    app.add_middleware(Observe, surfaces=surfaces, recorder=recorder, log_requests=log_requests)
