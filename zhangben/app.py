"""Builds the ASGI app from settings and mounts every API surface over one ledger."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from zhangben import __version__
from zhangben.api import http as rest_api
from zhangben.core.ledger import Ledger
from zhangben.settings import Settings, get_settings
from zhangben.shopex import http as shopex_api
from zhangben.store.engine import make_engine
from zhangben.store.migrate import is_up_to_date, upgrade
from zhangben.web import outage
from zhangben.yichuan import http as yichuan_api

log = logging.getLogger("zhangben")

#: The surfaces, mounted in this order (each has ``mount(app: FastAPI, ledger, settings)``).
SURFACES = (shopex_api, yichuan_api, rest_api)


def create_app(settings: Settings | None = None, ledger: Ledger | None = None) -> FastAPI:
    settings = settings or get_settings()
    if ledger is None:
        engine = make_engine(settings.database_url)
        if not is_up_to_date(engine):
            if engine.dialect.name != "sqlite":
                raise RuntimeError("database schema is not up to date: run `zhangben db upgrade`")
            upgrade(engine)
        ledger = Ledger(engine, settings.tz)
    app = FastAPI(
        title="zhangben (账本)",
        version=__version__,
        description="Money accounts and their flows: a native REST API, a ShopEx-OMS-compatible "
        "signed open API and a 壹川 V3-compatible account-log API over one ledger.",
    )
    app.state.ledger = ledger
    app.state.settings = settings

    @app.get(
        "/healthz", tags=["service"], summary="Liveness and database check", response_model=None
    )
    def healthz() -> dict | JSONResponse:
        try:
            ledger.accounts(numbers=[])
        except Exception as exc:
            retry_after = outage.unavailable(exc, "/healthz")
            if retry_after is None:
                raise
            return JSONResponse(
                {"status": "unavailable", "version": __version__, "database": ledger.dialect},
                status_code=503,
                headers={"Retry-After": str(retry_after)},
            )
        return {"status": "ok", "version": __version__, "database": ledger.dialect}

    for surface in SURFACES:
        surface.mount(app, ledger, settings)
    return app
