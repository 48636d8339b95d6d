"""Accounting vouchers (记账凭证, vouchers.md): books, their rules, batches generated and
downloaded, a flow tested against the rules. Staff only: a voucher spans every account of its
book. Amounts are the book's minor units as decimal strings (``"1234.56"``)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Body, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from zhangben.api.auth import Principal, principal
from zhangben.api.routing import errors
from zhangben.api.routing import router as make_router
from zhangben.api.schemas import Request as RequestBody
from zhangben.api.writes import ApiContext, context, json_response
from zhangben.vouchers.books import PRODUCTS, Book
from zhangben.vouchers.model import Voucher
from zhangben.vouchers.service import Batch, Vouchers

router = make_router()
TAG = ["vouchers"]
MONTH_PATTERN = r"^[0-9]{4}-[0-9]{2}$"
NAME_PATTERN = r"^[^\x00/]{1,64}$"
BookName = Annotated[str, Path(pattern=NAME_PATTERN, examples=["星空"])]
BatchId = Annotated[int, Path(ge=1, le=2**62)]
FILE_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
    "application/json": {},
    "application/xml": {},
    "application/dbf": {},
}


class BookIn(RequestBody):
    name: str = Field(pattern=NAME_PATTERN, examples=["星空"])
    product: str = Field(examples=["k3cloud_xlsx"], description=" | ".join(PRODUCTS))
    standard: str = Field("cas2006", examples=["cas2006"], description="cas2006 | sbe2013")
    shop: str | None = Field(None, max_length=64, description="only this shop's accounts")
    book_code: str = Field("", max_length=64, description="账簿编码")
    org_code: str = Field("", max_length=64, description="核算组织")
    voucher_word: str = Field("记", min_length=1, max_length=16, description="凭证字")
    currency_code: str | None = Field(None, max_length=16, description="币别 in the product")
    preparer: str = Field("", max_length=64, description="制单人")


class BookOut(BaseModel):
    name: str
    product: str
    standard: str
    shop: str | None
    book_code: str
    org_code: str
    voucher_word: str
    currency_code: str
    decimals: int
    rounding_subject: str
    closed_through: str | None

    @classmethod
    def of(cls, b: Book) -> BookOut:
        return cls(**{k: v for k, v in b.as_dict().items() if k in cls.model_fields},
                   shop=b.shop_code)  # fmt: skip


class BooksOut(BaseModel):
    items: list[BookOut]


class LineOut(BaseModel):
    seq: int
    summary: str
    subject: str = Field(examples=["1012.01"])
    subject_name: str
    aux: dict[str, str]
    debit: str = Field(examples=["1234.56"])
    credit: str = Field(examples=["0.00"])


class VoucherOut(BaseModel):
    word: str
    number: int
    date: date
    summary: str
    attachments: int
    debit_total: str
    credit_total: str
    lines: list[LineOut]

    @classmethod
    def of(cls, v: Voucher, decimals: int) -> VoucherOut:
        def m(x: int) -> str:
            return f"{Decimal(x).scaleb(-decimals):.{decimals}f}"

        lines = [LineOut(seq=x.seq, summary=x.summary, subject=x.subject_code,
                         subject_name=x.subject_name, aux=x.aux, debit=m(x.debit),
                         credit=m(x.credit)) for x in v.lines]  # fmt: skip
        return cls(word=v.word, number=v.number, date=v.date, summary=v.summary,
                   attachments=v.attachments, debit_total=m(v.debit_total),
                   credit_total=m(v.credit_total), lines=lines)  # fmt: skip


class BatchOut(BaseModel):
    id: int
    book: str
    month: str
    state: str = Field(description="draft | exported | void")
    vouchers: int
    flows: int
    differences: int = Field(
        description="reconciliation differences written off in it (or red: a match undone)"
    )
    ledger_closed: bool = Field(description="the ledger's month was closed (月结) when made")
    file_sha256: str | None
    created_by: str
    created_at: datetime
    exported_at: datetime | None

    @classmethod
    def of(cls, b: Batch) -> BatchOut:
        return cls(**{k: v for k, v in b.as_dict().items() if k in cls.model_fields})


class BatchesOut(BaseModel):
    items: list[BatchOut]


class BatchDetailOut(BaseModel):
    batch: BatchOut
    vouchers: list[VoucherOut]
    rounding: list[dict[str, int]] = Field(
        [], description="(number, residual in minor units) of the vouchers with a rounding line"
    )


class GenerateIn(RequestBody):
    month: str = Field(pattern=MONTH_PATTERN, examples=["2026-10"])


class FlowTestOut(BaseModel):
    entry_id: int
    rule: str | None = Field(description="null: no rule matches the flow")
    business_type: str
    in_batch: int | None = Field(description="the live batch the flow is in")
    voucher: VoucherOut | None


def _service(ctx: ApiContext) -> Vouchers:
    return Vouchers(ctx.ledger)


def _actor(who: Principal) -> str:
    return f"user:{who.user.username}" if who.user is not None else who.caller


@router.get("/vouchers/books", response_model=BooksOut, tags=TAG, summary="The books (账套)",
            responses=errors("forbidden"))  # fmt: skip
def list_books(who: Principal = Depends(principal), ctx: ApiContext = Depends(context)):
    who.require_staff()
    return json_response(BooksOut(items=[BookOut.of(b) for b in _service(ctx).books()]))


@router.post(
    "/vouchers/books", response_model=BookOut, status_code=201, tags=TAG,
    summary="Add a book: its 科目 from the standard, its rules the defaults",
    responses=errors("forbidden", "conflict", "not_found"),
)  # fmt: skip
def add_book(body: BookIn, who: Principal = Depends(principal), ctx: ApiContext = Depends(context)):
    who.require_staff()
    data = body.model_dump()
    name, shop = data.pop("name"), data.pop("shop")
    return json_response(BookOut.of(_service(ctx).add_book(name, shop=shop, **data)), 201)


@router.get(
    "/vouchers/books/{book}/rules", response_model=list[dict[str, Any]], tags=TAG,
    summary="The book's rules, in order (first match wins)",
    responses=errors("forbidden", "not_found"),
)  # fmt: skip
def get_rules(book: BookName, who: Principal = Depends(principal),
              ctx: ApiContext = Depends(context)):  # fmt: skip
    who.require_staff()
    return _service(ctx).rules(book)


@router.put(
    "/vouchers/books/{book}/rules", response_model=list[dict[str, Any]], tags=TAG,
    summary="Replace the book's rules (each checked: balanced lines, known keys)",
    responses=errors("forbidden", "voucher_invalid", "not_found"),
)  # fmt: skip
def put_rules(
    book: BookName,
    rules: Annotated[list[dict[str, Any]], Body()],
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
):
    who.require_staff()
    service = _service(ctx)
    service.set_rules(book, rules)
    return service.rules(book)


class DefaultsAddedOut(BaseModel):
    added: list[dict[str, Any]] = Field(description="the default rules appended, in order")
    rules: list[dict[str, Any]] = Field(description="the book's rules now, in order")


@router.post(
    "/vouchers/books/{book}/rules/defaults", response_model=DefaultsAddedOut, tags=TAG,
    summary="Append the default rules the book lacks, after its own (they keep deciding first)",
    responses=errors("forbidden", "not_found"),
)  # fmt: skip
def add_default_rules(book: BookName, who: Principal = Depends(principal),
                      ctx: ApiContext = Depends(context)):  # fmt: skip
    who.require_staff()
    service = _service(ctx)
    added = service.add_default_rules(book)
    return DefaultsAddedOut(added=added, rules=service.rules(book))


@router.get(
    "/vouchers/books/{book}/test/{entry_id}", response_model=FlowTestOut, tags=TAG,
    summary="Which rule takes a flow, and the voucher it alone would make",
    responses=errors("forbidden", "not_found"),
)  # fmt: skip
def test_flow(
    book: BookName,
    entry_id: BatchId,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
):
    who.require_staff()
    service = _service(ctx)
    t = service.test_flow(book, entry_id)
    decimals = service.book(book).decimals
    return json_response(FlowTestOut(
        entry_id=t.entry_id, rule=t.rule, business_type=t.kind, in_batch=t.vouchered_in,
        voucher=VoucherOut.of(t.voucher, decimals) if t.voucher else None))  # fmt: skip


@router.post(
    "/vouchers/books/{book}/batches", response_model=BatchDetailOut, status_code=201, tags=TAG,
    summary="Generate the month's vouchers: every flow in no live voucher (a draft replaced)",
    responses=errors("forbidden", "voucher_invalid", "voucher_state", "not_found"),
)  # fmt: skip
def generate(
    book: BookName,
    body: GenerateIn,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
):
    """Refused with `voucher_invalid` naming every problem (unmapped business types with their
    counts, 科目 not leaves or not in the book, missing dimensions); with `voucher_state` when
    the month is already vouchered or closed in the book."""
    who.require_staff()
    service = _service(ctx)
    made = service.generate(book, body.month, actor=_actor(who))
    decimals = service.book(book).decimals
    return json_response(BatchDetailOut(
        batch=BatchOut.of(made.batch), vouchers=[VoucherOut.of(v, decimals) for v in made.vouchers],
        rounding=[{"number": n, "amount": a} for n, a in made.rounding]), 201)  # fmt: skip


@router.get("/vouchers/batches", response_model=BatchesOut, tags=TAG,
            summary="The batches, oldest first",
            responses=errors("forbidden", "not_found"))  # fmt: skip
def list_batches(
    book: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
):
    who.require_staff()
    found = _service(ctx).batches(book, month)
    return json_response(BatchesOut(items=[BatchOut.of(b) for b in found]))


@router.get("/vouchers/batches/{batch_id}", response_model=BatchDetailOut, tags=TAG,
            summary="A batch and its vouchers",
            responses=errors("forbidden", "not_found"))  # fmt: skip
def get_batch(batch_id: BatchId, who: Principal = Depends(principal),
              ctx: ApiContext = Depends(context)):  # fmt: skip
    who.require_staff()
    service = _service(ctx)
    b, found = service.batch(batch_id)
    decimals = service.book(b.book).decimals
    items = [VoucherOut.of(v, decimals) for v in found]
    return json_response(BatchDetailOut(batch=BatchOut.of(b), vouchers=items))


@router.post("/vouchers/batches/{batch_id}/void", response_model=BatchOut, tags=TAG,
             summary="Void a draft batch: its flows are free for the next one",
             responses=errors("forbidden", "voucher_state", "not_found"))  # fmt: skip
def void_batch(batch_id: BatchId, who: Principal = Depends(principal),
               ctx: ApiContext = Depends(context)):  # fmt: skip
    who.require_staff()
    return json_response(BatchOut.of(_service(ctx).void(batch_id)))


@router.get(
    "/vouchers/batches/{batch_id}/file",
    response_class=Response,
    tags=TAG,
    summary="Download the batch as the product's import file (the book's own format exports "
    "a draft: from then on it is never edited)",
    responses={
        **errors("forbidden", "voucher_invalid", "voucher_state", "not_found"),
        200: {"description": "the import file, as an attachment",
              "content": {t: {"schema": {"type": "string", "format": "binary"}}
                          for t in FILE_TYPES}},
    },
)  # fmt: skip
def download(
    batch_id: BatchId,
    product: Annotated[str | None, Query(description="another product's format")] = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    who.require_staff()
    file = _service(ctx).export(batch_id, product=product)
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", file.filename)
    return Response(
        file.content,
        media_type=file.media_type,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file.filename)}"
            ),
            "X-Content-SHA256": file.sha256,
            "Cache-Control": "no-store",
        },
    )
