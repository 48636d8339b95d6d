"""Bill rows as postings: the same key rule, fingerprint and rules, for the staged writer.

A bill row that moves money is an income or an expense on the bill's account, keyed by its
platform flow (``{platform}:{flow}``, the key a caller posting the same flow by hand with
``source=platform, external_id=flow`` gets) and fingerprinted as that income or expense made
through :meth:`Ledger.income` / :meth:`Ledger.expense` would be. R2 and R3 run on each row as
it is planned; R6 and R9 on the locked account; R10 and R11 in the staged writer's SQL; R13 in
the period guard on ``entries``.

A file with a balance column may also open the account (:func:`open_balance`): the platform's
balance before the file's first row becomes one income (or expense) of category 22 期初余额,
planned and checked like any posting and written by the bulk writer, in the import's
transaction, before the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core import chart as chart_ids
from zhangben.core.errors import LedgerError
from zhangben.core.money import MAX_BALANCE_MINOR, from_minor, parse_amount, to_minor
from zhangben.core.postings import execute, rules
from zhangben.core.postings import plan as planning
from zhangben.core.postings.keys import posting_key, simple_fingerprint
from zhangben.store.tables import entries
from zhangben.store.writers import staged
from zhangben.store.writers.outcomes import RuleBroken
from zhangben.store.writers.staged import Posted, Stage

__all__ = [
    "BillPlanner",
    "lock",
    "Opening",
    "Posted",
    "Stage",
    "discard",
    "open_balance",
    "opening_key",
    "opening_time",
    "post",
]

#: drop a connection's staging tables (SQLite keeps them for the connection's life)
discard = staged.discard


@dataclass(slots=True)
class BillPlanner:
    """Plans the rows of one bill file for one account."""

    platform: str
    account_id: int
    operator_id: int | None
    chart: dict  # zhangben.core.chart.index

    def key(self, ukey: str) -> str:
        """The posting key of the flow ``ukey`` (the flow number, or the row's own key)."""
        return posting_key(None, None, self.platform, ukey)  # type: ignore[return-value]

    def row(
        self,
        line: int,
        ukey: str,
        net: int,
        when: datetime,
        counterparty: str | None,
        category_id: int | None,
        subject_id: int | None,
        description: str,
        remark: str,
    ) -> str:
        """R2 and R3 on a row that moves ``net`` minor units; returns its fingerprint. An
        error names the line (``line 12: counterparty: …``; the import runner adds the flow
        number)."""
        kind = "income" if net > 0 else "expense"
        try:
            rules.check_text("external_id", ukey, blank_ok=False)
            rules.check_text("counterparty", counterparty)
            rules.check_text("description", description)
            rules.check_text("remark", remark)
            if category_id is not None or subject_id is not None:
                rules.check_chart(self.chart, kind, category_id, subject_id)
        except LedgerError as exc:
            raise rules.at(exc, f"line {line}") from None
        return simple_fingerprint(
            kind, self.account_id, f"{from_minor(abs(net))}", description, category_id,
            subject_id, counterparty, None, when.isoformat(), self.operator_id, remark,
            self.platform, ukey,
        )  # fmt: skip


def lock(conn: Connection, account_id: int) -> None:
    """Lock the bill's account before the import writes anything. The import record's foreign
    key takes a share lock on the account row; taken first by two imports into one account,
    each would then wait for the other's to lock the row for the postings (PostgreSQL)."""
    execute.lock_states(conn, [account_id], [])


def post(
    conn: Connection,
    stage: Stage,
    *,
    platform: str,
    account_id: int,
    import_id: int,
    operator_id: int | None,
    now: datetime,
    newest_first: bool,
    headers: tuple[str, ...],
    tz: ZoneInfo | None = None,
) -> Posted:
    """Lock the account, check R6 and R9, and write the staged rows (R10, R11 in SQL; R13 by
    the period guard on entries; ``tz`` dates its refusal)."""
    states, _ = execute.lock_states(conn, [account_id], [])
    acc = states.get(account_id)
    if acc is None:
        raise rules.not_found(account_id)
    if acc.status != "open":
        raise rules.closed(acc.number)
    target = staged.Target(
        platform=platform,
        account_id=acc.id,
        account_number=acc.number,
        allow_overdraft=acc.allow_overdraft,
        max_balance=MAX_BALANCE_MINOR,
        balance=acc.balance,
        import_id=import_id,
        operator_id=operator_id,
        now=now,
        newest_first=newest_first,
        headers=headers,
    )
    try:
        return staged.post_staged(stage, target)
    except RuleBroken as exc:
        if exc.rule == "R5":
            _key, posting_id = exc.facts
            error: LedgerError = rules.flow_posted(posting_id)
        else:
            error = execute.broken(exc, tz)
        raise rules.at(error, _row_label(*exc.position)) from None


def _row_label(line: int, flow: str | None, order: str | None = None) -> str:
    """How an error names a bill row: its line in the file and the platform's flow number
    (账务流水号), or its order number where the platform gives no flow number (a JD wallet row,
    whose key is a hash of its cells and never shown)."""
    if flow:
        return f"line {line} (flow {flow})"
    return f"line {line} (order {order})" if order else f"line {line}"


# -- the opening balance -----------------------------------------------------------------------

#: the opening entry's description (its category and subject are 22 期初余额 / 23 平台期初余额)
OPENING_TEXT = "期初余额"


@dataclass(slots=True)
class Opening:
    """A bill file's start against the ledger, in minor units: the platform's balance before
    the file's first row, the ledger's balance before it (the opening entry included), and the
    opening entry when one was posted. ``held_back`` says why none was posted although the
    two differ."""

    platform: int
    ledger: int
    entry_id: int | None = None
    amount: int = 0
    trade_time: datetime | None = None
    held_back: str | None = None

    @property
    def difference(self) -> int:
        """The ledger's balance minus the platform's, before the first row (0: they agree)."""
        return self.ledger - self.platform


def opening_key(account_id: int) -> str:
    """The opening entry's idempotency key: one automatic opening entry per account."""
    return f"opening:{account_id}"


def opening_time(first: datetime, tz: ZoneInfo) -> datetime:
    """When an opening entry is dated: the last second of the business day (``tz``) before the
    day of the file's earliest row. So the days of the file hold only the platform's rows (a
    day's and a month's totals are the bill's own), and the balance at the end of the day
    before is the platform's opening balance."""
    local = first.astimezone(tz)
    start = datetime(local.year, local.month, local.day, tzinfo=tz)
    return start - timedelta(seconds=1)


def open_balance(
    conn: Connection,
    planner: BillPlanner,
    stage: Stage,
    *,
    earliest: datetime,
    platform_before: int,
    wanted: bool,
    tz: ZoneInfo,
    label: str,
    remark: str,
) -> Opening:
    """The opening rule, under the account's lock, in the import's transaction.

    When ``wanted``, the account has no entry dated before ``earliest`` (the file's earliest
    row; the file's own flows posted by hand do not count: they are linked to their rows) and
    no automatic opening entry yet (:func:`opening_key`), and the platform's balance
    before the first row (``platform_before``) is not zero, that balance is posted: one income
    (or, for a negative balance, one expense) of category 22 期初余额, dated
    :func:`opening_time`, through the planner (R1-R3) and the bulk writer (R5-R11: a negative
    opening balance needs an account that allows overdraft). Otherwise nothing is posted and
    the result says how the ledger's balance before the row compares with the platform's.
    An error names ``label`` (``opening balance before line 6 (flow F)``).
    """
    key = opening_key(planner.account_id)
    states, known = execute.lock_states(conn, [planner.account_id], [key])
    acc = states.get(planner.account_id)
    if acc is None:
        raise rules.not_found(planner.account_id)
    earlier, before = staged.ledger_before(stage, acc.id, planner.platform, acc.balance, earliest)
    opening = Opening(platform_before, before)
    if not opening.difference:
        return opening
    if not wanted:
        opening.held_back = "not asked for"
    elif key in known:
        opening.held_back = f"the account has an opening entry already (posting {known[key][0]})"
    elif earlier:
        opening.held_back = "the account has entries before the file's first row"
    if opening.held_back:
        return opening
    when = opening_time(earliest, tz)
    try:
        plan = _opening_plan(planner, acc.id, platform_before, when, remark)
        (posting_id,) = execute.post_many_in(conn, plan, tz)
    except LedgerError as exc:
        raise rules.at(exc, label) from None
    opening.ledger, opening.amount = platform_before, platform_before
    opening.trade_time = when
    opening.entry_id = conn.execute(
        sa.select(entries.c.id).where(entries.c.posting_id == posting_id)
    ).scalar_one()
    return opening


def _opening_plan(
    planner: BillPlanner, account_id: int, amount: int, when: datetime, remark: str
) -> planning.Plan:
    kind = "income" if amount > 0 else "expense"
    value = parse_amount(f"{from_minor(abs(amount))}")  # R1
    category, subject = chart_ids.OPENING, chart_ids.OPENING_SUBJECT
    fields = {"account": account_id, "amount": str(value), "description": OPENING_TEXT,
              "category_id": category, "subject_id": subject, "counterparty": None}  # fmt: skip
    head = planning.header(
        kind,
        fields,
        trade_time=when,
        operator_id=planner.operator_id,
        remark=remark,
        source=planner.platform,
        idempotency_key=opening_key(account_id),
    )
    legs = planning.simple_legs(
        planner.chart, kind, account_id, to_minor(value), category_id=category,
        subject_id=subject, description=OPENING_TEXT,
    )  # fmt: skip
    plan = planning.Plan(labels=[None])  # errors name the file's row (``label``), not an item
    plan.add(head, legs)
    return plan
