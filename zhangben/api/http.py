"""Mounts the native REST API under ``/api/v1`` (Swagger UI at ``/docs``)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from zhangben.access.cache import TtlCache
from zhangben.access.service import Access
from zhangben.api.problems import MAX_BODY_BYTES, MEDIA_TYPE, too_large
from zhangben.api.routes import accounts, admin, entries, postings
from zhangben.api.writes import ApiContext
from zhangben.core.ledger import Ledger
from zhangben.settings import Settings
from zhangben.web import bodylimit

PREFIX = "/api/v1"


def build_router() -> APIRouter:
    api = APIRouter(prefix=PREFIX)
    for module in (accounts, postings, entries, admin):
        api.include_router(module.router)
    return api


def mount(app: FastAPI, ledger: Ledger, settings: Settings) -> None:
    app.state.zb_api = ApiContext(
        ledger=ledger,
        access=Access(ledger),
        tz=ledger.tz,
        keys=TtlCache(settings.auth_cache_seconds),
    )
    app.include_router(build_router())
    bodylimit.limit(app, [PREFIX], MAX_BODY_BYTES, too_large)
    _problem_media_type_in_openapi(app)


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
