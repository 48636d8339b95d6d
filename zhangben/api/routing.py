"""What every REST route shares: problem responses for every error, and their OpenAPI.

Before a route runs, two checks that FastAPI does not make (both refusals write nothing):

* a query parameter the route does not declare is a 422 ``validation`` naming it (``?acount=``
  would otherwise be ignored and the filter silently dropped);
* a body that is not JSON (malformed, not UTF-8, or sent with another ``Content-Type``) is a
  400 ``not_json``, never a validation error of some field.
"""

from __future__ import annotations

import email.message
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import Response

from zhangben.api.problems import (
    MEDIA_TYPE,
    PROBLEMS,
    ApiProblem,
    FieldError,
    Problem,
    from_exception,
)

_ALWAYS = (
    "bad_request",
    "unauthorized",
    "validation",
    "payload_too_large",
    "rate_limited",
    "internal",
    "unavailable",
)
_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    413: "payload_too_large",
    429: "rate_limited",
}


class ProblemRoute(APIRoute):
    """Turns every exception of an API route into a problem+json response (scoped to these
    routes, so the other surfaces keep their own error formats), after refusing unknown
    query parameters and bodies that are not JSON."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.query_names = frozenset(_query_names(self.dependant))
        if self.body_field is not None:  # document not_json beside bad_request
            bad = self.responses.get(400)
            if bad is not None:  # a copy: errors() values may be shared between routes
                self.responses[400] = {**bad, "description": bad["description"] + ", `not_json`"}

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()
        takes_body = self.body_field is not None

        async def problem_handler(request: Request) -> Response:
            try:
                self._check_query(request)
                if takes_body:
                    await _check_json_body(request)
                return await handler(request)
            except HTTPException as exc:  # e.g. a body that cannot be parsed at all
                code = _HTTP_CODES.get(exc.status_code, "bad_request")
                return from_exception(ApiProblem(code, str(exc.detail)), request.url.path)
            except RequestValidationError as exc:
                return from_exception(_not_json(exc) or exc, request.url.path)
            except (ApiProblem, Exception) as exc:
                return from_exception(exc, request.url.path)

        return problem_handler

    def _check_query(self, request: Request) -> None:
        unknown = [name for name in request.query_params if name not in self.query_names]
        if unknown:
            known = ", ".join(sorted(self.query_names)) or "none"
            message = f"is not a query parameter of this route (known: {known})"
            errors = [FieldError(field=_short(name), message=message) for name in unknown]
            detail = "; ".join(f"{e.field}: {message}" for e in errors)
            raise ApiProblem("validation", detail, errors=errors)


def _short(name: str, most: int = 64) -> str:
    """A caller's parameter name as echoed in a problem: at most ``most`` characters."""
    return name if len(name) <= most else name[:most] + "…"


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route declares, its dependencies' included."""
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def not_json(detail: str) -> ApiProblem:
    return ApiProblem("not_json", detail)


def _is_json(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def _check_json_body(request: Request) -> None:
    """A body must be JSON text in UTF-8 (RFC 8259) sent as ``application/json`` (or
    ``…+json``). The body is read once: FastAPI then parses the same cached bytes."""
    body = await request.body()
    if not body:
        return
    content_type = request.headers.get("content-type")
    if content_type is None or not _is_json(content_type):
        given = f"not {content_type}" if content_type else "none was given"
        raise not_json(f"the body must be JSON sent as Content-Type: application/json ({given})")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_json(f"the body is not valid UTF-8 (byte {exc.start})") from None
    if "\x00" in text:  # UTF-16 or UTF-32: JSON text in UTF-8 never holds a raw NUL
        raise not_json("the body is not UTF-8 JSON text (it holds a NUL byte)")


def _not_json(exc: RequestValidationError) -> ApiProblem | None:
    """FastAPI's validation error for a body that is not JSON, as the 400 it is."""
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error") or "invalid JSON"
            position = error.get("loc", ("body", None))[-1]
            where = f" at character {position}" if isinstance(position, int) else ""
            return not_json(f"the body is not JSON: {reason}{where}")
    return None


def router() -> APIRouter:
    return APIRouter(route_class=ProblemRoute)


def errors(*codes: str, public: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problem types a route may answer with."""
    wanted = [c for c in codes] + [c for c in _ALWAYS if c not in codes]
    if public:
        wanted = [c for c in wanted if c not in ("unauthorized", "rate_limited")]
    by_status: dict[int, list[str]] = {}
    for code in wanted:
        by_status.setdefault(PROBLEMS[code].status, []).append(code)
    return {
        status: {
            "model": Problem,
            "description": "problem types: " + ", ".join(f"`{c}`" for c in names),
            "content": {MEDIA_TYPE: {}},
        }
        for status, names in sorted(by_status.items())
    }
