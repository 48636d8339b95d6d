"""Reconciliation (核销) over REST: ``/recon/...`` translates to :class:`~zhangben.recon.
service.Recon` (docs/reconciliation.md#rest).

Reconciliation spans shops, so every route wants a caller without shop, account or owner
limits, and a scope it declares in the OpenAPI schema (:func:`_caller`, enforced from the
same declaration): reads ``read``, writes ``reconcile`` (which ``write`` implies), and a forced
match and its second approval ``force``. Amounts are yuan as text, four decimals out."""

from __future__ import annotations

import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Depends, Query, Request, Security
from fastapi import Path as PathParam
from fastapi.responses import Response
from fastapi.security import SecurityScopes
from pydantic import BaseModel, Field, StrictBool
from starlette.concurrency import run_in_threadpool

from zhangben.api.auth import Principal, principal
from zhangben.api.problems import ApiProblem
from zhangben.api.routing import errors
from zhangben.api.routing import router as make_router
from zhangben.api.schemas import AMOUNT_PATTERN, MAX_INT64, SIGNED_AMOUNT_PATTERN
from zhangben.api.schemas import Request as RequestBody
from zhangben.api.writes import ApiContext, IdempotencyKey, context, idempotent, json_response
from zhangben.core.money import format_amount, from_minor, to_minor
from zhangben.recon.queues import write_xlsx
from zhangben.recon.service import Recon

router = make_router()
TAGS = ["reconciliation"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Id = Annotated[int, PathParam(ge=1, le=MAX_INT64)]
Money = Annotated[str, Field(pattern=SIGNED_AMOUNT_PATTERN, examples=["66.2000"])]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Cell = Annotated[str | None, Field(None, max_length=200)]
WRITES = ("forbidden", "idempotency_conflict", "idempotency_in_progress")


def _m(minor: int) -> str:
    return format_amount(from_minor(minor))


def _actor(who: Principal) -> str:
    return f"user:{who.user.username}" if who.user is not None else who.caller


async def _reconciler(scopes: SecurityScopes, who: Principal = Depends(principal)) -> Principal:
    """The caller, holding every scope the route declares, and without limits."""
    for scope in scopes.scopes:
        who.require(scope)
    if not who.unrestricted:
        raise ApiProblem("forbidden", "reconciliation spans shops: these credentials are limited")
    return who


def _caller(scope: str):
    """The dependency of a route that needs ``scope``: declared in the OpenAPI schema (the
    operation's ``security``) and enforced by :func:`_reconciler`."""
    return Security(_reconciler, scopes=[scope])


READ, RECONCILE, FORCE = _caller("read"), _caller("reconcile"), _caller("force")


def _recon(ctx: ApiContext) -> Recon:
    return Recon(ctx.ledger, force_approval_above=ctx.recon_force_approval_above)


# -- bodies and records ---------------------------------------------------------------------


class OrderLineIn(RequestBody):
    """One expected line, as a line of the order file (its columns' English names)."""

    shop: Cell = None
    platform: Cell = None
    order_no: Cell = Field(None, examples=["W2403101"])
    kind: Cell = Field(None, examples=["sale"])
    amount: Cell = Field(None, examples=["128.00"])
    occurred_at: Cell = Field(None, examples=["2024-03-05 10:00:00"])
    source_ref: Cell = Field(None, examples=["ERP-1"])
    memo: Cell = None


class ExpectedBatchIn(RequestBody):
    shop: str | None = Field(None, min_length=1, max_length=64, description="default shop")
    platform: str | None = Field(None, min_length=1, max_length=16, description="default")
    items: list[OrderLineIn] = Field(min_length=1, max_length=10_000)


class ImportOut(BaseModel):
    lines: int
    new: int
    existing: int = Field(description="lines stored already (same shop, source, source_ref)")


class ExpectedOut(BaseModel):
    id: int
    shop: str
    platform: str
    order_no: str
    kind: str
    amount: Money
    applied: Money
    occurred_at: datetime
    due_at: datetime
    source: str
    source_ref: str
    memo: str | None
    state: Literal["open", "void"]
    void_reason: str | None


class RunIn(RequestBody):
    dry_run: StrictBool = Field(False, description="report what a run would do; write nothing")


class RunOut(BaseModel):
    run_id: int | None = Field(description="null for a dry run")
    dry_run: bool
    cut_bill_row_id: int
    cut_expected_id: int
    counts: dict[str, int]
    sha256: str


class RunRecordOut(BaseModel):
    id: int
    actor: str
    cut_bill_row_id: int
    cut_expected_id: int
    counts: dict[str, int]
    sha256: str
    started_at: datetime
    finished_at: datetime


class RunsOut(BaseModel):
    items: list[RunRecordOut]


class RowOut(BaseModel):
    subject: str = Field(description="expected | bill_row | group | import")
    id: int
    shop: str
    key: str | None
    amount: Money
    since: datetime
    age_days: int
    text: str


class QueueOut(BaseModel):
    code: str = Field(examples=["paid_no_order"])
    label: str = Field(examples=["到账无订单"])
    counted: bool = Field(description="false: 等待中, shown apart and not an exception")
    count: int
    total: Money
    ageing: dict[str, int] = Field(examples=[{"0-3": 1, "4-7": 0, "8-15": 0, "16-30": 0}])
    rows: list[RowOut] | None = None


class QueuesOut(BaseModel):
    items: list[QueueOut]
    exceptions: int = Field(description="rows in the counted queues")


class ItemIn(RequestBody):
    id: int = Field(ge=1, le=MAX_INT64)
    amount: str | None = Field(
        None, pattern=AMOUNT_PATTERN, description="a part (yuan, taking the item's sign); "
        "default: its whole open amount",
    )  # fmt: skip


class MatchIn(RequestBody):
    expected: list[ItemIn] = Field([], max_length=1000)
    actual: list[ItemIn] = Field([], max_length=1000, description="bill rows")
    gap_type: str | None = Field(None, min_length=1, max_length=32, examples=["COMMISSION"])
    force: StrictBool = Field(
        False, description="write the difference off (the `force` scope, with a memo)"
    )
    memo: str | None = Field(None, max_length=500)
    preview: StrictBool = Field(False, description="the totals and outcome; write nothing")


class LineOut(BaseModel):
    side: Literal["expected", "actual"]
    item_id: int
    amount: Money


OUTCOME = Literal["exact", "within_tolerance", "with_difference", "forced"]


class GroupOut(BaseModel):
    id: int | None = Field(description="null for a preview")
    group_no: str | None = Field(examples=["HX20240305-29"])
    shop: str | None = None
    key: str | None = None
    origin: str | None = None
    outcome: OUTCOME
    expected_total: Money
    actual_total: Money
    difference: Money
    gap_type: str | None = None
    memo: str | None = None
    state: str | None = Field(
        None,
        description="active | undone | suggested | superseded | pending (a forced match "
        "waiting for a second approver, its lines held) | rejected",
    )
    created_by: str | None = None
    created_at: datetime | None = None
    period: str | None = Field(
        None,
        description="yyyy-mm the match is booked in (the next open month, when its "
        "latest line's is closed); none for a suggestion or a preview",
    )
    lines: list[LineOut] = []


class ReasonIn(RequestBody):
    reason: Text


class KeyIn(RequestBody):
    key: str = Field(min_length=1, max_length=128, examples=["W2403301"])
    reason: str | None = Field(None, max_length=500)


class DoneOut(BaseModel):
    ok: bool = True


class EventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    before: dict | None
    after: dict | None
    reason: str | None
    hash: str


class EventsOut(BaseModel):
    items: list[EventOut]


class ActionRowOut(BaseModel):
    row: int = Field(description="the sheet row (the header is row 1)")
    action: Literal["ignore", "void", "set_key", "match"] | None
    subject: str | None
    id: int | None
    status: Literal["apply", "applied", "done", "error"] = Field(
        description="apply: a dry run would; done: in place already (nothing applied twice)"
    )
    column: str | None = Field(description="error: the column at fault")
    message: str


class ActionsOut(BaseModel):
    dry_run: bool
    sha256: str = Field(description="of the file; its rows applied are recorded under it")
    applied: int
    done: int
    errors: int
    rows: list[ActionRowOut]


def _group_out(g, ctx: ApiContext) -> GroupOut:
    return GroupOut(
        id=g.id, group_no=g.group_no, shop=g.shop, key=g.key, origin=g.origin,
        outcome=g.outcome, expected_total=_m(g.expected_total),
        actual_total=_m(g.actual_total), difference=_m(g.difference), gap_type=g.gap_type,
        memo=g.memo, state=g.state, created_by=g.created_by,
        created_at=g.created_at.astimezone(ctx.tz), period=g.period,
        lines=[LineOut(side=ln.side, item_id=ln.item_id, amount=_m(ln.amount)) for ln in g.lines],
    )  # fmt: skip


def _queue_out(q, ctx: ApiContext, rows: list | None = None) -> QueueOut:
    return QueueOut(
        code=q.code, label=q.label, counted=q.counted, count=q.count, total=_m(q.total),
        ageing=q.ageing,
        rows=None if rows is None else [
            RowOut(subject=r.subject, id=r.id, shop=r.shop, key=r.key, amount=_m(r.amount),
                   since=r.at.astimezone(ctx.tz), age_days=r.age_days, text=r.text)
            for r in rows
        ],
    )  # fmt: skip


def _parts(items: list[ItemIn]) -> list[tuple[int, int | None]]:
    return [(i.id, None if i.amount is None else to_minor(Decimal(i.amount))) for i in items]


# -- expected lines -------------------------------------------------------------------------


@router.post(
    "/recon/expected-items",
    response_model=ImportOut,
    tags=TAGS,
    summary="Expected lines as a JSON batch: checked whole; idempotent on shop, source, source_ref",
    responses=errors("order_file", *WRITES),
)
def import_expected(
    body: ExpectedBatchIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    who: Principal = RECONCILE,
    ctx: ApiContext = Depends(context),
) -> Response:
    recon = _recon(ctx)
    rows = [i.model_dump(exclude_none=True) for i in body.items]

    def action():
        r = recon.import_expected(
            rows=rows, shop=body.shop, platform=body.platform, actor=_actor(who)
        )
        return 200, ImportOut(lines=r.lines, new=r.new, existing=r.existing)

    return idempotent(ctx, request, who, idempotency_key, body, action)


@router.post(
    "/recon/expected-items/file",
    response_model=ImportOut,
    tags=TAGS,
    summary="An order file (the body: CSV, or XLSX sent as its media type), refused whole "
    "naming line and column",
    responses=errors("order_file", "forbidden"),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def upload_expected(
    request: Request,
    shop: Annotated[str | None, Query(pattern=r"^[^\x00]{1,64}$")] = None,
    platform: Annotated[str | None, Query(pattern=r"^[a-z_]{1,16}$")] = None,
    who: Principal = RECONCILE,
    ctx: ApiContext = Depends(context),
) -> Response:
    recon = _recon(ctx)
    data = await request.body()
    suffix = ".xlsx" if request.headers.get("content-type", "").startswith(XLSX) else ".csv"

    def work() -> ImportOut:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(data)
            r = recon.import_expected(path, shop=shop, platform=platform, actor=_actor(who))
        return ImportOut(lines=r.lines, new=r.new, existing=r.existing)

    return json_response(await run_in_threadpool(work))


@router.get(
    "/recon/expected-items/{item_id}",
    response_model=ExpectedOut,
    tags=TAGS,
    summary="One expected line: amount, applied, due date, state",
    responses=errors("forbidden", "not_found"),
)
def get_expected(
    item_id: Id, who: Principal = READ, ctx: ApiContext = Depends(context)
) -> Response:
    e = _recon(ctx).expected(item_id)
    return json_response(
        ExpectedOut(
            id=e.id,
            shop=e.shop,
            platform=e.platform,
            order_no=e.order_no,
            kind=e.kind,
            amount=_m(e.amount),
            applied=_m(e.applied),
            occurred_at=e.occurred_at.astimezone(ctx.tz),
            due_at=e.due_at.astimezone(ctx.tz),
            source=e.source,
            source_ref=e.source_ref,
            memo=e.memo,
            state=e.state,
            void_reason=e.void_reason,
        )  # fmt: skip
    )


def _write(ctx, request, who, key, body, work) -> Response:
    """A write answering ``DoneOut`` or a group, under the Idempotency-Key protocol."""
    return idempotent(ctx, request, who, key, body, lambda: (200, work()))


@router.post(
    "/recon/expected-items/{item_id}/void",
    response_model=DoneOut,
    tags=TAGS,
    summary="Void an expected line (a cancelled order), with a reason",
    responses=errors("not_found", "recon_state", *WRITES),
)
def void_expected(
    item_id: Id,
    body: ReasonIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    who: Principal = RECONCILE,
    ctx: ApiContext = Depends(context),
) -> Response:
    recon = _recon(ctx)

    def work():
        recon.void(item_id, reason=body.reason, actor=_actor(who))
        return DoneOut()

    return _write(ctx, request, who, idempotency_key, body, work)


# -- bill rows ------------------------------------------------------------------------------


@router.post(
    "/recon/bill-rows/{row_id}/ignore",
    response_model=DoneOut,
    tags=TAGS,
    summary="Take a bill row out of reconciliation, with a reason",
    responses=errors("not_found", "recon_state", *WRITES),
)
def ignore_row(
    row_id: Id,
    body: ReasonIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    who: Principal = RECONCILE,
    ctx: ApiContext = Depends(context),
) -> Response:
    recon = _recon(ctx)

    def work():
        recon.ignore(row_id, reason=body.reason, actor=_actor(who))
        return DoneOut()

    return _write(ctx, request, who, idempotency_key, body, work)


@router.put(
    "/recon/bill-rows/{row_id}/key",
    response_model=DoneOut,
    tags=TAGS,
    summary="Set a bill row's order key by hand (the next run matches it)",
    responses=errors("not_found", "recon_state", *WRITES),
)
def set_key(
    row_id: Id,
    body: KeyIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    who: Principal = RECONCILE,
    ctx: ApiContext = Depends(context),
) -> Response:
    recon = _recon(ctx)

    def work():
        recon.set_key(row_id, body.key, actor=_actor(who), reason=body.reason)
        return DoneOut()

    return _write(ctx, request, who, idempotency_key, body, work)


# -- runs -----------------------------------------------------------------------------------


@router.post(
    "/recon/runs",
    response_model=RunOut,
    tags=TAGS,
    summary="Match every open expected line and bill row (`dry_run`: report, write nothing)",
    responses=errors(*WRITES),
)
def run(
    request: Request,
    body: RunIn | None = None,
    idempotency_key: IdempotencyKey = None,
    who: Principal = RECONCILE,
    ctx: ApiContext = Depends(context),
) -> Response:
    recon = _recon(ctx)
    body = body or RunIn()

    def work():
        r = recon.run(dry_run=body.dry_run, actor=_actor(who))
        return RunOut(
            run_id=r.run_id, dry_run=r.dry_run, cut_bill_row_id=r.cut_bill_row_id,
            cut_expected_id=r.cut_expected_id, counts=r.counts, sha256=r.sha256,
        )  # fmt: skip

    return _write(ctx, request, who, idempotency_key, body, work)


@router.get(
    "/recon/runs",
    response_model=RunsOut,
    tags=TAGS,
    summary="The runs written, newest first",
    responses=errors("forbidden"),
)
def runs(
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    who: Principal = READ,
    ctx: ApiContext = Depends(context),
) -> Response:
    found = _recon(ctx).runs(limit=limit)
    return json_response(
        RunsOut(
            items=[
                RunRecordOut(
                    id=r.id,
                    actor=r.actor,
                    cut_bill_row_id=r.cut_bill_row_id,
                    cut_expected_id=r.cut_expected_id,
                    counts=r.counts,
                    sha256=r.sha256,
                    started_at=r.started_at.astimezone(ctx.tz),
                    finished_at=r.finished_at.astimezone(ctx.tz),
                )  # fmt: skip
                for r in found
            ]
        )
    )


# -- queues ---------------------------------------------------------------------------------


@router.get(
    "/recon/queues",
    response_model=QueuesOut,
    tags=TAGS,
    summary="Every exception queue: count, total and ageing (等待中 apart, not counted)",
    responses=errors("forbidden"),
)
def list_queues(who: Principal = READ, ctx: ApiContext = Depends(context)):
    found = _recon(ctx).queues()
    return json_response(
        QueuesOut(
            items=[_queue_out(q, ctx) for q in found],
            exceptions=sum(q.count for q in found if q.counted),
        )
    )


@router.get(
    "/recon/queues/{name}",
    response_model=QueueOut,
    responses={
        **errors("forbidden", "not_found"),
        200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}},
    },
    tags=TAGS,
    summary="One queue's rows, oldest first, paged (`format=xlsx`: all of them, with a 动作 "
    "column)",
)
def get_queue(
    name: Annotated[str, PathParam(min_length=1, max_length=64, examples=["paid_no_order"])],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    format: Literal["json", "xlsx"] = "json",
    who: Principal = READ,
    ctx: ApiContext = Depends(context),
) -> Response:
    recon = _recon(ctx)
    if format == "xlsx":
        q = recon.queue(name)
        with tempfile.TemporaryDirectory() as tmp:
            data = write_xlsx(q, Path(tmp) / "queue.xlsx", ctx.tz).read_bytes()
        filename = quote(f"{q.label}.xlsx")
        return Response(
            data, media_type=XLSX, headers={
                "Content-Disposition": f"attachment; filename=\"{q.code}.xlsx\"; "
                f"filename*=UTF-8''{filename}"},
        )  # fmt: skip
    q = recon.queue(name, limit=offset + limit)
    return json_response(_queue_out(q, ctx, q.rows[offset : offset + limit]))


# -- matches --------------------------------------------------------------------------------


@router.post(
    "/recon/actions",
    response_model=ActionsOut,
    tags=TAGS,
    summary="A queue's XLSX (or a CSV of its columns) with its 动作 column filled in: per row, "
    "what it does (`dry_run=true`: nothing written), all or nothing",
    responses=errors("action_file", "not_found", "forbidden"),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                XLSX: {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def apply_actions(
    request: Request,
    dry_run: bool = False,
    who: Principal = RECONCILE,
    ctx: ApiContext = Depends(context),
) -> Response:
    recon = _recon(ctx)
    data = await request.body()

    def work() -> ActionsOut:
        r = recon.apply_actions(data, actor=_actor(who), dry_run=dry_run)
        return ActionsOut(
            dry_run=r.dry_run, sha256=r.sha256, applied=r.count("applied"),
            done=r.count("done"), errors=r.count("error"),
            rows=[ActionRowOut(row=x.line, action=x.action, subject=x.subject, id=x.id,
                               status=x.status, column=x.column, message=x.message)
                  for x in r.rows],
        )  # fmt: skip

    return json_response(await run_in_threadpool(work))


@router.post(
    "/recon/groups",
    response_model=GroupOut,
    tags=TAGS,
    summary="Match expected lines and bill rows by hand, whole or in part (`preview`: write "
    "nothing); `force` also needs the `force` scope, and above the approval amount waits for "
    "a second approver (`state` pending)",
    responses=errors("validation", "not_found", "over_applied", "recon_state", *WRITES),
)
def match(
    body: MatchIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    who: Principal = RECONCILE,
    ctx: ApiContext = Depends(context),
) -> Response:
    recon = _recon(ctx)
    if body.force and not body.preview:
        who.require("force")
    es, as_ = _parts(body.expected), _parts(body.actual)
    if body.preview:
        p = recon.preview(es, as_, gap_type=body.gap_type, force=body.force)
        return json_response(
            GroupOut(
                id=None,
                group_no=None,
                outcome=p.outcome,
                expected_total=_m(p.expected_total),
                actual_total=_m(p.actual_total),
                difference=_m(p.difference),
            )  # fmt: skip
        )

    def action():
        g = recon.match(es, as_, actor=_actor(who), gap_type=body.gap_type, force=body.force,
                        memo=body.memo)  # fmt: skip
        return 201, _group_out(g, ctx)

    return idempotent(ctx, request, who, idempotency_key, body, action)


class ApproveIn(RequestBody):
    memo: str | None = Field(None, max_length=500)


@router.post(
    "/recon/groups/{group_id}/approve",
    response_model=GroupOut,
    tags=TAGS,
    summary="Approve a pending forced match (a second person, not the one who forced it): it "
    "becomes active",
    responses=errors("not_found", "recon_state", "second_approver", *WRITES),
)
def approve(
    group_id: Id,
    request: Request,
    body: ApproveIn | None = None,
    idempotency_key: IdempotencyKey = None,
    who: Principal = FORCE,
    ctx: ApiContext = Depends(context),
) -> Response:
    recon, body = _recon(ctx), body or ApproveIn()

    def work():
        return _group_out(recon.approve(group_id, actor=_actor(who), memo=body.memo), ctx)

    return _write(ctx, request, who, idempotency_key, body, work)


@router.post(
    "/recon/groups/{group_id}/reject",
    response_model=GroupOut,
    tags=TAGS,
    summary="Reject a pending forced match, with a reason (a second person): its lines released",
    responses=errors("not_found", "recon_state", "second_approver", *WRITES),
)
def reject(
    group_id: Id,
    body: ReasonIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    who: Principal = FORCE,
    ctx: ApiContext = Depends(context),
) -> Response:
    recon = _recon(ctx)

    def work():
        return _group_out(recon.reject(group_id, reason=body.reason, actor=_actor(who)), ctx)

    return _write(ctx, request, who, idempotency_key, body, work)


@router.get(
    "/recon/groups/{group_id}",
    response_model=GroupOut,
    tags=TAGS,
    summary="One match (核销单) with its lines",
    responses=errors("forbidden", "not_found"),
)
def get_group(group_id: Id, who: Principal = READ, ctx: ApiContext = Depends(context)) -> Response:
    return json_response(_group_out(_recon(ctx).group(group_id), ctx))


@router.post(
    "/recon/groups/{group_id}/undo",
    response_model=GroupOut,
    tags=TAGS,
    summary="Undo a match, with a reason: its lines released, the group and history kept",
    responses=errors("not_found", "recon_state", "period_closed", *WRITES),
)
def undo(
    group_id: Id,
    body: ReasonIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    who: Principal = RECONCILE,
    ctx: ApiContext = Depends(context),
) -> Response:
    recon = _recon(ctx)

    def work():
        return _group_out(recon.undo(group_id, reason=body.reason, actor=_actor(who)), ctx)

    return _write(ctx, request, who, idempotency_key, body, work)


@router.get(
    "/recon/events",
    response_model=EventsOut,
    tags=TAGS,
    summary="The audit trail, newest first (`group=`: one match's events)",
    responses=errors("forbidden"),
)
def events(
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    group: Annotated[int | None, Query(ge=1, le=MAX_INT64)] = None,
    who: Principal = READ,
    ctx: ApiContext = Depends(context),
) -> Response:
    subject = ("group", str(group)) if group else None
    found = _recon(ctx).events(limit=limit, subject=subject)
    return json_response(
        EventsOut(
            items=[
                EventOut(
                    id=e.id,
                    at=e.at.astimezone(ctx.tz),
                    actor=e.actor,
                    action=e.action,
                    subject_type=e.subject_type,
                    subject_id=e.subject_id,
                    before=e.before,
                    after=e.after,
                    reason=e.reason,
                    hash=e.hash,
                )  # fmt: skip
                for e in found
            ]
        )
    )
