"""Periods and the month close (月结): list, show, check, close, reopen, verify.

Reading a period needs the ``read`` scope and reach over its shop (a period of the whole
ledger: an unrestricted caller); checking, closing, reopening and verifying are for staff.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StrictBool

from zhangben.api.auth import Principal, principal
from zhangben.api.problems import ApiProblem
from zhangben.api.routing import errors
from zhangben.api.routing import router as make_router
from zhangben.api.schemas import SIGNED_AMOUNT_PATTERN
from zhangben.api.schemas import Request as RequestBody
from zhangben.api.writes import ApiContext, IdempotencyKey, context, idempotent, json_response
from zhangben.core.periods import MAX_REASON, Finding, Period
from zhangben.periods import Periods

router = make_router()

MONTH_PATTERN = r"^[0-9]{4}-[0-9]{2}$"
SHOP_PATTERN = r"^[^\x00]{1,64}$"
MonthPath = Annotated[str, Path(pattern=MONTH_PATTERN, examples=["2026-10"], description="yyyy-mm")]
ShopQuery = Annotated[
    str | None,
    Query(pattern=SHOP_PATTERN, description="the shop's period (default: the whole ledger)"),
]
Amount = Annotated[str, Field(pattern=SIGNED_AMOUNT_PATTERN, examples=["1200.0000"])]


class FindingOut(BaseModel):
    check: str = Field(
        examples=["missing_import_days"], description="missing_import_days, continuity or verify"
    )
    account: str | None = Field(examples=["ALIPAY-S001"])
    text: str = Field(examples=["account ALIPAY-S001: no import for 2026-10-05 (1 day)"])

    @classmethod
    def of(cls, f: Finding | dict) -> FindingOut:
        return cls(**(f if isinstance(f, dict) else f.as_dict()))


class AccountFiguresOut(BaseModel):
    account: str
    name: str
    type: str
    currency: str
    shop: str | None
    opening: Amount
    income: Amount
    expense: Amount
    closing: Amount
    entries: int
    income_entries: int
    expense_entries: int


class TotalsOut(BaseModel):
    currency: str
    opening: Amount
    income: Amount
    expense: Amount
    closing: Amount
    entries: int


class PeriodEventOut(BaseModel):
    action: Literal["close", "reopen"]
    at: datetime
    actor: str = Field(examples=["user:finance"])
    reason: str | None
    snapshot_sha256: str


class PeriodOut(BaseModel):
    month: str = Field(examples=["2026-10"])
    shop: str | None = Field(examples=["S001"], description="null: the whole ledger")
    status: Literal["open", "closed", "reopened"]
    time_zone: str = Field(examples=["Asia/Shanghai"])
    starts_at: datetime
    ends_at: datetime
    closed_at: datetime | None = None
    closed_by: str | None = None
    forced: bool = Field(False, description="closed with findings, acknowledged")
    snapshot_sha256: str | None = Field(
        None, description="SHA-256 of `snapshot`, the canonical JSON the close stored"
    )
    snapshot: str | None = Field(None, description="the stored snapshot, byte for byte")
    accounts: list[AccountFiguresOut] = []
    totals: list[TotalsOut] = []
    acknowledged: list[FindingOut] = []
    events: list[PeriodEventOut] = []

    @classmethod
    def of(cls, p: Period, tz: tzinfo) -> PeriodOut:
        snap = p.snapshot or {}
        return cls(
            month=p.month,
            shop=p.shop,
            status=p.status,
            time_zone=p.time_zone,
            starts_at=p.starts_at.astimezone(tz),
            ends_at=p.ends_at.astimezone(tz),
            closed_at=p.closed_at.astimezone(tz) if p.closed_at else None,
            closed_by=p.closed_by,
            forced=p.forced,
            snapshot_sha256=p.snapshot_sha256,
            snapshot=p.snapshot_text,
            accounts=snap.get("accounts", []),
            totals=snap.get("totals", []),
            acknowledged=[FindingOut.of(f) for f in snap.get("acknowledged", [])],
            events=[
                PeriodEventOut(
                    action=e.action,
                    at=e.at.astimezone(tz),
                    actor=e.actor,
                    reason=e.reason,
                    snapshot_sha256=e.snapshot_sha256,
                )  # fmt: skip
                for e in p.events
            ],
        )


class ClosedThroughOut(BaseModel):
    shop: str | None
    month: str


class PeriodsOut(BaseModel):
    items: list[PeriodOut]
    closed_through: list[ClosedThroughOut] = Field(
        description="each scope's latest closed month: no entry may be dated before its end"
    )


class ChecksOut(BaseModel):
    month: str
    shop: str | None
    ok: bool
    findings: list[FindingOut]


class PeriodsVerifyOut(BaseModel):
    ok: bool
    periods_checked: int
    problems: list[str]


class CloseIn(RequestBody):
    shop: str | None = Field(None, pattern=SHOP_PATTERN, description="default: the whole ledger")
    force: StrictBool = Field(
        False, description="close despite the checks' findings, stored as acknowledged"
    )


class ReopenIn(RequestBody):
    shop: str | None = Field(None, pattern=SHOP_PATTERN, description="default: the whole ledger")
    reason: str = Field(min_length=1, max_length=MAX_REASON, examples=["补记漏单"])


def _actor(who: Principal) -> str:
    return f"user:{who.user.username}" if who.user is not None else who.caller


def may_read_period(who: Principal, shop: str | None) -> bool:
    if who.is_staff or who.unrestricted:
        return True
    limited_to_shops = who.accounts is None and who.owner_id is None and who.shops is not None
    return shop is not None and limited_to_shops and shop in who.shops


def _periods(ctx: ApiContext) -> Periods:
    return Periods(ctx.ledger)


@router.get(
    "/periods",
    response_model=PeriodsOut,
    tags=["periods"],
    summary="Every period closed at least once, and how far each scope is closed",
    responses=errors("forbidden"),
)
def list_periods(
    shop: ShopQuery = None, who: Principal = Depends(principal), ctx: ApiContext = Depends(context)
) -> Response:
    who.require("read")
    service = _periods(ctx)
    items = [p for p in service.list_periods(shop=shop) if may_read_period(who, p.shop)]
    through = [
        ClosedThroughOut(shop=s, month=m)
        for s, m in sorted(service.closed_through().items(), key=lambda i: i[0] or "")
        if may_read_period(who, s) and (shop is None or s == shop)
    ]
    return json_response(
        PeriodsOut(items=[PeriodOut.of(p, ctx.tz) for p in items], closed_through=through)
    )


@router.get(
    "/periods/verify",
    response_model=PeriodsVerifyOut,
    tags=["periods"],
    summary="Recompute every closed period's figures and SHA-256 (staff only)",
    responses=errors("forbidden"),
)
def verify_periods(
    who: Principal = Depends(principal), ctx: ApiContext = Depends(context)
) -> Response:
    who.require_staff()
    report = _periods(ctx).verify()
    return json_response(
        PeriodsVerifyOut(
            ok=report.ok, periods_checked=report.periods_checked, problems=report.problems
        )
    )


@router.get(
    "/periods/{month}",
    response_model=PeriodOut,
    tags=["periods"],
    summary="One month of a shop (or of the ledger): status, figures, acknowledged findings, "
    "events",
    responses=errors("forbidden"),
)
def get_period(
    month: MonthPath,
    shop: ShopQuery = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    who.require("read")
    if not may_read_period(who, shop):
        raise ApiProblem("forbidden", "these credentials may not read this period")
    return json_response(PeriodOut.of(_periods(ctx).get(month, shop=shop), ctx.tz))


@router.get(
    "/periods/{month}/checks",
    response_model=ChecksOut,
    tags=["periods"],
    summary="What stands in the way of closing the month (staff only)",
    responses=errors("forbidden"),
)
def period_checks(
    month: MonthPath,
    shop: ShopQuery = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    who.require_staff()
    found = _periods(ctx).checks(month, shop=shop)
    return json_response(
        ChecksOut(month=month, shop=shop, ok=not found, findings=[FindingOut.of(f) for f in found])
    )


@router.post(
    "/periods/{month}/close",
    response_model=PeriodOut,
    tags=["periods"],
    summary="Close the month: its figures and their SHA-256 stored, writes into it refused "
    "(staff only)",
    responses=errors(
        "forbidden",
        "period_not_ready",
        "period_state",
        "idempotency_conflict",
        "idempotency_in_progress",
    ),  # fmt: skip
)
def close_period(
    month: MonthPath,
    request: Request,
    body: CloseIn | None = None,
    idempotency_key: IdempotencyKey = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    """Refused with `period_not_ready` (listing `findings`) when a check finds anything,
    unless `force`, which stores the findings as acknowledged in the snapshot."""
    who.require_staff()
    body = body or CloseIn()

    def action():
        period = _periods(ctx).close(month, shop=body.shop, actor=_actor(who), force=body.force)
        return 200, PeriodOut.of(period, ctx.tz)

    return idempotent(ctx, request, who, idempotency_key, body, action)


@router.post(
    "/periods/{month}/reopen",
    response_model=PeriodOut,
    tags=["periods"],
    summary="Reopen the latest closed period of a shop (or of the ledger), with a reason "
    "(staff only)",
    responses=errors(
        "forbidden", "period_state", "idempotency_conflict", "idempotency_in_progress"
    ),  # fmt: skip
)
def reopen_period(
    month: MonthPath,
    body: ReopenIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    who.require_staff()

    def action():
        period = _periods(ctx).reopen(month, shop=body.shop, actor=_actor(who), reason=body.reason)
        return 200, PeriodOut.of(period, ctx.tz)

    return idempotent(ctx, request, who, idempotency_key, body, action)
