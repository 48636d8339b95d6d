"""Swagger UI at ``/docs``, served whole from the package: it works offline.

Its script, style sheet and icon are the files of npm's ``swagger-ui-dist`` (version and
digests in ``static/swagger-ui/SOURCE.txt``, with its licence), served at
:data:`ASSETS`. The page names no other host: the online spec validator is switched off.
ReDoc is not served (it would need a bundle of its own); ``/openapi.json`` is the schema.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

PATH = "/docs"
ASSETS = "/docs/assets"
FILES = Path(__file__).with_name("static") / "swagger-ui"


def mount(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets (create the app with ``docs_url=None, redoc_url=None``,
    so that FastAPI's own page, which loads Swagger UI from a CDN, is not served)."""
    app.mount(ASSETS, StaticFiles(directory=FILES), name="swagger-ui")

    @app.get(PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + (app.openapi_url or "/openapi.json"),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=None,
            swagger_ui_parameters={"validatorUrl": None},
        )
