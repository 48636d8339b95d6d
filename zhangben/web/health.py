"""``/healthz`` (liveness) and ``/readyz`` (readiness), both JSON, never a plain-text 500.

* ``/healthz`` says the process answers. It touches no database, so an orchestrator does not
  restart a healthy server because its database is down.
* ``/readyz`` says whether the server can serve now: the database answers and its schema has
  every migration of this code (one read of the migration stamp). Otherwise 503 with
  ``Retry-After`` and which check failed, so a load balancer sends traffic elsewhere.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from zhangben import __version__
from zhangben.core.ledger import Ledger
from zhangben.web import outage

log = logging.getLogger("zhangben.health")

#: ``Retry-After`` seconds for a schema that is not up to date (a migration may be running).
SCHEMA_RETRY_AFTER = 5


def mount(app: FastAPI, ledger: Ledger) -> None:
    @app.get("/healthz", tags=["service"], summary="Liveness: the process answers (no database)")
    async def healthz() -> dict:
        return {"status": "ok", "version": __version__, "database": ledger.dialect}

    @app.get(
        "/readyz",
        tags=["service"],
        summary="Readiness: the database answers and its schema is up to date",
        response_model=None,
        responses={503: {"description": "not ready: `checks` says what failed"}},
    )
    def readyz() -> dict | JSONResponse:
        return readiness(ledger)


def readiness(ledger: Ledger) -> dict | JSONResponse:
    """The readiness answer: 200 and the checks, or 503 naming the failed check."""
    answer = {"status": "ok", "version": __version__, "database": ledger.dialect}
    try:
        current = ledger.schema_is_current()
    except Exception as exc:
        found = outage.failure(exc, "/readyz")
        if found is None:  # not an outage: a fault, logged as one (without parameters)
            log.error("readiness check failed: %s", type(exc).__name__, exc_info=exc)
            checks, retry_after = {"database": "error", "schema": "unknown"}, outage.RETRY_AFTER
        else:
            kind, retry_after = found
            checks = {"database": f"unavailable: {kind}", "schema": "unknown"}
        return _not_ready(answer, checks, retry_after)
    if not current:
        checks = {"database": "ok", "schema": "not up to date: run `zhangben db upgrade`"}
        return _not_ready(answer, checks, SCHEMA_RETRY_AFTER)
    return {**answer, "checks": {"database": "ok", "schema": "ok"}}


def _not_ready(answer: dict, checks: dict, retry_after: int) -> JSONResponse:
    return JSONResponse(
        {**answer, "status": "unavailable", "checks": checks},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )
