"""Builds the ASGI app from settings and mounts every API surface over one ledger."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI

from zhangben import __version__
from zhangben.api import http as rest_api
from zhangben.console import http as console
from zhangben.core.ledger import Ledger
from zhangben.settings import Settings, get_settings
from zhangben.shopex import http as shopex_api
from zhangben.store.engine import make_engine
from zhangben.store.migrate import is_up_to_date, upgrade
from zhangben.web import docs, health, observe
from zhangben.yichuan import http as yichuan_api

log = logging.getLogger("zhangben")

#: The surfaces, mounted in this order (each has ``mount(app: FastAPI, ledger, settings)``).
SURFACES = (shopex_api, yichuan_api, rest_api, console)
#: Each surface's paths, for the request metrics and log (anything else is ``service``).
SURFACE_PATHS = (
    ("shopex", shopex_api.PATHS),
    ("yichuan", (yichuan_api.PREFIX,)),
    ("rest", (rest_api.PREFIX,)),
    ("console", (console.PREFIX,)),
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
    metrics = _metrics(settings, ledger)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        if metrics is not None:
            ledger.observers.remove(metrics.posted)
            metrics.close()

    app = FastAPI(
        title="zhangben (账本)",
        version=__version__,
        description="Money accounts and their flows: a native REST API, a ShopEx-OMS-compatible "
        "signed open API and a 壹川 V3-compatible account-log API over one ledger.",
        docs_url=None,  # served from the package by zhangben.web.docs, not from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ledger = ledger
    app.state.settings = settings
    health.mount(app, ledger)
    docs.mount(app)
    for surface in SURFACES:
        surface.mount(app, ledger, settings)
    if metrics is not None:
        from zhangben.web import metrics as metrics_route

        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        metrics_route.mount(app, metrics, token)
    observe.install(app, SURFACE_PATHS, metrics, log_requests=settings.log_format == "json")
    return app


def _metrics(settings: Settings, ledger: Ledger):
    """The metrics of this process, when asked for; they count the ledger's postings."""
    if not settings.metrics:
        return None
    from zhangben.imports.service import Imports
    from zhangben.web.metrics import MULTIPROC_ENV, Metrics

    metrics = Metrics(
        ledger.pool_status,
        Imports(ledger).totals,
        multiprocess_dir=os.environ.get(MULTIPROC_ENV) or None,
    )
    ledger.observers.append(metrics.posted)
    return metrics
