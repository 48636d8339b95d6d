"""The ledger facade: every way in (CLI, APIs, importers) calls these methods.

Each write method is one atomic database transaction, retried on transient conflicts; each
raises a :class:`~zhangben.core.errors.LedgerError` subclass, having written nothing, when it
refuses a request.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import wraps
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from zhangben.core import accounts as acc
from zhangben.core import chart as chart_mod
from zhangben.core import periods as periods_mod
from zhangben.core import queries, references, reports, summaries, users
from zhangben.core.errors import AccountNotFound, LedgerError, ValidationError
from zhangben.core.money import from_minor, parse_amount, to_minor
from zhangben.core.periods import AccountFigures, Finding, Period, PeriodsReport
from zhangben.core.postings import bills, execute, reversal
from zhangben.core.postings import plan as planning
from zhangben.core.postings.plan import Plan
from zhangben.core.queries import EntryFilter, RowPage
from zhangben.core.records import Account, ChartItem, Entry, Page, PostingResult, User
from zhangben.core.verification import VerifyReport, verify
from zhangben.store import migrate
from zhangben.store.engine import (
    make_engine,
    read_snapshot,
    read_statement,
    read_transaction,
    run_staged_write,
    run_write,
)

AccountRef = int | str

#: Told of every posting request the facade answers: ``(kind, outcome, count)``. ``kind`` is
#: income, expense, transfer or reversal (``batch`` for a batch refused as a whole);
#: ``outcome`` is ``written``, ``replayed`` or, for a refusal, the error's ``code``
#: (``insufficient_funds``, ``validation``, …). A server counts postings with it (metrics);
#: the core knows nothing of who listens.
PostingObserver = Callable[[str, str, int], None]


def _observed(kind: str):
    """Tell the ledger's observers how a posting request ended."""

    def decorate(method):
        @wraps(method)
        def observed(self, *args, **kw):
            if not self.observers:
                return method(self, *args, **kw)
            try:
                result = method(self, *args, **kw)
            except LedgerError as exc:
                self._notify(kind, exc.code, 1)
                raise
            if isinstance(result, PostingResult):  # a batch tells its own (_post_batch)
                self._notify(result.kind, "replayed" if result.replayed else "written", 1)
            return result

        return observed

    return decorate


class Ledger:
    def __init__(self, engine: Engine, tz: ZoneInfo | str = "Asia/Shanghai") -> None:
        self.engine = engine
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        #: see :data:`PostingObserver`; added by whoever wants to know (the server's metrics)
        self.observers: list[PostingObserver] = []

    def _notify(self, kind: str, outcome: str, count: int) -> None:
        for observer in self.observers:
            observer(kind, outcome, count)

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

    def bill_planner(self, platform: str, account_id: int, operator_id: int | None):
        """The core's planner for the rows of one bill file (:mod:`.postings.bills`)."""
        index = chart_mod.index(self.engine, [chart_mod.OPENING, chart_mod.OPENING_SUBJECT])
        return bills.BillPlanner(platform, account_id, operator_id, index)

    def write(self, work):
        """Run ``work(conn)`` in one write transaction, retried on transient conflicts: for an
        adapter that records rows of its own beside a posting of the core's in one unit (the
        bill importer uses :meth:`write_bills`). Ledger rows are written only by the core."""
        return run_write(self.engine, work)

    def write_bills(self, stage, work):
        """Read a bill file into the staging table with ``stage(conn)``, then post it with
        ``work(conn, staged)`` in one write transaction, retried on transient conflicts.

        The staging takes no lock that a writer waits for: on PostgreSQL it runs in the write
        transaction, which locks the account only when ``work`` posts; on SQLite it writes the
        connection's temporary schema before ``BEGIN IMMEDIATE``, so other writers go on while
        a file is read, however long it is, and whatever it holds."""
        return run_staged_write(self.engine, stage, work, discard=bills.discard)

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
        """Every account matching ``filters``: ``numbers``, ``type`` or ``types``,
        ``shop_codes``, ``owner_user_id``, ``owned`` (has an owner), ``status``, ``ids``,
        ``find`` (in the number or name, any case)."""
        return self._read_one(lambda c: acc.list_accounts(c, **filters))

    def account_page(self, *, after_id: int | None = None, limit: int = 100, **filters) -> Page:
        """A keyset page of the accounts matching ``filters`` (those of :meth:`accounts`), by
        id after ``after_id``, with the total of every match and the next page's cursor."""
        return self._read(lambda c: acc.account_page(c, after_id=after_id, limit=limit, **filters))

    def balance_groups(self, **filters) -> list[tuple[str | None, str, str, int, Decimal]]:
        """``(shop code, type, currency, accounts, their balances' sum)`` of the accounts
        matching ``filters``, by shop, type and currency (one aggregate)."""
        return self._read_one(lambda c: acc.balance_groups(c, **filters))

    def chart(self) -> list[ChartItem]:
        return self._read(chart_mod.list_chart)

    def add_chart_item(self, **kw) -> ChartItem:
        return self._write(lambda c: chart_mod.add_item(c, **kw))

    # -- postings (every one planned by core.postings.plan, checked by core.postings.rules) -----

    @_observed("income")
    def income(self, account: AccountRef, amount, **kw) -> PostingResult:
        """Money into ``account``. Keywords: trade_no, trade_time, operator_id, category_id,
        subject_id, counterparty, description, remark, source, external_id, idempotency_key."""
        return execute.post_one(self.engine, self._simple("income", account, amount, kw), self.tz)

    @_observed("expense")
    def expense(self, account: AccountRef, amount, **kw) -> PostingResult:
        """Money out of ``account`` (same keywords as :meth:`income`)."""
        return execute.post_one(self.engine, self._simple("expense", account, amount, kw), self.tz)

    @_observed("transfer")
    def transfer(
        self, from_account: AccountRef, to_account: AccountRef, amount, **kw
    ) -> PostingResult:
        """Two legs (transfer_out, transfer_in) sharing one posting id, written atomically.
        Keywords as for :meth:`income` (source defaults to ``internal``), and description."""
        return execute.post_one(
            self.engine, self._transfer(from_account, to_account, amount, kw), self.tz
        )

    @_observed("batch")
    def post_many(self, items) -> list[int]:
        """Many postings in one transaction, all or nothing; returns their posting ids (the
        first posting's for a replay). Each item is a dict: ``kind`` (income, expense or
        transfer) and the arguments of that method (``account``/``amount``, or
        ``from_account``/``to_account``/``amount``, and the same keywords). An error names the
        item: ``request 3: …``."""
        plan = Plan()
        for i, item in enumerate(items):
            args = dict(item)
            kind = args.pop("kind", None)
            try:
                if kind in ("income", "expense"):
                    one = self._simple(kind, args.pop("account"), args.pop("amount"), args)
                elif kind == "transfer":
                    one = self._transfer(
                        args.pop("from_account"), args.pop("to_account"), args.pop("amount"), args
                    )
                else:
                    raise ValidationError("kind", "must be income, expense or transfer")
            except KeyError as exc:
                raise planning.at(
                    ValidationError(exc.args[0], "is required"), f"request {i}"
                ) from None
            except LedgerError as exc:
                raise planning.at(exc, f"request {i}") from None
            except TypeError as exc:
                raise planning.at(ValidationError("item", str(exc)), f"request {i}") from None
            plan.add(_header_of(one), [_leg_of(one, leg) for leg in one.legs(0)])
        return self._post_batch(plan)

    @_observed("batch")
    def transfer_many(self, transfers) -> list[int]:
        """``transfers``: (from_account, to_account, amount[, idempotency_key]) tuples, posted
        in one transaction, all or nothing; returns each transfer's posting id. The same plan,
        rules and keys as :meth:`transfer` one by one, planned as columns."""
        return self._post_batch(planning.transfers(transfers))

    def _post_batch(self, plan: Plan) -> list[int]:
        """Write a batch; its postings are told to the observers as written (a batch replayed
        by its keys is told again: the writer does not say which were replays)."""
        ids = execute.post_many(self.engine, plan, self.tz)
        if self.observers:
            for kind, count in Counter(plan.kind).items():
                self._notify(kind, "written", count)
        return ids

    @_observed("reversal")
    def reverse_entry(self, entry_id: int, **kw) -> PostingResult:
        """Cancel an income or expense entry with a new reversal entry (never an edit)."""
        return self._reverse({"entry": entry_id}, entry_id, None, kw)

    @_observed("reversal")
    def reverse_transfer(self, transfer_id: int, **kw) -> PostingResult:
        """Cancel both legs of a transfer in one new posting."""
        return self._reverse({"transfer": transfer_id}, None, transfer_id, kw)

    def _simple(self, kind: str, account: AccountRef, amount, kw: dict) -> Plan:
        value = parse_amount(amount)
        classification = {k: kw.pop(k, None) for k in ("category_id", "subject_id", "counterparty")}
        description = kw.pop("description", "") or ""
        fields = {"account": account, "amount": str(value), "description": description,
                  **classification}  # fmt: skip
        head = planning.header(kind, fields, **kw)
        wanted = [i for i in (classification["category_id"], classification["subject_id"]) if i]
        index = chart_mod.index(self.engine, wanted) if wanted else {}
        legs = planning.simple_legs(
            index, kind, account, to_minor(value), description=description, **classification
        )
        plan = Plan(single=True)
        plan.add(head, legs)
        return plan

    def _transfer(self, from_account, to_account, amount, kw: dict) -> Plan:
        value = parse_amount(amount)
        description = kw.pop("description", None)
        kw.setdefault("source", "internal")
        fields = {"from": from_account, "to": to_account, "amount": str(value),
                  "description": description}  # fmt: skip
        head = planning.header("transfer", fields, **kw)
        head.cross = True
        plan = Plan(single=True)
        plan.add(
            head, planning.transfer_legs(from_account, to_account, to_minor(value), description)
        )
        return plan

    def _reverse(self, target: dict, entry_id, transfer_id, kw: dict) -> PostingResult:
        description = kw.pop("description", None)
        head = planning.header("reversal", {**target, "description": description}, **kw)

        def plan_from(conn) -> Plan:
            originals = reversal.originals(conn, entry_id, transfer_id)  # R12
            head.reverses_posting = originals[0].posting_id
            plan = Plan(single=True)
            plan.add(head, planning.reversal_legs(originals, description))
            return plan

        if self.engine.dialect.name == "postgresql":
            # plan from a snapshot, then one round trip; the unique reverses_entry_id column
            # turns a concurrent second reversal into AlreadyReversed
            with read_transaction(self.engine) as conn:
                replayed = execute.known_key(conn, head.key, head.digest)
                if replayed is None:
                    plan = plan_from(conn)
            return replayed or execute.post_one(self.engine, plan, self.tz)

        def work(conn):  # SQLite: planned and written under the one write lock
            return execute.known_key(conn, head.key, head.digest) or execute.post_in(
                conn, plan_from(conn), self.tz
            )

        return execute.settle_races(lambda: self._write(work))

    # -- queries ---------------------------------------------------------------------------

    def entries(self, f: EntryFilter | None = None, **paging) -> Page:
        # one statement, the count included (see queries.list_entries)
        return self._read_one(lambda c: queries.list_entries(c, f or EntryFilter(), **paging))

    def entry_references(self, items: list[Entry]) -> dict[int, str]:
        """entry id → its trade reference (trade number, leg and posting where needed:
        :mod:`zhangben.core.references`), for the entries of a page."""
        if not items:
            return {}
        return self._read_one(lambda c: references.entry_references(c, items))

    def count_entries(self, f: EntryFilter | None = None) -> int:
        return self._read_one(lambda c: queries.count_entries(c, f or EntryFilter()))

    def entry_totals(self, f: EntryFilter | None = None) -> queries.Totals:
        """The count, income and expense of every entry matching ``f`` (the console's
        totals row)."""
        return self._read_one(lambda c: queries.sum_entries(c, f or EntryFilter()))

    def entry_pages(self, f: EntryFilter | None = None, **paging) -> Iterator[RowPage]:
        """Every entry matching ``f`` as pages of raw rows, for exports
        (:func:`queries.entry_pages`)."""
        return queries.entry_pages(self.engine, f or EntryFilter(), **paging)

    def copied_entry_pages(self, f: EntryFilter | None, render, **paging):
        """PostgreSQL only: an export's pages as the database renders them
        (:func:`queries.copied_pages`)."""
        return queries.copied_pages(self.engine, f or EntryFilter(), render, **paging)

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

    def balance_as_of(self, ref: AccountRef, instant: datetime | date) -> Decimal:
        """The balance from every entry with trade time at or before ``instant``; a ``date``
        (not a datetime) means the end of that business day: its closing balance."""
        if not isinstance(instant, datetime):
            account = self.account(ref)
            ((_, balance),) = self.balances_as_of(instant, numbers=[account.number])
            return balance
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=self.tz)

        def work(conn):
            return queries.balance_as_of(conn, acc.get_account(conn, ref).id, instant)

        return self._read(work)

    def verify(self) -> VerifyReport:
        return self._read(verify)

    # -- summaries and reports (core.summaries, core.reports) --------------------------------

    @property
    def zone(self) -> str:
        """The business time zone's name (``Asia/Shanghai``): days and months are its."""
        return getattr(self.tz, "key", None) or str(self.tz)

    def report(
        self,
        start: date,
        end: date,
        group_by: Sequence[str] | str = ("day",),
        *,
        flows_only: bool = False,
        **scope,
    ) -> reports.Report:
        """Opening, income, expense, closing and counts of the business days ``start`` to
        ``end`` (both included), grouped by ``group_by`` (of ``reports.GROUPINGS``). Scope
        keywords: ``shop_codes``, ``numbers``, ``types``, ``owner_user_id``, ``status``.
        ``flows_only``: without the balances (no opening or closing), which is cheaper: the
        figures of a day or a month on a ledger of years."""
        dims = reports.parse_group_by(group_by)
        reports.check_range(start, end)
        where = reports.Scope(**scope)
        summaries.ensure_fresh(self.engine, self.zone)
        with read_snapshot(self.engine) as conn:
            return reports.report(conn, self.zone, start, end, dims, where, flows_only=flows_only)

    def reports(
        self, start: date, end: date, groupings: Sequence[Sequence[str]], **scope
    ) -> list[reports.Report]:
        """Several reports of one range and scope (one per grouping), read in one snapshot, so
        that they agree with each other (the 月结 workbook's sheets)."""
        dims = [reports.parse_group_by(g) for g in groupings]
        reports.check_range(start, end)
        where = reports.Scope(**scope)
        summaries.ensure_fresh(self.engine, self.zone)
        with read_snapshot(self.engine) as conn:
            return [reports.report(conn, self.zone, start, end, d, where) for d in dims]

    def balances_as_of(
        self,
        as_of: datetime | date,
        *,
        numbers: Sequence[str] | None = None,
        type: str | None = None,
        shop_codes: Sequence[str] | None = None,
        owner_user_id: int | None = None,
        status: str | None = None,
    ) -> list[tuple[Account, Decimal]]:
        """Every matching account with its balance as of ``as_of``, at once: a ``date`` means
        the end of that business day (its closing balance), a ``datetime`` (naive: in the
        business time zone) every entry with trade time at or before it."""
        if isinstance(as_of, datetime) and as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=self.tz)
        reports.check_range(_day_of(as_of), _day_of(as_of), "as_of")
        filters = dict(numbers=numbers, shop_codes=shop_codes, owner_user_id=owner_user_id,
                       status=status)  # fmt: skip
        where = reports.Scope(types=[type] if type else None, **filters)
        summaries.ensure_fresh(self.engine, self.zone)

        with read_snapshot(self.engine) as conn:
            found = acc.list_accounts(conn, type=type, **filters)
            sums = reports.balances_as_of(conn, self.zone, self.tz, as_of, where)
            return [(a, from_minor(sums.get(a.id, 0))) for a in found]

    def summaries_status(self) -> summaries.SummaryStatus:
        return self._read(summaries.status)

    def refresh_summaries(self, *, rebuild: bool = False) -> summaries.SummaryStatus:
        """Fold every entry not in the summaries yet (``rebuild``: empty them first and fold
        every entry), waiting for writers in flight; the status, with how many were folded."""
        folded = summaries.refresh(self.engine, self.zone, wait=True, reset=rebuild)
        now = self.summaries_status()
        return summaries.SummaryStatus(
            now.last_entry_id, now.top_entry_id, now.time_zone, now.updated_at, folded or 0
        )

    # -- periods (月结): zhangben.core.periods ----------------------------------------------

    def close_period(
        self, month: str, *, shop: str | None = None, actor: str, force: bool = False,
        findings: Sequence[Finding] = (),
    ) -> Period:  # fmt: skip
        """Close ``month`` (``yyyy-mm``) of ``shop`` (None: the whole ledger). ``findings``
        are what the close checks found (``zhangben.periods``): any refuses the close
        (:class:`PeriodNotReady`) unless ``force``, which stores them as acknowledged."""
        m, scope = periods_mod.Month.parse(month), periods_mod.check_shop(shop)
        actor = periods_mod.check_actor(actor)

        def work(conn):
            return periods_mod.close(conn, m, scope, self.tz, actor=actor, findings=list(findings),
                                     force=force, now=datetime.now(UTC))  # fmt: skip

        return self._write(work)

    def reopen_period(
        self, month: str, *, shop: str | None = None, actor: str, reason: str | None
    ) -> Period:
        """Reopen the latest closed period of a scope; the reason is required and logged."""
        m, scope = periods_mod.Month.parse(month), periods_mod.check_shop(shop)
        reason = periods_mod.check_reason(reason)
        actor = periods_mod.check_actor(actor)
        return self._write(
            lambda c: periods_mod.reopen(
                c, m, scope, self.tz, actor=actor, reason=reason, now=datetime.now(UTC)
            )
        )

    def check_closable(self, month: str, *, shop: str | None = None) -> None:
        """Refuse (as :meth:`close_period` would) a close the periods' state does not allow."""
        m, scope = periods_mod.Month.parse(month), periods_mod.check_shop(shop)
        self._read(lambda c: periods_mod.check_closable(c, m, scope, self.tz, datetime.now(UTC)))

    def period(self, month: str, *, shop: str | None = None) -> Period:
        m, scope = periods_mod.Month.parse(month), periods_mod.check_shop(shop)
        return self._read(lambda c: periods_mod.get(c, m, scope, self.tz))

    def periods(self, *, shop: str | None = None) -> list[Period]:
        """Every period closed at least once (closed or reopened), by scope then month."""
        scope = None if shop is None else periods_mod.check_shop(shop)
        return self._read(lambda c: periods_mod.list_periods(c, scope))

    def closed_through(self) -> dict[str | None, str]:
        """Each scope's latest closed month (key ``None``: the whole ledger)."""
        return self._read(periods_mod.closed_through)

    def month_figures(self, month: str, *, shop: str | None = None) -> list[AccountFigures]:
        """The month's opening, income, expense, closing and counts per account, as a close
        would store them."""
        m, scope = periods_mod.Month.parse(month), periods_mod.check_shop(shop)
        return self._read(lambda c: periods_mod.figures(c, m.start(self.tz), m.end(self.tz), scope))

    def verify_periods(self) -> PeriodsReport:
        """Every closed period's snapshot against its hash and against the entries."""
        return self._read(periods_mod.verify)

    # -- the database, for the adapters (so that none reaches for the engine) -----------------

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def database(self) -> str:
        """The database URL without its password, for banners and logs."""
        return self.engine.url.render_as_string(hide_password=True)

    def schema_is_current(self) -> bool:
        """One read of the migration stamp: True when the database answers and has every
        migration of this code; raises the driver's error when it cannot be reached."""
        return migrate.is_up_to_date(self.engine)

    def pool_status(self) -> tuple[int, int] | None:
        """``(size, checked out)`` of this process's connection pool, or None for a pool
        without a size (e.g. ``NullPool``). Costs no database round trip."""
        pool = self.engine.pool
        size, checked_out = getattr(pool, "size", None), getattr(pool, "checkedout", None)
        if size is None or checked_out is None:
            return None
        return size(), checked_out()


def _day_of(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _header_of(plan: Plan) -> planning.Header:
    """Posting 0 of a one-posting plan as a header (to append it to a batch)."""
    return planning.Header(
        plan.kind[0], plan.trade_no[0], plan.trade_time[0], plan.operator_id[0],
        plan.remark[0], plan.source[0], plan.external_id[0], plan.key[0], plan.digest[0],
        plan.reverses_posting[0], plan.cross[0],
    )  # fmt: skip


def _leg_of(plan: Plan, leg: int) -> tuple:
    return (
        plan.account[leg], plan.delta[leg], plan.type[leg], plan.category[leg],
        plan.subject[leg], plan.counterparty[leg], plan.description[leg],
        plan.reverses_entry[leg], plan.platform_balance[leg],
    )  # fmt: skip


__all__ = ["Ledger", "EntryFilter"]
