"""Builds the ASGI app from settings and mounts every API surface over one ledger."""

from __future__ import annotations

import importlib
import importlib.util
import logging

from fastapi import FastAPI

from zhangben import __version__
from zhangben.core.ledger import Ledger
from zhangben.settings import Settings, get_settings
from zhangben.store.engine import make_engine
from zhangben.store.migrate import is_up_to_date, upgrade

log = logging.getLogger("zhangben")

#: Surfaces that mount themselves (each has ``mount(app: FastAPI, ledger, settings)``).
SURFACES = (
    "zhangben.shopex.http",
    "zhangben.yichuan.http",
    "zhangben.api.http",
    "zhangben.console.http",
)


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

    @app.get("/healthz", tags=["service"], summary="Liveness and database check")
    def healthz() -> dict:
        ledger.accounts(numbers=[])
        return {"status": "ok", "version": __version__, "database": ledger.engine.dialect.name}

    for name in SURFACES:
        if importlib.util.find_spec(name.rsplit(".", 1)[0]) and importlib.util.find_spec(name):
            importlib.import_module(name).mount(app, ledger, settings)
    return app
