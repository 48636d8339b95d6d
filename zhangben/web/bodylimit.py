"""One request-body limit per surface, enforced while the body streams in.

:func:`limit` puts a small ASGI middleware in front of the app for a set of path prefixes.
Before the surface sees the request, the middleware

* refuses a ``Content-Length`` above the limit at once, without reading the body;
* otherwise reads the body (``Content-Length`` or chunked alike) message by message and
  refuses it as soon as more than the limit has arrived, so that at most the limit plus one
  network read is ever held in memory;
* hands a body within the limit to the surface unchanged (replayed from memory).

The refusal is the surface's own (``refuse(max_bytes)`` returns an ASGI response): it happens
before any parsing and before authentication, so an unauthenticated caller cannot make the
server read or parse more than the limit. The connection is closed after a refusal (the rest of
the body is never read).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: What a surface answers for a body above its limit (an ASGI app, e.g. a Response).
Refusal = Callable[[int], ASGIApp]


@dataclass(frozen=True)
class BodyLimit:
    app: ASGIApp
    prefixes: tuple[str, ...]
    max_bytes: int
    refuse: Refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        if length == 0 or (length is None and not _chunked(scope)):
            await self.app(scope, receive, send)  # no body
            return
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                messages.append(message)
                break
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            messages.append(message)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(messages, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.refuse(self.max_bytes)

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await response(scope, receive, closing_send)


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return value.decode("latin-1").strip()
    return None


def _content_length(scope: Scope) -> int | None:
    text = _header(scope, b"content-length")
    return int(text) if text and text.isdigit() and len(text) < 19 else None


def _chunked(scope: Scope) -> bool:
    return "chunked" in (_header(scope, b"transfer-encoding") or "").lower()


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()  # after the body: waits for http.disconnect

    return replay


def limit(app, prefixes: Sequence[str], max_bytes: int, refuse: Refusal) -> None:
    """Limit request bodies under ``prefixes`` to ``max_bytes`` (on a FastAPI/Starlette app,
    before it starts)."""
    app.add_middleware(BodyLimit, prefixes=tuple(prefixes), max_bytes=max_bytes, refuse=refuse)
