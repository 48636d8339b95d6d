"""What every REST route shares: problem responses for every error, and their OpenAPI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import Response

from zhangben.api.problems import MEDIA_TYPE, PROBLEMS, ApiProblem, Problem, from_exception

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
    routes, so the other surfaces keep their own error formats)."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def problem_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:  # e.g. a body that cannot be parsed at all
                code = _HTTP_CODES.get(exc.status_code, "bad_request")
                return from_exception(ApiProblem(code, str(exc.detail)), request.url.path)
            except (ApiProblem, RequestValidationError, Exception) as exc:
                return from_exception(exc, request.url.path)

        return problem_handler


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
