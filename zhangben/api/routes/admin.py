"""The chart of categories and subjects, the verifier, and the problem type catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.responses import Response

from zhangben.api.auth import Principal, principal
from zhangben.api.problems import PROBLEMS, TYPE_BASE, ApiProblem
from zhangben.api.routing import errors
from zhangben.api.routing import router as make_router
from zhangben.api.schemas import (
    CategoryIn,
    ChartItemOut,
    ChartOut,
    ProblemTypeOut,
    VerifyCheckOut,
    VerifyOut,
)
from zhangben.api.writes import ApiContext, IdempotencyKey, context, idempotent
from zhangben.imports.service import Imports

router = make_router()


@router.get(
    "/categories",
    response_model=ChartOut,
    tags=["chart"],
    summary="Categories (类目) with their subjects (科目)",
    responses=errors("forbidden"),
)
def list_categories(
    who: Principal = Depends(principal), ctx: ApiContext = Depends(context)
) -> ChartOut:
    who.require("read")
    return ChartOut(items=[ChartItemOut.of(item) for item in ctx.ledger.chart()])


@router.post(
    "/categories",
    status_code=201,
    response_model=ChartItemOut,
    tags=["chart"],
    summary="Add a category, or a subject under parent_id (staff only)",
    responses=errors("forbidden", "not_found", "conflict", "idempotency_conflict"),
)
def add_category(
    body: CategoryIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    who.require_staff()

    def action():
        item = ctx.ledger.add_chart_item(name=body.name, kind=body.kind, parent_id=body.parent_id)
        return 201, ChartItemOut.of(item)

    return idempotent(ctx, request, who, idempotency_key, body, action)


@router.get(
    "/verify",
    response_model=VerifyOut,
    tags=["service"],
    summary="The checks of `zhangben verify`: ledger, bills, drift, periods (staff only)",
    responses=errors("forbidden"),
)
def verify(who: Principal = Depends(principal), ctx: ApiContext = Depends(context)) -> VerifyOut:
    """The one verifier's report, as `zhangben verify` shows it: the ledger's balances and
    chains, the imported bills' continuity and entries, the ledger's balance at each
    imported row against the platform's balance column, and every closed period's stored
    figures and hash."""
    who.require_staff()
    report = Imports(ctx.ledger).verify()
    ledger = report.check("ledger")
    return VerifyOut(
        ok=report.ok,
        accounts_checked=ledger.accounts_checked,
        entries_checked=ledger.rows_checked,
        periods_checked=report.check("periods").rows_checked,
        problems=report.problems,
        checks=[
            VerifyCheckOut(
                name=c.name,
                ok=c.ok,
                accounts_checked=c.accounts_checked,
                rows_checked=c.rows_checked,
                rows=c.rows,
                problems=c.problems,
            )
            for c in report.checks
        ],
    )


def _type(code: str) -> ProblemTypeOut:
    p = PROBLEMS[code]
    return ProblemTypeOut(code=p.code, status=p.status, title=p.title, type=TYPE_BASE + p.code)


@router.get(
    "/problems",
    response_model=list[ProblemTypeOut],
    tags=["service"],
    summary="Every problem type this API answers with",
    responses=errors(public=True),
)
def list_problem_types() -> list[ProblemTypeOut]:
    return [_type(code) for code in PROBLEMS]


@router.get(
    "/problems/{code}",
    response_model=ProblemTypeOut,
    tags=["service"],
    summary="One problem type (the target of a problem's `type` URI)",
    responses=errors("not_found", public=True),
)
def get_problem_type(code: Annotated[str, Path(max_length=64)]) -> ProblemTypeOut:
    if code not in PROBLEMS:
        raise ApiProblem("not_found", f"no problem type {code!r}")
    return _type(code)
