"""RFC 9457 problem details (``application/problem+json``) with a stable type per error.

Every refusal of the REST API is one of :data:`PROBLEMS`; its ``type`` is
``/api/v1/problems/<code>`` (served, so it dereferences) and ``code`` repeats the last part.
A server fault is ``internal`` (500) and never carries a stack trace; a database that cannot
serve is ``unavailable`` (503, ``Retry-After``, one log line per failure class:
:mod:`zhangben.web.outage`); a body above :data:`MAX_BODY_BYTES` is ``payload_too_large`` (413,
before authentication: :mod:`zhangben.web.bodylimit`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from zhangben.core.errors import (
    ActionFileError,
    LedgerError,
    NotFound,
    PeriodNotReady,
    ValidationError,
)
from zhangben.web import outage

log = logging.getLogger("zhangben.api")

MEDIA_TYPE = "application/problem+json"
#: The largest request body the REST API reads (1 MiB).
MAX_BODY_BYTES = 1 << 20
TYPE_BASE = "/api/v1/problems/"


@dataclass(frozen=True, slots=True)
class ProblemType:
    code: str
    status: int
    title: str


PROBLEMS = {
    p.code: p
    for p in (
        ProblemType("validation", 422, "The request is not valid"),
        ProblemType("bad_request", 400, "The request cannot be processed"),
        ProblemType("not_json", 400, "The request body is not JSON"),
        ProblemType("unauthorized", 401, "Missing or invalid credentials"),
        ProblemType("forbidden", 403, "Not allowed for these credentials"),
        ProblemType("not_found", 404, "No such resource"),
        ProblemType("method_not_allowed", 405, "Method not allowed for this resource"),
        ProblemType("insufficient_funds", 422, "Insufficient funds"),
        ProblemType("currency_mismatch", 422, "The accounts hold different currencies"),
        ProblemType("same_account", 422, "A transfer needs two different accounts"),
        ProblemType("account_closed", 409, "The account is closed"),
        ProblemType("already_reversed", 409, "Already reversed"),
        ProblemType("conflict", 409, "Conflicts with the current state"),
        ProblemType("idempotency_conflict", 409, "Idempotency key reused with another request"),
        ProblemType("idempotency_in_progress", 409, "A request with this key is in progress"),
        ProblemType("period_closed", 409, "The period this is dated in is closed"),
        ProblemType("period_not_ready", 409, "The period's close checks found problems"),
        ProblemType("period_state", 409, "The period's state does not allow this"),
        ProblemType("voucher_invalid", 422, "The vouchers cannot be made from this input"),
        ProblemType("voucher_state", 409, "The voucher batches' state does not allow this"),
        ProblemType("order_file", 422, "The order file or batch is refused whole"),
        ProblemType("action_file", 422, "The queue's action file is refused whole"),
        ProblemType("over_applied", 409, "A line would be applied beyond its amount"),
        ProblemType("recon_state", 409, "The reconciliation state does not allow this"),
        ProblemType("second_approver", 403, "A second, different person must approve this"),
        ProblemType("payload_too_large", 413, "The request body is too large"),
        ProblemType("rate_limited", 429, "Too many requests"),
        ProblemType("internal", 500, "Internal server error"),
        ProblemType("unavailable", 503, "The database is unavailable; retry later"),
    )
}

#: Core error codes that map onto a wider problem type.
_CORE_ALIASES = {"invalid_amount": "validation"}


class FieldError(BaseModel):
    field: str = Field(examples=["amount"])
    message: str = Field(examples=["has more than 4 decimal places"])


class Finding(BaseModel):
    check: str = Field(examples=["missing_import_days"])
    account: str | None = Field(None, examples=["ALIPAY-S001"])
    text: str = Field(examples=["account ALIPAY-S001: no import for 2026-10-05 (1 day)"])


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=["/api/v1/problems/insufficient_funds"])
    title: str = Field(examples=["Insufficient funds"])
    status: int = Field(examples=[422])
    detail: str = Field(
        examples=["account ACC001 holds 10.00; this posting would take it to -5.00"]
    )
    code: str = Field(examples=["insufficient_funds"])
    instance: str | None = Field(None, examples=["/api/v1/transfers"])
    errors: list[FieldError] | None = None
    findings: list[Finding] | None = Field(
        None, description="period_not_ready: what the close checks found"
    )


class ApiProblem(Exception):
    """Raised by the API layer itself (auth, scopes, limits, bad cursors)."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code, self.detail, self.headers, self.errors = code, detail, headers, errors


def invalid(field: str, message: str) -> ApiProblem:
    return ApiProblem(
        "validation", f"{field}: {message}", errors=[FieldError(field=field, message=message)]
    )


def problem_response(
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
    findings: list[Finding] | None = None,
) -> JSONResponse:
    kind = PROBLEMS[code]
    body = Problem(
        type=TYPE_BASE + code,
        title=kind.title,
        status=kind.status,
        detail=detail,
        code=code,
        instance=instance,
        errors=errors,
        findings=findings,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=kind.status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def code_of(exc: LedgerError) -> str:
    code = _CORE_ALIASES.get(exc.code, exc.code)
    if code in PROBLEMS:
        return code
    if isinstance(exc, ValidationError):
        return "validation"
    if isinstance(exc, NotFound):
        return "not_found"
    return "bad_request"


def from_exception(exc: Exception, path: str | None = None) -> JSONResponse:
    """The problem response for any exception raised while handling an API request."""
    if isinstance(exc, ApiProblem):
        return problem_response(
            exc.code, exc.detail, instance=path, headers=exc.headers, errors=exc.errors
        )
    if isinstance(exc, LedgerError):
        errors = None
        if isinstance(exc, ActionFileError):
            errors = [FieldError(field=w, message=m) for w, m in exc.problems]
        elif isinstance(exc, ValidationError):
            errors = [FieldError(field=exc.field, message=exc.reason)]
        headers = {"Retry-After": "1"} if exc.code == "idempotency_in_progress" else None
        findings = None
        if isinstance(exc, PeriodNotReady):
            findings = [Finding(**f.as_dict()) for f in exc.findings]
        return problem_response(
            code_of(exc), exc.message, instance=path, errors=errors, headers=headers,
            findings=findings,
        )  # fmt: skip
    if isinstance(exc, RequestValidationError):
        errors = [_field_error(e) for e in exc.errors()]
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "invalid request"
        return problem_response("validation", detail, instance=path, errors=errors)
    retry_after = outage.unavailable(exc, path or "/api/v1")
    if retry_after is not None:
        return problem_response(
            "unavailable",
            "the database is unavailable; retry the request later (a write with the same "
            "Idempotency-Key is applied at most once)",
            instance=path,
            headers={"Retry-After": str(retry_after)},
        )
    log.exception("internal error on %s", path, exc_info=exc)
    return problem_response("internal", "an internal error occurred", instance=path)


def too_large(max_bytes: int) -> JSONResponse:
    """The answer to a body above the limit (:func:`zhangben.web.bodylimit.limit`)."""
    return problem_response(
        "payload_too_large", f"the request body is larger than {max_bytes} bytes"
    )


def _field_error(error: dict) -> FieldError:
    loc = [str(part) for part in error.get("loc", ())]
    if len(loc) > 1 and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return FieldError(field=".".join(loc) or "body", message=message)
