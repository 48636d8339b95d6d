"""Mounts the finance console under ``/console`` (``/`` leads there).

The console is one more surface: it reads the ledger through :class:`Ledger`, users and
sessions through :class:`Access`, bill files through :class:`Imports` and exports through
:mod:`zhangben.exports.flows`, and renders the results as HTML (Jinja2, htmx for the upload).
Its pages carry a Content-Security-Policy of ``'self'``: no inline script, no other host.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhangben.access.service import Access
from zhangben.console import admin, finance, pages, recon, vouchers
from zhangben.console import format as fmt
from zhangben.core.ledger import Ledger
from zhangben.imports.service import Imports
from zhangben.settings import Settings
from zhangben.web import bodylimit

PREFIX = "/console"
STATIC = Path(__file__).parents[1] / "web" / "static"
TEMPLATES = Path(__file__).with_name("templates")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def mount(app: FastAPI, ledger: Ledger, settings: Settings) -> None:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    fmt.install(env, ledger.tz)
    app.state.zb_console = pages.Console(
        ledger=ledger,
        access=Access(ledger),
        imports=Imports(ledger),
        env=env,
        settings=settings,
    )
    app.mount(f"{PREFIX}/static/vendor", StaticFiles(directory=STATIC / "vendor"), "console-vendor")
    app.mount(f"{PREFIX}/static/app", StaticFiles(directory=STATIC / "console"), "console-static")
    app.include_router(pages.router)
    app.include_router(finance.router)
    app.include_router(recon.router)
    app.include_router(vouchers.router)
    app.include_router(admin.router)
    app.add_exception_handler(pages.LoginNeeded, pages.login_needed)
    app.add_exception_handler(pages.Refused, pages.refused)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=303)

    @app.get(PREFIX, include_in_schema=False)
    async def console_root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=303)

    # every form of the console, not only the bill upload: a queue's XLSX, a voucher template
    # and the rules editor read their bodies whole too
    bodylimit.limit(app, [PREFIX], settings.console_max_upload_bytes, _too_large)
    app.add_middleware(_SecurityHeaders)


def _too_large(max_bytes: int) -> HTMLResponse:
    mib = max_bytes / 1024 / 1024
    return HTMLResponse(
        '<section id="import-result"><p class="error" role="alert">'
        f"文件太大：超过 {mib:.0f} MB 的上限，未作任何修改。较大的账单请用命令行 "
        "<code>zhangben import</code> 导入。</p></section>",
        status_code=413,
    )


class _SecurityHeaders:
    """CSP and friends on every console response (pages, fragments, assets)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/" or path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
