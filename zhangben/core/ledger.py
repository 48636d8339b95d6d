"""The ledger facade: every way in (CLI, APIs, importers) calls these methods.

Each write method is one atomic database transaction, retried on transient conflicts; each
raises a :class:`~zhangben.core.errors.LedgerError` subclass, having written nothing, when it
refuses a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zhangben.core import accounts as acc
from zhangben.core import chart as chart_mod
from zhangben.core import many, posting, queries, users
from zhangben.core.errors import (
    AccountNotFound,
    AlreadyReversed,
    EntryNotFound,
    TransferNotFound,
    ValidationError,
)
from zhangben.core.money import from_minor, parse_amount, to_minor
from zhangben.core.posting import PostingRequest
from zhangben.core.posting_pg import execute_pg
from zhangben.core.queries import EntryFilter
from zhangben.core.records import Account, ChartItem, Entry, Page, PostingResult, User
from zhangben.core.verification import VerifyReport, verify
from zhangben.store.engine import make_engine, read_statement, read_transaction, run_write
from zhangben.store.tables import entries as entries_table
from zhangben.store.tables import postings as postings_table

AccountRef = int | str


class Ledger:
    def __init__(self, engine: Engine, tz: ZoneInfo | str = "Asia/Shanghai") -> None:
        self.engine = engine
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz

    @classmethod
    def from_url(cls, url: str, tz: ZoneInfo | str = "Asia/Shanghai") -> Ledger:
        return cls(make_engine(url), tz)

    def _read(self, work):
        with read_transaction(self.engine) as conn:
            return work(conn)

    def _read_one(self, work):
        """A read of one statement: one round trip on PostgreSQL (see ``read_statement``)."""
        with read_statement(self.engine) as conn:
            return work(conn)

    def _write(self, work):
        return run_write(self.engine, work)

    # -- people and accounts ---------------------------------------------------------------

    def add_user(self, **kw) -> User:
        return self._write(lambda c: users.add_user(c, **kw))

    def user(self, ref: int | str) -> User:
        return self._read_one(lambda c: users.get_user(c, ref))

    def users(self) -> list[User]:
        return self._read(users.list_users)

    def open_account(self, **kw) -> Account:
        return self._write(lambda c: acc.open_account(c, **kw))

    def close_account(self, ref: AccountRef) -> Account:
        return self._write(lambda c: acc.close_account(c, ref))

    def account(self, ref: AccountRef) -> Account:
        return self._read_one(lambda c: acc.get_account(c, ref))

    def accounts(self, **filters) -> list[Account]:
        return self._read_one(lambda c: acc.list_accounts(c, **filters))

    def chart(self) -> list[ChartItem]:
        return self._read(chart_mod.list_chart)

    def add_chart_item(self, **kw) -> ChartItem:
        return self._write(lambda c: chart_mod.add_item(c, **kw))

    # -- postings ----------------------------------------------------------------------------

    def post(self, req: PostingRequest) -> PostingResult:
        """Execute a planned posting. A concurrent twin with the same idempotency key loses the
        race on the unique key; it is then answered from the winner's posting."""
        if self.engine.dialect.name == "postgresql":
            return execute_pg(self.engine, req, self.tz)
        try:
            return self._write(lambda c: posting.execute(c, req, self.tz))
        except sa.exc.IntegrityError:
            if req.effective_key() is None:
                raise
            return self._write(lambda c: posting.execute(c, req, self.tz))

    def _simple(self, kind: str, account: AccountRef, amount, **kw) -> PostingResult:
        value = parse_amount(amount)
        classification = {k: kw.pop(k, None) for k in ("category_id", "subject_id", "counterparty")}
        description = kw.pop("description", "") or ""
        fingerprint = {
            "account": account,
            "amount": str(value),
            "description": description,
            **classification,
        }
        if classification["category_id"] is not None or classification["subject_id"] is not None:
            classification["category_id"] = self._read(
                lambda c: chart_mod.check_classification(
                    c, classification["category_id"], classification["subject_id"]
                )
            )
        legs = posting.plan_single(
            kind, account, to_minor(value), description=description, **classification
        )
        return self.post(_request(kind, legs, fingerprint, **kw))

    def income(self, account: AccountRef, amount, **kw) -> PostingResult:
        """Money into ``account``. Keywords: trade_no, trade_time, operator_id, category_id,
        subject_id, counterparty, description, remark, source, external_id, idempotency_key."""
        return self._simple("income", account, amount, **kw)

    def expense(self, account: AccountRef, amount, **kw) -> PostingResult:
        """Money out of ``account`` (same keywords as :meth:`income`)."""
        return self._simple("expense", account, amount, **kw)

    def transfer(
        self,
        from_account: AccountRef,
        to_account: AccountRef,
        amount,
        *,
        description: str | None = None,
        **kw,
    ) -> PostingResult:
        """Two legs (transfer_out, transfer_in) sharing one posting id, written atomically.
        Keywords as for :meth:`income` (source defaults to ``internal``)."""
        value = parse_amount(amount)
        legs = posting.plan_transfer(from_account, to_account, to_minor(value), description)
        fingerprint = {
            "from": from_account,
            "to": to_account,
            "amount": str(value),
            "description": description,
        }
        kw.setdefault("source", "internal")
        return self.post(_request("transfer", legs, fingerprint, **kw))

    def post_many(self, requests: list[PostingRequest]) -> list[int]:
        """Many postings in one transaction, all or nothing; returns their posting ids."""
        return self._write(lambda c: many.post_many(c, requests, self.tz))

    def transfer_many(self, transfers) -> list[int]:
        """``transfers``: (from_account, to_account, amount[, idempotency_key]) tuples, posted
        in one transaction, all or nothing; returns each transfer's posting id.

        The same rules as :meth:`transfer` one by one (idempotency shared with it, locking,
        every check, balance-after chaining) on a columnar path (:func:`many.transfer_many`).
        A batch that loses a race on an idempotency key to a concurrent writer is run again,
        and then answers from the winner's postings (or refuses a conflict)."""
        batch = many.plan_transfers(transfers)
        for _ in range(4):
            try:
                return self._write(lambda c: many.transfer_many(c, batch, self.tz))
            except many.KeyRace:
                continue  # rolled back; the next attempt sees the winner's keys
        return self._write(lambda c: many.transfer_many(c, batch, self.tz))

    def reverse_entry(self, entry_id: int, **kw) -> PostingResult:
        """Cancel an income or expense entry with a new reversal entry (never an edit)."""
        return self._reverse(entry_id=entry_id, **kw)

    def reverse_transfer(self, transfer_id: int, **kw) -> PostingResult:
        """Cancel both legs of a transfer in one new posting."""
        return self._reverse(transfer_id=transfer_id, **kw)

    def _reverse(
        self,
        *,
        entry_id: int | None = None,
        transfer_id: int | None = None,
        description: str | None = None,
        **kw,
    ) -> PostingResult:
        target = {"entry": entry_id} if entry_id is not None else {"transfer": transfer_id}
        req = _request("reversal", [], {**target, "description": description}, **kw)

        def work(conn):
            if posting.find_by_key(conn, req.effective_key()) is not None:
                return posting.execute(conn, req, self.tz)  # replay or conflict
            originals = _originals(conn, entry_id, transfer_id)
            req.legs = posting.plan_reversal(originals, description)
            req.reverses_posting_id = originals[0].posting_id
            return posting.execute(conn, req, self.tz)

        if self.engine.dialect.name == "postgresql":
            # plan from a snapshot, then one round trip; the unique reverses_entry_id column
            # turns a concurrent second reversal into AlreadyReversed
            with read_transaction(self.engine) as conn:
                if posting.find_by_key(conn, req.effective_key()) is None:
                    originals = _originals(conn, entry_id, transfer_id)
                    req.legs = posting.plan_reversal(originals, description)
                    req.reverses_posting_id = originals[0].posting_id
            return execute_pg(self.engine, req, self.tz)

        try:
            return self._write(work)
        except sa.exc.IntegrityError:
            return self._write(work)

    # -- queries ---------------------------------------------------------------------------

    def entries(self, f: EntryFilter | None = None, **paging) -> Page:
        # one statement, the count included (see queries.list_entries)
        return self._read_one(lambda c: queries.list_entries(c, f or EntryFilter(), **paging))

    def entry(self, entry_id: int) -> Entry:
        return self._read_one(lambda c: queries.get_entry(c, entry_id))

    def posting_entries(self, posting_id: int) -> list[Entry]:
        return self._read(lambda c: queries.entries_of_posting(c, posting_id))

    def balance(self, ref: AccountRef) -> Decimal:
        if self.engine.dialect.name != "postgresql":
            return self.account(ref).balance
        # the hottest read: one prepared statement on the driver connection, one round trip
        # (through SQLAlchemy's statement machinery it cost twice the query itself)
        column = "id" if isinstance(ref, int) else "number"
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            raw.autocommit = True
            try:
                row = raw.execute(
                    f"SELECT balance FROM accounts WHERE {column} = %s",  # noqa: S608 - fixed
                    (ref,),
                    prepare=True,
                ).fetchone()
            finally:
                raw.autocommit = False
        if row is None:
            raise AccountNotFound(ref)
        return from_minor(row[0])

    def balance_as_of(self, ref: AccountRef, instant: datetime) -> Decimal:
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=self.tz)

        def work(conn):
            return queries.balance_as_of(conn, acc.get_account(conn, ref).id, instant)

        return self._read(work)

    def verify(self) -> VerifyReport:
        return self._read(verify)

    # -- the database, for the adapters (so that none reaches for the engine) -----------------

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def database(self) -> str:
        """The database URL without its password, for banners and logs."""
        return self.engine.url.render_as_string(hide_password=True)


def _request(
    kind: str,
    legs,
    fingerprint: dict,
    *,
    trade_no: str | None = None,
    trade_time: datetime | None = None,
    operator_id: int | None = None,
    remark: str | None = None,
    source: str = "manual",
    external_id: str | None = None,
    idempotency_key: str | None = None,
) -> PostingRequest:
    if trade_time is not None and trade_time.tzinfo is None:
        raise ValidationError("trade_time", "must carry a time zone")
    for name, value, size in (
        ("trade_no", trade_no, 64),
        ("external_id", external_id, 128),
        ("idempotency_key", idempotency_key, 180),
        ("source", source, 32),
    ):
        if value is not None and (not str(value).strip() or len(str(value)) > size):
            raise ValidationError(name, f"must be 1-{size} characters")
    fingerprint = {
        "kind": kind,
        **fingerprint,
        "trade_no": trade_no,
        "trade_time": trade_time.isoformat() if trade_time else None,
        "operator_id": operator_id,
        "remark": remark,
        "source": source,
        "external_id": external_id,
    }
    return PostingRequest(
        kind=kind,
        legs=legs,
        trade_no=trade_no,
        trade_time=trade_time,
        operator_id=operator_id,
        remark=remark or "",
        source=source,
        external_id=external_id,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
    )


def _originals(conn, entry_id: int | None, transfer_id: int | None) -> list[Entry]:
    if entry_id is not None:
        original = queries.get_entry(conn, entry_id)
        group = queries.entries_of_posting(conn, original.posting_id)
        if len(group) > 1:
            raise ValidationError(
                "entry_id",
                f"entry {entry_id} is one leg of transfer {original.posting_id}; "
                "reverse the whole transfer instead",
            )
    else:
        kind = conn.execute(
            sa.select(postings_table.c.kind).where(postings_table.c.id == transfer_id)
        ).scalar()
        if kind != "transfer":
            raise TransferNotFound(f"transfer {transfer_id} does not exist")
        group = queries.entries_of_posting(conn, transfer_id)
    if any(e.type == "reversal" for e in group):
        raise ValidationError("entry_id", "a reversal cannot itself be reversed; post a new entry")
    done = conn.execute(
        sa.select(entries_table.c.id).where(
            entries_table.c.reverses_entry_id.in_([e.id for e in group])
        )
    ).first()
    if done is not None:
        raise AlreadyReversed(f"already reversed by entry {done.id}")
    if not group:
        raise EntryNotFound("nothing to reverse")
    return group


__all__ = ["Ledger", "EntryFilter", "Sequence"]
