"""Reading the flow (流水): filtered lists with keyset cursors, single entries."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import Response

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

router = make_router()
MAX_LIMIT = 500


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
    summary="List entries, newest first, with a keyset cursor",
    responses=errors("forbidden"),
)
def list_entries(
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
    entries of accounts it may see."""
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
    )
    before = decode_cursor(cursor) if cursor is not None else None
    page = ctx.ledger.entries(f, limit=limit, before_id=before, with_total=with_total)
    return json_response(
        EntryPage(
            items=[EntryOut.of(e, ctx.tz) for e in page.items],
            next_cursor=encode_cursor(page.next_cursor),
            total=page.total,
        )
    )


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
