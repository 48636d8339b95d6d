"""The 壹川 V3 surface: ``/v3/login``, ``/v3/logout``, ``/v3/me`` and ``/v3/accountlog``.

Every answer is the envelope of :mod:`zhangben.yichuan.envelope`, with HTTP 200 except a body
above :data:`MAX_BODY_BYTES` (413, refused while it streams in, before any parsing or
authentication) and a database outage (503 with ``Retry-After``). Parameters come
from the query string, a form body or a JSON object body (the body wins). The session token is
read from ``Authorization: Bearer …``, else a ``token`` parameter, else the cookie set at login.
The routes declare no parameters in OpenAPI (they are described in text), so schema-driven
fuzzers see plain JSON endpoints.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from functools import wraps

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from zhangben.access import sessions
from zhangben.access.service import Access
from zhangben.core.errors import AccountNotFound, LedgerError, ValidationError
from zhangben.core.ledger import Ledger
from zhangben.core.queries import EntryFilter
from zhangben.core.records import Account, User
from zhangben.core.texts import text_problem
from zhangben.settings import Settings
from zhangben.web import bodylimit, observe, outage
from zhangben.yichuan import envelope as env
from zhangben.yichuan.envelope import YichuanError
from zhangben.yichuan.items import entry_item, unix_seconds

log = logging.getLogger("zhangben.yichuan")

TOKEN_COOKIE = "yichuan_token"  # noqa: S105 - a cookie name
DEFAULT_ROW, MAX_ROW = 15, 100
#: The largest request body the surface reads (a login or an accountlog query is tiny).
MAX_BODY_BYTES = 64 << 10
PREFIX = "/v3"
#: At most this many parameters (query and body together), each at most MAX_TEXT characters.
MAX_FIELDS, MAX_TEXT = 1000, 1024
MAX_PAGE = 10**9
ACCOUNTLOG_METHODS = ("GET", "POST")

_ACCOUNTLOG_DOC = (
    "The flow (流水) of one account, newest first, in the 壹川 V3 format. Parameters (query, "
    "form or JSON): `page` (default 1), `row` (default 15, clamped to 1..100), `account_id` "
    "(an account number such as `0000000000000001`; staff may name any account, a user only "
    "their own; without it a user reads their first account and staff read every account). "
    "Token: `Authorization: Bearer …`, a `token` parameter or the login cookie."
)


class _AccountlogRoute(APIRoute):
    """GET and POST of ``/v3/accountlog`` are two routes (two OpenAPI operations); a 405 from
    either names both methods in ``Allow``."""

    async def handle(self, scope, receive, send) -> None:
        if scope["method"] not in ACCOUNTLOG_METHODS:
            raise HTTPException(405, headers={"Allow": ", ".join(ACCOUNTLOG_METHODS)})
        await super().handle(scope, receive, send)


def mount(app: FastAPI, ledger: Ledger, settings: Settings) -> None:
    app.include_router(build_router(ledger, settings))
    bodylimit.limit(app, [PREFIX], MAX_BODY_BYTES, too_large)


def too_large(max_bytes: int) -> JSONResponse:
    """The answer to a body above the limit, before anything is parsed (HTTP 413)."""
    msg = f"request body too large (at most {max_bytes} bytes)"
    return JSONResponse(env.error(env.BODY_TOO_LARGE, msg), status_code=413)


def _guarded(handler: Callable[..., Awaitable[JSONResponse]]):
    """Answer every refusal and failure in the envelope (HTTP 200)."""

    @wraps(handler)
    async def wrapper(request: Request) -> JSONResponse:
        try:
            return await handler(request)
        except YichuanError as exc:
            return JSONResponse(env.error(exc.code, exc.msg))
        except sessions.LoginThrottled as exc:
            observe.note(request, refusal="login_throttled")
            return JSONResponse(env.error(env.LOGIN_THROTTLED, exc.message))
        except sessions.LoginFailed as exc:
            return JSONResponse(env.error(env.LOGIN_FAILED, exc.message))
        except ValidationError as exc:
            return JSONResponse(env.error(env.BAD_PARAMETER, exc.message))
        except AccountNotFound as exc:
            return JSONResponse(env.error(env.UNKNOWN_ACCOUNT, exc.message))
        except LedgerError as exc:
            return JSONResponse(env.error(env.BAD_PARAMETER, exc.message))
        except Exception as exc:
            retry_after = outage.unavailable(exc, request.url.path)
            if retry_after is not None:  # logged once per failure class, without a trace
                return JSONResponse(
                    env.error(env.UNAVAILABLE),
                    status_code=503,
                    headers={"Retry-After": str(retry_after)},
                )
            log.exception("壹川 %s %s failed", request.method, request.url.path)
            return JSONResponse(env.error(env.SERVER_ERROR))

    return wrapper


async def read_params(request: Request) -> dict[str, str]:
    """Query parameters overlaid with a form or JSON-object body; values as text, each
    checked by :func:`checked` before anything reaches the database."""
    return checked(request.query_params.multi_items(), await _body_params(request))


def checked(*sources: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The parameters of ``sources`` (later ones win), refused with 40001 when there are more
    than 1,000 of them or a name or value is not fit for the database: a NUL, a lone
    surrogate, or more than 1,024 characters (:func:`zhangben.core.texts.text_problem`)."""
    params: dict[str, str] = {}
    count = 0
    for source in sources:
        for key, value in source:
            count += 1
            if count > MAX_FIELDS:
                raise YichuanError(env.BAD_PARAMETER, f"more than {MAX_FIELDS} parameters")
            if text_problem(key, MAX_TEXT):
                raise YichuanError(env.BAD_PARAMETER, "a parameter name is not valid text")
            problem = text_problem(value, MAX_TEXT)
            if problem:
                raise YichuanError(env.BAD_PARAMETER, f"{key}: {problem}")
            params[key] = value
    return params


async def _body_params(request: Request) -> list[tuple[str, str]]:
    if request.method != "POST":
        return []
    params: list[tuple[str, str]] = []
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        raw = await request.body()
        if raw.strip():
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError):  # RecursionError: nested thousands deep
                raise YichuanError(env.BAD_PARAMETER, "the body is not valid JSON") from None
            if not isinstance(body, dict):
                raise YichuanError(env.BAD_PARAMETER, "the JSON body must be an object")
            for key, value in body.items():
                if text_problem(key, MAX_TEXT):  # named in no answer unless it is fit
                    raise YichuanError(env.BAD_PARAMETER, "a parameter name is not valid text")
                if isinstance(value, bool) or not isinstance(value, str | int | type(None)):
                    raise YichuanError(env.BAD_PARAMETER, f"{key}: must be a string or integer")
                if value is not None:
                    params.append((key, str(value)))
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form(max_files=MAX_FIELDS, max_fields=MAX_FIELDS)
        except (HTTPException, MultiPartException) as exc:  # too many fields, malformed
            detail = getattr(exc, "detail", None) or getattr(exc, "message", "")
            raise YichuanError(env.BAD_PARAMETER, f"the form body is refused: {detail}") from None
        params.extend((k, v) for k, v in form.multi_items() if isinstance(v, str))
    return params


def request_token(request: Request, params: dict[str, str]) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return params.get("token") or request.cookies.get(TOKEN_COOKIE) or None


def int_param(params: dict[str, str], name: str, default: int) -> int:
    """An integer parameter; empty or missing gives ``default``; negatives are refused."""
    text = (params.get(name) or "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit():
        raise YichuanError(env.BAD_PARAMETER, f"{name}: {text[:32]!r} is not a whole number")
    if len(text) > 12:
        raise YichuanError(env.BAD_PARAMETER, f"{name}: too large")
    return int(text)


def paging(params: dict[str, str]) -> tuple[int, int]:
    page = int_param(params, "page", 1)
    if not 1 <= page <= MAX_PAGE:
        raise YichuanError(env.BAD_PARAMETER, f"page: must be 1..{MAX_PAGE}")
    row = min(max(int_param(params, "row", DEFAULT_ROW), 1), MAX_ROW)
    return page, row


def account_scope(ledger: Ledger, user: User, number: str) -> EntryFilter:
    """Which entries ``user`` may read for the requested account number (may be empty)."""
    if user.is_staff:
        if not number:
            return EntryFilter()
        return EntryFilter(account_ids=[ledger.account(number).id])
    owned = ledger.accounts(owner_user_id=user.id)
    if not number:
        if not owned:
            raise YichuanError(env.NO_PERMISSION, "no account is assigned to you")
        return EntryFilter(account_ids=[owned[0].id])
    for account in owned:
        if account.number == number:
            return EntryFilter(account_ids=[account.id])
    # The same answer whether the account exists or not: nothing to learn by probing.
    raise YichuanError(env.NO_PERMISSION, f"no permission for account {number[:64]}")


def accountlog_data(ledger: Ledger, settings: Settings, user: User, params: dict) -> dict:
    page, row = paging(params)
    scope = account_scope(ledger, user, (params.get("account_id") or "").strip())
    result = ledger.entries(scope, limit=row, offset=(page - 1) * row)
    total = result.total or 0
    return {
        "page": page,
        "row": row,
        "count": len(result.items),
        "total_count": total,
        "total_page": -(-total // row),
        "lists": [entry_item(e, settings.tz) for e in result.items],
    }


def user_data(user: User, owned: list[Account]) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.wire_role,
        "accounts": [{"account_id": a.id, "number": a.number, "name": a.name} for a in owned],
    }


def build_router(ledger: Ledger, settings: Settings) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["壹川 V3"])
    access = Access(ledger)

    def current_user(request: Request, token: str | None) -> User:
        user = access.session_user(token, datetime.now(UTC))
        if user is None:
            raise YichuanError(env.NOT_LOGGED_IN)
        observe.note(request, username=user.username)
        return user

    @router.post(
        "/login",
        summary="Log in (壹川 V3): username + password → session token",
        description="Form or JSON body with `username` and `password`. Answers the token, its "
        "expiry (Unix seconds) and the user, and sets the session cookie.",
        response_class=JSONResponse,
    )
    @_guarded
    async def login(request: Request) -> JSONResponse:
        params = await read_params(request)
        username, password = params.get("username") or "", params.get("password") or ""
        if not username or not password:
            raise YichuanError(env.BAD_PARAMETER, "username and password are required")
        token, user, expires_at = await run_in_threadpool(
            access.login,
            username,
            password,
            ip=request.client.host if request.client else None,
            now=datetime.now(UTC),
            ttl_seconds=settings.session_ttl_seconds,
        )
        observe.note(request, username=user.username)
        owned = await run_in_threadpool(ledger.accounts, owner_user_id=user.id)
        data = {"token": token, "expires_at": unix_seconds(expires_at)}
        data["user"] = user_data(user, owned)
        response = JSONResponse(env.ok(data))
        response.set_cookie(
            TOKEN_COOKIE,
            token,
            max_age=settings.session_ttl_seconds,
            path="/v3",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post(
        "/logout",
        summary="Log out (壹川 V3): revoke the session",
        description="Revokes the session of the token (header, parameter or cookie) at once.",
        response_class=JSONResponse,
    )
    @_guarded
    async def logout(request: Request) -> JSONResponse:
        token = request_token(request, await read_params(request))
        done = await run_in_threadpool(access.logout, token)
        if not done:
            raise YichuanError(env.NOT_LOGGED_IN)
        response = JSONResponse(env.ok(None))
        response.delete_cookie(TOKEN_COOKIE, path="/v3")
        return response

    @router.get(
        "/me",
        summary="The logged-in user (壹川 V3) and the accounts they own",
        response_class=JSONResponse,
    )
    @_guarded
    async def me(request: Request) -> JSONResponse:
        token = request_token(request, await read_params(request))

        def work() -> dict:
            user = current_user(request, token)
            return user_data(user, ledger.accounts(owner_user_id=user.id))

        return JSONResponse(env.ok(await run_in_threadpool(work)))

    async def accountlog(request: Request) -> JSONResponse:
        params = await read_params(request)
        token = request_token(request, params)

        def work() -> dict:
            return accountlog_data(ledger, settings, current_user(request, token), params)

        return JSONResponse(env.ok(await run_in_threadpool(work)))

    for method in ACCOUNTLOG_METHODS:
        router.add_api_route(
            "/accountlog",
            _guarded(accountlog),
            methods=[method],
            summary=f"Account flow (壹川 V3 accountlog, {method})",
            description=_ACCOUNTLOG_DOC,
            response_class=JSONResponse,
            operation_id=f"yichuan_accountlog_{method.lower()}",
            route_class_override=_AccountlogRoute,
        )
    return router
