"""Client for zhangben's native REST API (``/api/v1``).

Every write sends an ``Idempotency-Key`` (a fresh UUID unless you pass one) and reuses it on
its retries, so retrying after a network error, a 502/503/504 or a 409
``idempotency_in_progress`` can never post twice. Refusals raise :class:`ApiError` built from
the problem+json body. Amounts go out as decimal strings and come back as ``Decimal``; a float
is refused before anything is sent.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

_RETRY_STATUS = {502, 503, 504}


class ApiError(Exception):
    """A refusal (4xx) or server fault (5xx) as described by the API's problem document."""

    def __init__(self, status: int, type: str, title: str, detail: str, body: dict) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status, self.type, self.title, self.detail, self.body = (
            status,
            type,
            title,
            detail,
            body,
        )

    @property
    def code(self) -> str:
        """The stable code, e.g. ``insufficient_funds`` (the last part of ``type``)."""
        return self.body.get("code") or self.type.rsplit("/", 1)[-1]

    @property
    def errors(self) -> list[dict]:
        return self.body.get("errors") or []

    @property
    def findings(self) -> list[dict]:
        """``period_not_ready``: what the close checks found (check, account, text)."""
        return self.body.get("findings") or []


def _time(value: str | None) -> datetime | date | None:
    """An instant, or a day (``as_of`` of a balance asked for a day)."""
    if not value:
        return None
    return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)


def _build(cls, data: dict, **convert):
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    for name, fn in convert.items():
        if name in values:
            values[name] = fn(values[name])
    return cls(**values)


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    number: str
    name: str
    type: str
    currency: str
    shop_code: str | None
    owner_id: int | None
    status: str
    allow_overdraft: bool
    balance: Decimal
    created_at: datetime
    closed_at: datetime | None = None

    @classmethod
    def from_json(cls, data: dict) -> Account:
        return _build(cls, data, balance=Decimal, created_at=_time, closed_at=_time)


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    posting_id: int
    account: str
    account_name: str
    type: str
    amount: Decimal
    balance_after: Decimal
    currency: str
    trade_no: str
    trade_time: datetime
    recorded_at: datetime
    category_id: int | None = None
    category_name: str | None = None
    subject_id: int | None = None
    subject_name: str | None = None
    counterparty: str | None = None
    description: str = ""
    remark: str = ""
    source: str = ""
    external_id: str | None = None
    reverses_entry_id: int | None = None
    shop_code: str | None = None
    operator_id: int | None = None

    @classmethod
    def from_json(cls, data: dict) -> Entry:
        return _build(
            cls,
            data,
            amount=Decimal,
            balance_after=Decimal,
            trade_time=_time,
            recorded_at=_time,
        )


@dataclass(frozen=True, slots=True)
class Posting:
    posting_id: int
    kind: str
    trade_no: str
    replayed: bool
    entries: list[Entry]
    transfer_id: int | None = None

    @classmethod
    def from_json(cls, data: dict) -> Posting:
        return _build(cls, data, entries=lambda items: [Entry.from_json(e) for e in items])


@dataclass(frozen=True, slots=True)
class EntryPage:
    items: list[Entry]
    next_cursor: str | None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class Balance:
    account: str
    currency: str
    balance: Decimal
    as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One group's figures; only the fields of the report's groupings are set. ``opening``
    and ``closing`` are None for groupings by category or subject."""

    currency: str
    income: Decimal
    expense: Decimal
    entries: int
    opening: Decimal | None = None
    closing: Decimal | None = None
    day: date | None = None
    month: str | None = None
    shop: str | None = None
    account: str | None = None
    account_name: str | None = None
    type: str | None = None
    platform: str | None = None
    category_id: int | None = None
    category_name: str | None = None
    subject_id: int | None = None
    subject_name: str | None = None

    @classmethod
    def from_json(cls, data: dict) -> ReportRow:
        def optional(value):
            return None if value is None else Decimal(value)

        return _build(
            cls,
            data,
            income=Decimal,
            expense=Decimal,
            opening=optional,
            closing=optional,
            day=date.fromisoformat,
        )


@dataclass(frozen=True, slots=True)
class Report:
    start: date
    end: date
    time_zone: str
    group_by: list[str]
    balances: bool
    rows: list[ReportRow]
    totals: list[ReportRow]

    @classmethod
    def from_json(cls, data: dict) -> Report:
        return cls(
            start=date.fromisoformat(data["from"]),
            end=date.fromisoformat(data["to"]),
            time_zone=data["time_zone"],
            group_by=data["group_by"],
            balances=data["balances"],
            rows=[ReportRow.from_json(r) for r in data["rows"]],
            totals=[ReportRow.from_json(t) for t in data["totals"]],
        )


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    accounts_checked: int
    entries_checked: int
    problems: list[str] = field(default_factory=list)
    periods_checked: int = 0
    #: each check of ``zhangben verify`` (ledger, bills, drift, periods): name, ok,
    #: accounts_checked (None for periods), rows_checked, rows, problems
    checks: list[dict] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PeriodsReport:
    ok: bool
    periods_checked: int
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Period:
    """A month of a shop (``shop`` None: the whole ledger). ``accounts`` and ``totals`` are
    the stored figures (money as ``Decimal``), ``snapshot`` the stored canonical JSON whose
    SHA-256 is ``snapshot_sha256``."""

    month: str
    shop: str | None
    status: str
    time_zone: str
    starts_at: datetime
    ends_at: datetime
    closed_at: datetime | None = None
    closed_by: str | None = None
    forced: bool = False
    snapshot_sha256: str | None = None
    snapshot: str | None = None
    accounts: list[dict] = field(default_factory=list)
    totals: list[dict] = field(default_factory=list)
    acknowledged: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict) -> Period:
        def money(rows: list[dict]) -> list[dict]:
            keys = ("opening", "income", "expense", "closing")
            return [{k: Decimal(v) if k in keys else v for k, v in r.items()} for r in rows]

        return _build(
            cls, data, starts_at=_time, ends_at=_time, closed_at=_time, accounts=money,
            totals=money,
        )  # fmt: skip


def _amount(value: Decimal | str | int) -> str:
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"amounts are Decimal, int or str, never {type(value).__name__}")
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _clean(params: dict) -> dict:
    out = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        out[key] = value
    return out


class RestClient:
    """``RestClient("http://127.0.0.1:8000", "zb_…")``; use as a context manager or close()."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        retries: int = 3,
        backoff: float = 0.2,
    ) -> None:
        self.retries, self.backoff = retries, backoff
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RestClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {}
        if method != "GET":
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._http.request(
                    method, path, json=json, params=_clean(params or {}), headers=headers
                )
            except httpx.TransportError:
                if last:
                    raise
                self._sleep(attempt)
                continue
            if response.status_code < 400:
                return response.json()
            error = _error(response)
            retryable = response.status_code in _RETRY_STATUS or (
                error.code == "idempotency_in_progress"
            )
            if not retryable or last:
                raise error
            self._sleep(attempt, response.headers.get("Retry-After"))
        raise AssertionError("unreachable")

    def _sleep(self, attempt: int, retry_after: str | None = None) -> None:
        delay = self.backoff * 2**attempt
        if retry_after and retry_after.isdigit():
            delay = max(delay, float(retry_after))
        time.sleep(min(delay, 10.0))

    # -- accounts ----------------------------------------------------------------------------

    def open_account(
        self,
        number: str,
        name: str,
        *,
        type: str = "main",
        currency: str = "CNY",
        shop_code: str | None = None,
        owner_id: int | None = None,
        allow_overdraft: bool = False,
        idempotency_key: str | None = None,
    ) -> Account:
        body = {
            "number": number,
            "name": name,
            "type": type,
            "currency": currency,
            "shop_code": shop_code,
            "owner_id": owner_id,
            "allow_overdraft": allow_overdraft,
        }
        data = self._call("POST", "/accounts", json=body, idempotency_key=idempotency_key)
        return Account.from_json(data)

    def get_account(self, number: str) -> Account:
        return Account.from_json(self._call("GET", f"/accounts/{number}"))

    def accounts(
        self,
        *,
        type: str | None = None,
        shop: str | list[str] | None = None,
        owner: int | None = None,
        status: str | None = None,
    ) -> list[Account]:
        params = {"type": type, "shop": shop, "owner": owner, "status": status}
        data = self._call("GET", "/accounts", params=params)
        return [Account.from_json(a) for a in data["items"]]

    def close_account(self, number: str, *, idempotency_key: str | None = None) -> Account:
        data = self._call("POST", f"/accounts/{number}/close", idempotency_key=idempotency_key)
        return Account.from_json(data)

    # -- postings ----------------------------------------------------------------------------

    def _post(self, path: str, body: dict, idempotency_key: str | None) -> Posting:
        body = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in body.items()}
        body = {k: v for k, v in body.items() if v is not None}
        return Posting.from_json(
            self._call("POST", path, json=body, idempotency_key=idempotency_key)
        )

    def post_income(
        self, account: str, amount: Decimal | str | int, *, idempotency_key=None, **fields
    ) -> Posting:
        """Fields: trade_no, trade_time, category_id, subject_id, counterparty, description,
        remark, source, external_id."""
        body = {"type": "income", "account": account, "amount": _amount(amount), **fields}
        return self._post("/postings", body, idempotency_key)

    def post_expense(
        self, account: str, amount: Decimal | str | int, *, idempotency_key=None, **fields
    ) -> Posting:
        body = {"type": "expense", "account": account, "amount": _amount(amount), **fields}
        return self._post("/postings", body, idempotency_key)

    def transfer(
        self,
        from_account: str,
        to_account: str,
        amount: Decimal | str | int,
        *,
        idempotency_key: str | None = None,
        **fields,
    ) -> Posting:
        """Fields: trade_no, trade_time, description, remark, external_id."""
        body = {
            "from_account": from_account,
            "to_account": to_account,
            "amount": _amount(amount),
            **fields,
        }
        return self._post("/transfers", body, idempotency_key)

    def reverse_entry(self, entry_id: int, *, idempotency_key=None, **fields) -> Posting:
        return self._post(f"/entries/{entry_id}/reversal", fields, idempotency_key)

    def reverse_transfer(self, transfer_id: int, *, idempotency_key=None, **fields) -> Posting:
        return self._post(f"/transfers/{transfer_id}/reversal", fields, idempotency_key)

    # -- reading -----------------------------------------------------------------------------

    def entries(
        self,
        *,
        account: str | list[str] | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        type: str | list[str] | None = None,
        category: int | list[int] | None = None,
        shop: str | list[str] | None = None,
        source: str | list[str] | None = None,
        trade_no: str | None = None,
        external_id: str | None = None,
        order_no: str | None = None,
        counterparty: str | None = None,
        find: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        with_total: bool = False,
    ) -> EntryPage:
        """One page, newest first; pass ``page.next_cursor`` back for the next one. A flow is
        found by its numbers: ``trade_no``, ``external_id`` (a platform flow number),
        ``order_no`` (商户订单号), ``counterparty``, or ``find`` (any of them)."""
        params = dict(
            account=account,
            start=start,
            end=end,
            type=type,
            category=category,
            shop=shop,
            source=source,
            trade_no=trade_no,
            external_id=external_id,
            order_no=order_no,
            counterparty=counterparty,
            find=find,
            limit=limit,
            cursor=cursor,
            with_total=with_total or None,
        )
        data = self._call("GET", "/entries", params=params)
        return EntryPage(
            [Entry.from_json(e) for e in data["items"]], data.get("next_cursor"), data.get("total")
        )

    def export_entries(self, out: BinaryIO, format: str = "csv", **filters) -> int:
        """Every matching entry (the filters of :meth:`entries`) as a CSV or XLSX file,
        streamed into ``out`` (a binary file object); returns the bytes written."""
        params = _clean({**filters, "format": format})
        with self._http.stream("GET", "/entries", params=params) as response:
            if response.status_code >= 400:
                response.read()
                raise _error(response)
            written = 0
            for chunk in response.iter_bytes():
                out.write(chunk)
                written += len(chunk)
        return written

    def iter_entries(self, **filters) -> Iterator[Entry]:
        """Every matching entry, newest first, page after page."""
        cursor = filters.pop("cursor", None)
        while True:
            page = self.entries(cursor=cursor, **filters)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def entry(self, entry_id: int) -> Entry:
        return Entry.from_json(self._call("GET", f"/entries/{entry_id}"))

    def balance(self, account: str, *, as_of: datetime | date | str | None = None) -> Balance:
        """Now, or as of an instant, or as of a day (a ``date``: its closing balance)."""
        data = self._call("GET", f"/accounts/{account}/balance", params={"as_of": as_of})
        return _build(Balance, data, balance=Decimal, as_of=_time)

    def balances(
        self,
        *,
        as_of: datetime | date | str | None = None,
        type: str | None = None,
        shop: str | list[str] | None = None,
        status: str | None = None,
    ) -> tuple[list[Balance], dict[str, Decimal]]:
        """Every visible account's balance (now, or as of an instant or a day: a ``date`` is
        its closing balance), and the totals per currency."""
        params = {"as_of": as_of, "type": type, "shop": shop, "status": status}
        data = self._call("GET", "/balances", params=params)
        items = [_build(Balance, b, balance=Decimal, as_of=_time) for b in data["items"]]
        return items, {cur: Decimal(v) for cur, v in data["totals"].items()}

    # -- reports -----------------------------------------------------------------------------

    def _report(self, path: str, month, start, end, group_by, shop, account, type) -> Report:
        if isinstance(group_by, list | tuple):
            group_by = ",".join(group_by)
        params = {"month": month, "from": start, "to": end, "group_by": group_by,
                  "shop": shop, "account": account, "type": type}  # fmt: skip
        return Report.from_json(self._call("GET", f"/reports/{path}", params=params))

    def report_daily(
        self,
        *,
        month: str | None = None,
        start: date | str | None = None,
        end: date | str | None = None,
        group_by: str | list[str] | None = None,
        shop: str | list[str] | None = None,
        account: str | list[str] | None = None,
        type: str | list[str] | None = None,
    ) -> Report:
        """日报: a row per business day of ``month`` (``"2026-10"``) or ``start``..``end``
        (both included), or per day and group (``group_by="shop"``)."""
        return self._report("daily", month, start, end, group_by, shop, account, type)

    def report_monthly(
        self,
        *,
        month: str | None = None,
        start: date | str | None = None,
        end: date | str | None = None,
        group_by: str | list[str] | None = None,
        shop: str | list[str] | None = None,
        account: str | list[str] | None = None,
        type: str | list[str] | None = None,
    ) -> Report:
        """A row per business month (``start``/``end`` may be months: ``"2025-11"``)."""
        return self._report("monthly", month, start, end, group_by, shop, account, type)

    def report_summary(
        self,
        *,
        month: str | None = None,
        start: date | str | None = None,
        end: date | str | None = None,
        group_by: str | list[str] | None = None,
        shop: str | list[str] | None = None,
        account: str | list[str] | None = None,
        type: str | list[str] | None = None,
    ) -> Report:
        """The range as one period, by account unless ``group_by`` says otherwise."""
        return self._report("summary", month, start, end, group_by, shop, account, type)

    def month_workbook(self, month: str, out: BinaryIO, *, shop: str | None = None) -> int:
        """The 月结 workbook of ``month`` (``"2026-10"``; of one ``shop``, or of every account
        the credentials may see) as XLSX bytes written into ``out`` (a binary file object);
        returns the bytes written."""
        return self._download(f"/reports/month/{month}.xlsx", {"shop": shop}, out)

    def verify(self) -> VerifyReport:
        return _build(VerifyReport, self._call("GET", "/verify"))

    # -- periods (月结) -----------------------------------------------------------------------

    def periods(self, *, shop: str | None = None) -> tuple[list[Period], dict[str | None, str]]:
        """Every period closed at least once, and each scope's latest closed month."""
        data = self._call("GET", "/periods", params={"shop": shop})
        through = {t["shop"]: t["month"] for t in data["closed_through"]}
        return [Period.from_json(p) for p in data["items"]], through

    def period(self, month: str, *, shop: str | None = None) -> Period:
        return Period.from_json(self._call("GET", f"/periods/{month}", params={"shop": shop}))

    def period_checks(self, month: str, *, shop: str | None = None) -> list[dict]:
        """What stands in the way of closing the month (staff)."""
        return self._call("GET", f"/periods/{month}/checks", params={"shop": shop})["findings"]

    def close_period(
        self, month: str, *, shop: str | None = None, force: bool = False,
        idempotency_key: str | None = None,
    ) -> Period:  # fmt: skip
        """Close the month (staff); ``ApiError`` ``period_not_ready`` carries the findings."""
        body = {"shop": shop, "force": force}
        data = self._call(
            "POST", f"/periods/{month}/close", json=body, idempotency_key=idempotency_key
        )
        return Period.from_json(data)

    def reopen_period(
        self, month: str, reason: str, *, shop: str | None = None,
        idempotency_key: str | None = None,
    ) -> Period:  # fmt: skip
        body = {"shop": shop, "reason": reason}
        data = self._call(
            "POST", f"/periods/{month}/reopen", json=body, idempotency_key=idempotency_key
        )
        return Period.from_json(data)

    def verify_periods(self) -> PeriodsReport:
        """Every closed period's figures and hash, recomputed (staff)."""
        return _build(PeriodsReport, self._call("GET", "/periods/verify"))

    # -- vouchers (记账凭证, staff) -------------------------------------------------------------

    def voucher_books(self) -> list[dict]:
        return self._call("GET", "/vouchers/books")["items"]

    def add_voucher_book(self, name: str, product: str, **fields) -> dict:
        """A book (账套) for ``product`` (k3cloud_xlsx, u8_xml, …); ``fields``: standard, shop,
        book_code, org_code, voucher_word, currency_code, preparer."""
        return self._call("POST", "/vouchers/books", json={"name": name, "product": product,
                                                           **fields})  # fmt: skip

    def voucher_rules(self, book: str) -> list[dict]:
        return self._call("GET", f"/vouchers/books/{quote(book, safe='')}/rules")

    def set_voucher_rules(self, book: str, rules: list[dict]) -> list[dict]:
        return self._call("PUT", f"/vouchers/books/{quote(book, safe='')}/rules", json=rules)

    def add_default_voucher_rules(self, book: str) -> dict:
        """Append the default rules the book lacks after its own: ``{"added": […], "rules":
        […]}`` (``added`` empty when it had them all)."""
        return self._call("POST", f"/vouchers/books/{quote(book, safe='')}/rules/defaults")

    def test_voucher_flow(self, book: str, entry_id: int) -> dict:
        """Which rule takes flow ``entry_id``, and the voucher it alone would make."""
        return self._call("GET", f"/vouchers/books/{quote(book, safe='')}/test/{entry_id}")

    def generate_vouchers(self, book: str, month: str) -> dict:
        """A draft batch of ``month`` (``{"batch": …, "vouchers": […], "rounding": […]}``);
        ``ApiError`` ``voucher_invalid`` names every unmapped business type."""
        path = f"/vouchers/books/{quote(book, safe='')}/batches"
        return self._call("POST", path, json={"month": month})

    def voucher_batches(self, *, book: str | None = None, month: str | None = None) -> list[dict]:
        return self._call("GET", "/vouchers/batches", params={"book": book, "month": month})[
            "items"
        ]

    def voucher_batch(self, batch_id: int) -> dict:
        return self._call("GET", f"/vouchers/batches/{batch_id}")

    def void_voucher_batch(self, batch_id: int) -> dict:
        return self._call("POST", f"/vouchers/batches/{batch_id}/void")

    def download_vouchers(self, batch_id: int, out: BinaryIO, *, product: str | None = None) -> int:
        """The batch's import file written into ``out`` (the book's own format exports a
        draft); returns the bytes written."""
        return self._download(f"/vouchers/batches/{batch_id}/file", {"product": product}, out)

    def _download(self, path: str, params: dict, out: BinaryIO) -> int:
        """GET ``path`` streamed into ``out``; returns the bytes written (an error answer is
        read whole and raised as :class:`ApiError`)."""
        with self._http.stream("GET", path, params=_clean(params)) as response:
            if response.status_code >= 400:
                response.read()
                raise _error(response)
            written = 0
            for chunk in response.iter_bytes():
                out.write(chunk)
                written += len(chunk)
        return written

    # -- reconciliation (核销) -----------------------------------------------------------------
    # Records are the JSON objects of docs/reconciliation.md#rest (amounts yuan as text).

    def recon_import(
        self, items: list[dict], *, shop: str | None = None, platform: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict:  # fmt: skip
        """Expected lines (``order_no``, ``kind``, ``amount``, ``occurred_at``, …), checked
        whole; a line stored already (shop, source, ``source_ref``) is left as it is."""
        body = {"shop": shop, "platform": platform, "items": items}
        return self._call(
            "POST", "/recon/expected-items", json=body, idempotency_key=idempotency_key
        )

    def recon_import_file(
        self, data: bytes, *, xlsx: bool = False, shop: str | None = None,
        platform: str | None = None,
    ) -> dict:  # fmt: skip
        """An order file's bytes (CSV, or XLSX with ``xlsx=True``)."""
        media = (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            if xlsx
            else "text/csv"
        )
        response = self._http.post(
            "/recon/expected-items/file",
            content=data,
            params=_clean({"shop": shop, "platform": platform}),
            headers={"Content-Type": media},
        )
        if response.status_code >= 400:
            raise _error(response)
        return response.json()

    def recon_expected(self, item_id: int) -> dict:
        return self._call("GET", f"/recon/expected-items/{item_id}")

    def recon_run(self, *, dry_run: bool = False, idempotency_key: str | None = None) -> dict:
        body = {"dry_run": dry_run}
        return self._call("POST", "/recon/runs", json=body, idempotency_key=idempotency_key)

    def recon_runs(self, *, limit: int = 20) -> list[dict]:
        return self._call("GET", "/recon/runs", params={"limit": limit})["items"]

    def recon_queues(self) -> list[dict]:
        return self._call("GET", "/recon/queues")["items"]

    def recon_queue(self, name: str, *, limit: int = 100, offset: int = 0) -> dict:
        params = {"limit": limit, "offset": offset}
        return self._call("GET", f"/recon/queues/{name}", params=params)

    def recon_queue_xlsx(self, name: str) -> bytes:
        """A queue's rows as the XLSX to fill in: its 动作 column, 差异类型, 核销金额, 备注."""
        response = self._http.get(f"/recon/queues/{name}", params={"format": "xlsx"})
        if response.status_code >= 400:
            raise _error(response)
        return response.content

    def recon_apply(self, data: bytes, *, dry_run: bool = False) -> dict:
        """A filled queue XLSX: each row's action (``dry_run``: what it would do, nothing
        written). A file with a bad row is refused whole: ``ApiError`` ``action_file``, its
        ``errors`` naming each row and column."""
        response = self._http.post(
            "/recon/actions",
            content=data,
            params={"dry_run": "true" if dry_run else "false"},
            headers={
                "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            },
        )
        if response.status_code >= 400:
            raise _error(response)
        return response.json()

    def recon_match(
        self, expected: list[dict] = (), actual: list[dict] = (), *,
        gap_type: str | None = None, force: bool = False, memo: str | None = None,
        preview: bool = False, idempotency_key: str | None = None,
    ) -> dict:  # fmt: skip
        """A match by hand: items ``{"id": 53}`` or ``{"id": 53, "amount": "66.20"}``."""
        body = {"expected": list(expected), "actual": list(actual), "gap_type": gap_type,
                "force": force, "memo": memo, "preview": preview}  # fmt: skip
        return self._call("POST", "/recon/groups", json=body, idempotency_key=idempotency_key)

    def recon_group(self, group_id: int) -> dict:
        return self._call("GET", f"/recon/groups/{group_id}")

    def recon_undo(self, group_id: int, reason: str, *, idempotency_key=None) -> dict:
        return self._call("POST", f"/recon/groups/{group_id}/undo", json={"reason": reason},
                          idempotency_key=idempotency_key)  # fmt: skip

    def recon_approve(
        self, group_id: int, *, memo: str | None = None, idempotency_key=None
    ) -> dict:
        """Approve a pending forced match (the ``force`` scope; not the one who forced it)."""
        return self._call("POST", f"/recon/groups/{group_id}/approve", json={"memo": memo},
                          idempotency_key=idempotency_key)  # fmt: skip

    def recon_reject(self, group_id: int, reason: str, *, idempotency_key=None) -> dict:
        """Reject a pending forced match: its lines are released."""
        return self._call("POST", f"/recon/groups/{group_id}/reject", json={"reason": reason},
                          idempotency_key=idempotency_key)  # fmt: skip

    def recon_void(self, item_id: int, reason: str, *, idempotency_key=None) -> None:
        self._call("POST", f"/recon/expected-items/{item_id}/void", json={"reason": reason},
                   idempotency_key=idempotency_key)  # fmt: skip

    def recon_ignore(self, row_id: int, reason: str, *, idempotency_key=None) -> None:
        self._call("POST", f"/recon/bill-rows/{row_id}/ignore", json={"reason": reason},
                   idempotency_key=idempotency_key)  # fmt: skip

    def recon_set_key(
        self, row_id: int, key: str, *, reason: str | None = None, idempotency_key=None
    ) -> None:
        self._call("PUT", f"/recon/bill-rows/{row_id}/key", json={"key": key, "reason": reason},
                   idempotency_key=idempotency_key)  # fmt: skip

    def recon_events(self, *, limit: int = 50, group: int | None = None) -> list[dict]:
        return self._call("GET", "/recon/events", params={"limit": limit, "group": group})["items"]


def _error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ApiError(
        response.status_code,
        body.get("type", "about:blank"),
        body.get("title", response.reason_phrase),
        body.get("detail", response.text[:200]),
        body,
    )
