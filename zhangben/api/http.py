"""Mounts the native REST API under ``/api/v1`` (Swagger UI at ``/docs``)."""

from __future__ import annotations

import functools
from datetime import timedelta

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from zhangben.access.cache import TtlCache
from zhangben.access.service import Access
from zhangben.api.problems import MAX_BODY_BYTES, MEDIA_TYPE, problem_response, too_large
from zhangben.api.routes import (
    accounts,
    admin,
    entries,
    periods,
    postings,
    recon,
    reports,
    vouchers,
)
from zhangben.api.writes import ApiContext
from zhangben.core.ledger import Ledger
from zhangben.core.money import to_minor
from zhangben.settings import Settings
from zhangben.web import bodylimit

PREFIX = "/api/v1"


@functools.cache
def build_router() -> APIRouter:
    """One per process, shared by every app it creates (the test suite creates one per test):
    FastAPI builds the models of a router's routes once per router, about half a second that
    each app would pay again. The routes reach their app's ledger through ``request.app.state``."""
    api = APIRouter(prefix=PREFIX)
    for module in (accounts, postings, entries, reports, periods, recon, vouchers, admin):
        api.include_router(module.router)
    return api


def mount(app: FastAPI, ledger: Ledger, settings: Settings) -> None:
    app.state.zb_api = ApiContext(
        ledger=ledger,
        access=Access(ledger),
        tz=ledger.tz,
        keys=TtlCache(settings.auth_cache_seconds),
        recon_force_approval_above=to_minor(settings.recon_force_approval_above),
        idempotency_stale=timedelta(seconds=settings.idempotency_stale_seconds),
    )
    app.include_router(build_router())
    bodylimit.limit(app, [PREFIX], MAX_BODY_BYTES, too_large)
    app.add_exception_handler(StarletteHTTPException, _router_refusal)
    _problem_media_type_in_openapi(app)


#: The router's own refusals (no route, no such method) as problem types.
_ROUTER_CODES = {404: "not_found", 405: "method_not_allowed"}


async def _router_refusal(request: Request, exc: StarletteHTTPException) -> Response:
    """A refusal raised outside any route (an unknown path, a method the path does not
    serve): problem+json under /api/v1, the framework's default everywhere else (the other
    surfaces answer in their own formats)."""
    path = request.url.path
    if path != PREFIX and not path.startswith(PREFIX + "/"):
        return await http_exception_handler(request, exc)
    code = _ROUTER_CODES.get(exc.status_code, "bad_request")
    if code == "not_found":
        detail = f"no resource at {path}"
    elif code == "method_not_allowed":
        detail = f"{request.method} is not allowed here"
    else:
        detail = str(exc.detail)
    headers = exc.headers
    if code == "method_not_allowed":  # every method of the path, not only the first route's
        headers = {**(headers or {}), "Allow": ", ".join(_allowed(request))}
    return problem_response(code, detail, instance=path, headers=headers)


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _allowed(request: Request) -> list[str]:
    """The methods some route serves at the request's path."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]


def _problem_media_type_in_openapi(app: FastAPI) -> None:
    """FastAPI documents every response model as application/json; our errors are
    application/problem+json, so move their schemas there."""
    original = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith(PREFIX):
                continue
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[0] in "45" and "application/json" in content:
                        content[MEDIA_TYPE] = content.pop("application/json")
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
