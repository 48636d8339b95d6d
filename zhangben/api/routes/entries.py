"""Reading the flow (流水): filtered lists with keyset cursors, exports of them (CSV, XLSX),
single entries."""

from __future__ import annotations

import base64
import binascii
import itertools
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import StringConstraints

from zhangben.api.auth import Principal, principal
from zhangben.api.problems import invalid
from zhangben.api.routes.common import (
    EntryId,
    Number,
    ShopFilter,
    Text,
    entries_in_reach,
    local,
)
from zhangben.api.routing import errors
from zhangben.api.routing import router as make_router
from zhangben.api.schemas import (
    MAX_INT32,
    EntryOut,
    EntryPage,
    EntryType,
    Instant,
    QueryBool,
)
from zhangben.api.writes import ApiContext, context, json_response
from zhangben.core.queries import EntryFilter
from zhangben.exports.flows import MEDIA_TYPES, Format, export_flows, filename

router = make_router()
log = logging.getLogger("zhangben.api")
MAX_LIMIT = 500
#: a number to find: 1-128 characters (a platform's flow or order number), no NUL
FindText = Annotated[str, StringConstraints(pattern=r"^[^\x00]{1,128}$")]
_OFFERS = {"application/json": None, **{t.split(";")[0]: f for f, t in MEDIA_TYPES.items()}}


def negotiate(accept: str | None) -> Format | None:
    """The export an ``Accept`` header asks for, or None for JSON: of the media types it
    names exactly (``text/csv``, the XLSX type, ``application/json``), the one of highest
    ``q`` (the first on a tie). Wildcards and unknown types mean JSON, as before."""
    best, best_q = None, 0.0
    for part in (accept or "").split(","):
        media, *params = part.split(";")
        media = media.strip().lower()
        if media not in _OFFERS:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = media, q
    return _OFFERS.get(best) if best else None


def _download(ctx: ApiContext, f: EntryFilter, fmt: Format, before: int | None) -> Response:
    """The whole filtered flow as a file, streamed page by page. The first page is read here,
    so that a database that cannot serve is still a problem response (503)."""
    chunks = export_flows(ctx.ledger, f, fmt, before_id=before)
    first = next(chunks)
    name = filename(fmt, datetime.now(UTC), ctx.tz)
    ascii_name = f"flows-{name.split('-', 1)[1]}"
    return StreamingResponse(
        _logged(itertools.chain([first], chunks), fmt),
        media_type=fmt.media_type,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
            ),
            "Cache-Control": "no-store",
        },
    )


def _logged(chunks: Iterator[bytes], fmt: Format) -> Iterator[bytes]:
    """The chunks; a failure after the response began can only cut the download short: it is
    logged in one line and raised, so that the connection is aborted, never ended as if the
    file were whole."""
    try:
        yield from chunks
    except Exception as exc:
        log.error("export of the flow as %s stopped: %s", fmt, type(exc).__name__)
        raise


def encode_cursor(entry_id: int | None) -> str | None:
    """Opaque cursor: base64url of the last entry id shown (newest first)."""
    if entry_id is None:
        return None
    return base64.urlsafe_b64encode(str(entry_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value = int(text) if text.isdigit() else 0
    except (binascii.Error, UnicodeDecodeError, ValueError):
        value = 0
    if not 1 <= value <= 2**63 - 1:
        raise invalid("cursor", "is not a cursor returned by this API")
    return value


@router.get(
    "/entries",
    response_model=EntryPage,
    tags=["entries"],
    summary="List entries, newest first, with a keyset cursor; or export them (CSV, XLSX)",
    responses={
        **errors("forbidden"),
        200: {
            "description": "a page of entries (JSON), or with `format=csv|xlsx` (or an "
            "`Accept: text/csv` or XLSX type) every matching entry as a file",
            "content": {
                "application/json": {},
                **{t.split(";")[0]: {} for t in MEDIA_TYPES.values()},
            },
        },
    },
)
def list_entries(
    request: Request,
    account: Annotated[
        list[Number] | None, Query(description="account number (repeatable)")
    ] = None,
    start: Annotated[Instant | None, Query(description="trade time ≥ start")] = None,
    end: Annotated[Instant | None, Query(description="trade time < end")] = None,
    type: Annotated[list[EntryType] | None, Query(description="entry type (repeatable)")] = None,
    category: Annotated[list[int] | None, Query(description="category id (repeatable)")] = None,
    subject: Annotated[list[int] | None, Query(description="subject id (repeatable)")] = None,
    shop: ShopFilter = None,
    source: Annotated[list[Text] | None, Query(description="source (repeatable)")] = None,
    trade_no: Annotated[FindText | None, Query(description="trade number (交易号)")] = None,
    external_id: Annotated[
        FindText | None,
        Query(description="platform flow number (账务流水号) or a caller's external id"),
    ] = None,
    order_no: Annotated[
        FindText | None, Query(description="merchant order number of a bill row (商户订单号)")
    ] = None,
    counterparty: Annotated[FindText | None, Query(description="counterparty (对方)")] = None,
    find: Annotated[
        FindText | None,
        Query(description="any of trade_no, external_id, order_no, counterparty"),
    ] = None,
    format: Annotated[
        Literal["json", "csv", "xlsx"] | None,
        Query(description="json (a page), or csv / xlsx: every match as a file"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=40, description="next_cursor of the previous page")
    ] = None,
    with_total: Annotated[QueryBool, Query(description="also count every match")] = False,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    """Each page costs the same however deep it is (``id < cursor``); entries added while you
    page appear on no later page, and none is skipped or repeated. The caller only ever sees
    entries of accounts it may see.

    An export (``format=csv|xlsx``, or ``Accept: text/csv`` or the XLSX type) holds every
    entry that matches, newest first (after ``cursor`` when given; ``limit`` and
    ``with_total`` are for pages), streamed as it is read."""
    who.require("read")
    for name, ids in (("category", category), ("subject", subject)):
        if ids and any(not 1 <= i <= MAX_INT32 for i in ids):
            raise invalid(name, f"ids are between 1 and {MAX_INT32}")
    f = EntryFilter(
        account_numbers=who.narrow(account, who.accounts),
        shop_codes=who.narrow(shop, who.shops),
        owner_user_id=who.owner_id,
        start=local(ctx, start),
        end=local(ctx, end),
        types=type,
        category_ids=category,
        subject_ids=subject,
        sources=source,
        trade_no=trade_no,
        external_id=external_id,
        order_no=order_no,
        counterparty=counterparty,
        find=find,
    )
    before = decode_cursor(cursor) if cursor is not None else None
    fmt = negotiate(request.headers.get("accept")) if format is None else _FORMATS[format]
    if fmt is not None:
        return _download(ctx, f, fmt, before)
    page = ctx.ledger.entries(f, limit=limit, before_id=before, with_total=with_total)
    return json_response(
        EntryPage(
            items=[EntryOut.of(e, ctx.tz) for e in page.items],
            next_cursor=encode_cursor(page.next_cursor),
            total=page.total,
        )
    )


_FORMATS = {"json": None, "csv": Format.csv, "xlsx": Format.xlsx}


@router.get(
    "/entries/{entry_id}",
    response_model=EntryOut,
    tags=["entries"],
    summary="One entry",
    responses=errors("forbidden", "not_found"),
)
def get_entry(
    entry_id: EntryId,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    who.require("read")
    (entry,) = entries_in_reach(ctx, who, f"entry {entry_id}", lambda: [ctx.ledger.entry(entry_id)])
    return json_response(EntryOut.of(entry, ctx.tz))
