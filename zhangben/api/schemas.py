"""Wire models of the REST API (Pydantic v2).

Money is a decimal *string* both ways: requests send ``"12.34"`` (at most 4 places; a JSON
number, NaN, a negative, zero or an amount over 99,999,999,999,999.9999 is refused naming
the field), responses always show 4 places (``"12.3400"``, signed where it is a movement).
"""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from zhangben.core.errors import InvalidAmount
from zhangben.core.money import format_amount, parse_amount
from zhangben.core.records import Account, ChartItem, Entry, PostingResult

AMOUNT_PATTERN = r"^[0-9]{1,14}(\.[0-9]{1,4})?$"
SIGNED_AMOUNT_PATTERN = r"^-?[0-9]+\.[0-9]{4}$"
ACCOUNT_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
_AMOUNT_RE = re.compile(AMOUNT_PATTERN)
MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1


def _money(value: object) -> Decimal:
    if not isinstance(value, str):
        raise PydanticCustomError(
            "money_type",
            'must be a decimal string like "12.34", not a JSON {kind}',
            {"kind": type(value).__name__},
        )
    try:
        amount = parse_amount(value)
    except InvalidAmount as exc:
        raise PydanticCustomError("money", exc.reason) from None
    if not _AMOUNT_RE.match(value):
        raise PydanticCustomError("money", 'must be a plain decimal like "12.34"')
    return amount


#: A positive amount in a request: a decimal string with at most 4 places.
Money = Annotated[
    Decimal,
    PlainValidator(_money),
    PlainSerializer(format_amount, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": AMOUNT_PATTERN,
            "description": "positive decimal string, at most 4 places",
            "examples": ["12.34"],
        }
    ),
]

#: An amount in a response: always 4 places, signed where it is a movement.
AmountOut = Annotated[str, Field(pattern=SIGNED_AMOUNT_PATTERN, examples=["12.3400"])]


def _sane_instant(value: datetime) -> datetime:
    if not 1900 <= value.year <= 9998:
        raise PydanticCustomError("instant", "year must be between 1900 and 9998")
    return value


def _true_or_false(value: object) -> bool:
    if value in ("true", "false"):
        return value == "true"
    raise PydanticCustomError("bool", "must be true or false")


#: A boolean in a query string: the text ``true`` or ``false``; never ``yes``, ``1``, ``on``
#: or ``True``, which Pydantic's lax mode would take. In a body, booleans are ``StrictBool``:
#: JSON ``true`` or ``false`` only.
QueryBool = Annotated[bool, PlainValidator(_true_or_false), WithJsonSchema({"type": "boolean"})]

#: An ISO 8601 instant; without an offset it is read in the ledger's business time zone.
Instant = Annotated[datetime, AfterValidator(_sane_instant)]


def amount_text(value: Decimal) -> str:
    return format_amount(value)


class Request(BaseModel):
    """Base of request bodies: unknown fields are refused, and so are NUL characters."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value):
        if isinstance(value, str) and "\x00" in value:
            raise PydanticCustomError("text", "must not contain NUL characters")
        return value


# -- accounts -------------------------------------------------------------------------------


class AccountIn(Request):
    number: str = Field(pattern=ACCOUNT_NUMBER_PATTERN, examples=["ACC100"])
    name: str = Field(min_length=1, max_length=128, examples=["店铺三主账户"])
    type: str = Field("main", min_length=1, max_length=32, examples=["main"])
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    shop_code: str | None = Field(None, min_length=1, max_length=64, examples=["S003"])
    owner_id: int | None = Field(None, ge=1, le=MAX_INT32, description="owner's user id")
    allow_overdraft: StrictBool = False


class AccountOut(BaseModel):
    id: int
    number: str = Field(examples=["ACC100"])
    name: str
    type: str = Field(examples=["main"])
    currency: str = Field(examples=["CNY"])
    shop_code: str | None
    owner_id: int | None
    status: Literal["open", "closed"]
    allow_overdraft: bool
    balance: AmountOut
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, a: Account, tz: tzinfo) -> AccountOut:
        return cls(
            id=a.id,
            number=a.number,
            name=a.name,
            type=a.type,
            currency=a.currency,
            shop_code=a.shop_code,
            owner_id=a.owner_user_id,
            status=a.status,
            allow_overdraft=a.allow_overdraft,
            balance=amount_text(a.balance),
            created_at=a.created_at.astimezone(tz),
            closed_at=a.closed_at.astimezone(tz) if a.closed_at else None,
        )


class AccountList(BaseModel):
    items: list[AccountOut]


# -- entries and postings --------------------------------------------------------------------

EntryType = Literal["income", "expense", "transfer_out", "transfer_in", "reversal"]


class EntryOut(BaseModel):
    """One line of an account's flow (流水). ``amount`` is signed: + into the account."""

    id: int
    posting_id: int = Field(description="the posting; for a transfer leg, the transfer id")
    account: str = Field(examples=["ACC001"])
    account_name: str
    type: EntryType
    amount: AmountOut
    balance_after: AmountOut
    currency: str
    trade_no: str
    trade_time: datetime
    recorded_at: datetime
    category_id: int | None
    category_name: str | None
    subject_id: int | None
    subject_name: str | None
    counterparty: str | None
    description: str
    remark: str
    source: str
    external_id: str | None
    reverses_entry_id: int | None
    shop_code: str | None
    operator_id: int | None

    @classmethod
    def of(cls, e: Entry, tz: tzinfo) -> EntryOut:
        # a plain constructor, not ``model_construct``: pydantic-core validates these scalar
        # fields faster than the pure-Python ``model_construct`` fills them in (a page of 50
        # entries with its JSON: 0.38 vs 0.56 ms, same bytes)
        return cls(
            id=e.id,
            posting_id=e.posting_id,
            account=e.account_number,
            account_name=e.account_name,
            type=e.type,
            amount=amount_text(e.amount),
            balance_after=amount_text(e.balance_after),
            currency=e.currency,
            trade_no=e.trade_no,
            trade_time=e.trade_time.astimezone(tz),
            recorded_at=e.recorded_at.astimezone(tz),
            category_id=e.category_id,
            category_name=e.category_name,
            subject_id=e.subject_id,
            subject_name=e.subject_name,
            counterparty=e.counterparty,
            description=e.description,
            remark=e.remark,
            source=e.source,
            external_id=e.external_id,
            reverses_entry_id=e.reverses_entry_id,
            shop_code=e.shop_code,
            operator_id=e.operator_id,
        )


class EntryPage(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None = Field(
        description="pass as ?cursor= for the next (older) page; null on the last page"
    )
    total: int | None = Field(None, description="count of all matches, with ?with_total=true")


class PostingOut(BaseModel):
    posting_id: int
    kind: Literal["income", "expense", "transfer", "reversal"]
    trade_no: str
    replayed: bool = Field(
        description="true when the ledger's own key (trade_no / external_id) matched an "
        "earlier posting and nothing was written"
    )
    entries: list[EntryOut]

    @classmethod
    def of(cls, r: PostingResult, tz: tzinfo) -> PostingOut:
        return cls(**_posting_fields(r, tz))


class TransferOut(PostingOut):
    transfer_id: int = Field(description="the id shared by both legs; reverse it with it")

    @classmethod
    def of(cls, r: PostingResult, tz: tzinfo) -> TransferOut:
        return cls(**_posting_fields(r, tz), transfer_id=r.posting_id)


def _posting_fields(r: PostingResult, tz: tzinfo) -> dict:
    return dict(
        posting_id=r.posting_id,
        kind=r.kind,
        trade_no=r.trade_no,
        replayed=r.replayed,
        entries=[EntryOut.of(e, tz) for e in r.entries],
    )


class _PostingFields(Request):
    trade_no: str | None = Field(
        None, min_length=1, max_length=64, description="business key: a repeat is replayed"
    )
    trade_time: Instant | None = Field(None, description="default: now")
    description: str | None = Field(None, max_length=500)
    remark: str | None = Field(None, max_length=500)
    external_id: str | None = Field(None, min_length=1, max_length=128)


class PostingIn(_PostingFields):
    type: Literal["income", "expense"]
    source: str = Field(
        "api", min_length=1, max_length=32, description="where it came from; keys external_id"
    )
    account: str = Field(pattern=ACCOUNT_NUMBER_PATTERN, examples=["ACC001"])
    amount: Money
    category_id: int | None = Field(None, ge=1, le=MAX_INT32)
    subject_id: int | None = Field(None, ge=1, le=MAX_INT32)
    counterparty: str | None = Field(None, max_length=64)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"type": "income", "account": "ACC001", "amount": "1000.00"}]
        },
    )


class TransferIn(_PostingFields):
    from_account: str = Field(pattern=ACCOUNT_NUMBER_PATTERN, examples=["ACC001"])
    to_account: str = Field(pattern=ACCOUNT_NUMBER_PATTERN, examples=["ACC002"])
    amount: Money

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"from_account": "ACC001", "to_account": "ACC002", "amount": "200.50"}]
        },
    )


class ReversalIn(Request):
    description: str | None = Field(None, max_length=500)
    remark: str | None = Field(None, max_length=500)
    trade_no: str | None = Field(None, min_length=1, max_length=64)


# -- balances, chart, verify -----------------------------------------------------------------


AS_OF_DESCRIPTION = (
    "a day (2026-10-31): its closing balance, every entry of that business day and before; or "
    "an instant (2026-10-31T12:00:00, naive in the business time zone): every entry with trade "
    "time at or before it"
)


class BalanceOut(BaseModel):
    account: str = Field(examples=["ACC001"])
    currency: str
    balance: AmountOut
    as_of: datetime | date | None = Field(
        None, description="set when ?as_of= was asked: the instant, or the day (its end)"
    )


class BalancesOut(BaseModel):
    items: list[BalanceOut]
    totals: dict[str, AmountOut] = Field(description="sum of the balances per currency")
    as_of: datetime | date | None = Field(
        None, description="set when ?as_of= was asked: the instant, or the day (its end)"
    )


# -- reports ----------------------------------------------------------------------------------


class ReportRowOut(BaseModel):
    """One group's figures. Only the fields of the report's groupings are present;
    ``opening`` and ``closing`` are null for groupings by category or subject."""

    day: date | None = None
    month: str | None = Field(None, examples=["2026-10"])
    shop: str | None = None
    account: str | None = None
    account_name: str | None = None
    type: str | None = None
    platform: str | None = None
    category_id: int | None = None
    category_name: str | None = None
    subject_id: int | None = None
    subject_name: str | None = None
    currency: str = Field(examples=["CNY"])
    opening: AmountOut | None
    income: AmountOut
    expense: AmountOut
    closing: AmountOut | None
    entries: int

    @classmethod
    def of(cls, row, group_by: tuple[str, ...]) -> ReportRowOut:
        fields: dict = {}
        for name in group_by:
            if name in ("category", "subject"):
                fields[f"{name}_id"] = getattr(row, f"{name}_id")
                fields[f"{name}_name"] = getattr(row, f"{name}_name")
            else:
                fields[name] = getattr(row, name)
                if name == "account":
                    fields["account_name"] = row.account_name
        return cls(
            **fields,
            currency=row.currency,
            opening=None if row.opening is None else amount_text(row.opening),
            income=amount_text(row.income),
            expense=amount_text(row.expense),
            closing=None if row.closing is None else amount_text(row.closing),
            entries=row.entries,
        )


class ReportOut(BaseModel):
    from_: date = Field(serialization_alias="from", description="the first business day")
    to: date = Field(description="the last business day (included)")
    time_zone: str = Field(examples=["Asia/Shanghai"])
    group_by: list[str]
    balances: bool = Field(description="whether the rows carry opening and closing balances")
    rows: list[ReportRowOut]
    totals: list[ReportRowOut] = Field(
        description="per currency, over every account of the report: opening at the start, "
        "closing at the end"
    )


class ChartItemOut(BaseModel):
    id: int
    name: str
    kind: str
    parent_id: int | None
    subjects: list[ChartItemOut] = []

    @classmethod
    def of(cls, item: ChartItem) -> ChartItemOut:
        return cls(
            id=item.id,
            name=item.name,
            kind=item.kind,
            parent_id=item.parent_id,
            subjects=[cls.of(s) for s in item.subjects],
        )


class ChartOut(BaseModel):
    items: list[ChartItemOut]


class CategoryIn(Request):
    name: str = Field(min_length=1, max_length=64, examples=["广告费"])
    kind: Literal["income", "expense", "transfer", "reversal", "any"] = "any"
    parent_id: int | None = Field(
        None, ge=1, le=MAX_INT32, description="a category's id: adds a subject under it"
    )


class VerifyCheckOut(BaseModel):
    name: str = Field(description="ledger, bills, drift or periods", examples=["bills"])
    ok: bool
    accounts_checked: int | None = Field(description="none for a check not by account")
    rows_checked: int
    rows: str = Field(description="what rows_checked counts", examples=["bill rows"])
    problems: list[str] = Field(description="as `zhangben verify` lists them")


class VerifyOut(BaseModel):
    ok: bool
    accounts_checked: int = Field(description="accounts of the ledger check")
    entries_checked: int = Field(description="entries of the ledger check")
    periods_checked: int = Field(description="closed periods whose figures and hash held")
    problems: list[str] = Field(description="every check's problems, each named by its check")
    checks: list[VerifyCheckOut] = Field(description="each check of `zhangben verify`, in order")


class ProblemTypeOut(BaseModel):
    code: str
    status: int
    title: str
    type: str
