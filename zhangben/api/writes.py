"""The ``Idempotency-Key`` protocol around every write route.

With a key, the first request is claimed in :mod:`zhangben.access.idempotency`, runs, and its
response (success or refusal) is stored; a repeat with the same key and body gets that
response byte for byte (header ``Idempotent-Replayed: true``) and writes nothing; the same key
with another body is a 409 ``idempotency_conflict``; a repeat while the first is still running
is a 409 ``idempotency_in_progress`` with ``Retry-After: 1``. A server fault releases the key.
Keys are per caller and kept 24 h.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Header, Request
from fastapi.responses import Response
from pydantic import BaseModel

from zhangben.access import idempotency
from zhangben.access.cache import TtlCache
from zhangben.access.service import Access
from zhangben.api.auth import Principal
from zhangben.api.problems import from_exception
from zhangben.core.errors import LedgerError
from zhangben.core.ledger import Ledger

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=idempotency.MAX_KEY_LENGTH,
        pattern=r"^[!-~]+$",
        description="Any unique string (e.g. a UUID) per logical write: a retry with the same "
        "key and body returns the first response and writes nothing. Kept 24 h.",
        examples=["6f1c7d0e-3f0a-4a55-9b61-3c1f0f7f8e21"],
    ),
]


@dataclass(frozen=True, slots=True)
class ApiContext:
    ledger: Ledger
    access: Access
    tz: ZoneInfo
    #: verified API keys (SHA-256 of the key → VerifiedKey), see zhangben.api.auth
    keys: TtlCache = field(default_factory=lambda: TtlCache(5.0))
    #: reconciliation: a forced match above this (minor units) waits for a second approver
    recon_force_approval_above: int | None = None
    #: an in-progress Idempotency-Key claim older than this may be taken over by a retry
    idempotency_stale: timedelta = idempotency.STALE_AFTER


async def context(request: Request) -> ApiContext:
    # async: a sync dependency would cost a thread hand-off per request
    return request.app.state.zb_api


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """A model as JSON, serialized once by pydantic (FastAPI would validate a returned model
    against the response model again, in a worker thread for a sync route, before encoding
    it). Same bytes as FastAPI's own rendering."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def ledger_key(who: Principal, key: str | None, *business_keys: str | None) -> str | None:
    """The idempotency key handed down to the ledger core, so that a posting is never written
    twice even if the stored response is lost. A body with its own business key (trade_no,
    external_id) keeps the core's dedup by that key instead."""
    if key is None or any(business_keys):
        return None
    return f"api:{who.caller}:{key}"


def _render(status: int, model: BaseModel) -> Response:
    return json_response(model, status)


def idempotent(
    ctx: ApiContext,
    request: Request,
    who: Principal,
    key: str | None,
    payload: object,
    action: Callable[[], tuple[int, BaseModel]],
) -> Response:
    """Run ``action`` (returning ``(status, model)``) under the Idempotency-Key protocol.
    ``payload`` is the request body (a model, dumped only when there is a key) or a dict."""
    if key is None:
        return _render(*action())
    access = ctx.access
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    digest = idempotency.request_hash(request.method, request.url.path, payload)
    stored = access.claim_idempotency_key(who.caller, key, digest, ctx.idempotency_stale)
    if stored is not None:
        return Response(
            stored.body,
            status_code=stored.status,
            media_type=stored.content_type,
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        response = _render(*action())
    except LedgerError as exc:
        response = from_exception(exc, request.url.path)
    except Exception:
        # best effort: with the database gone the release fails too, and the claim goes
        # stale instead (ZHANGBEN_IDEMPOTENCY_STALE_SECONDS); the original error is what is answered
        with contextlib.suppress(Exception):
            access.release_idempotency_key(who.caller, key)
        raise
    body = bytes(response.body).decode()
    access.store_idempotent_response(
        who.caller, key, response.status_code, body, response.media_type
    )
    return response
