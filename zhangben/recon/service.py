"""The reconciliation facade (核销, docs/reconciliation.md): expected lines in, order keys on
bill rows, matching runs, people's matches, undo, void and ignore, the exception queues and
the audit trail. As ``Imports`` and ``Periods``: one class, each method one transaction,
records out, refusals as :class:`~zhangben.core.errors.LedgerError` subclasses (nothing
written).

Every write appends to ``recon_events`` (who, what, before and after, hash-chained; the
``recon`` check of ``zhangben verify`` walks the chain). Matches are records
(``match_groups`` and ``match_lines``), never flags on rows; undo writes an event and
releases the lines, and deletes nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.errors import (
    ActionFileError,
    LedgerError,
    NotFound,
    OverApplied,
    PeriodClosed,
    ReconState,
    SecondApproverNeeded,
    ValidationError,
)
from zhangben.core.ledger import Ledger
from zhangben.recon import actions, orders, queues
from zhangben.recon import run as recon_run
from zhangben.recon import store as st
from zhangben.recon.booked import booked, closed_months
from zhangben.recon.conditions import parse_conditions
from zhangben.recon.defaults import DEFAULT_RULES
from zhangben.recon.keys import normalise
from zhangben.recon.matching import Item, Proposal, Rule, choose_rule, tolerance
from zhangben.recon.orders import OrderLine
from zhangben.recon.run import RunReport
from zhangben.store import recon_chain
from zhangben.store.bills_tables import bill_rows
from zhangben.store.engine import read_transaction, run_write, write_transaction
from zhangben.store.period_tables import periods
from zhangben.store.recon_tables import (
    bill_recon,
    expected_items,
    gap_types,
    match_groups,
    match_lines,
    match_rules,
    recon_events,
    recon_runs,
)

OUTCOMES = ("exact", "within_tolerance", "with_difference", "forced")
MIN_MEMO = 4
#: A forced match whose |difference| is above this (minor units: 1000.00 yuan) waits for a
#: second approver; the surfaces pass ``ZHANGBEN_RECON_FORCE_APPROVAL_ABOVE``.
FORCE_APPROVAL_ABOVE = 1000 * 10_000


@dataclass(frozen=True)
class ImportResult:
    lines: int
    new: int
    existing: int


@dataclass(frozen=True)
class Line:
    side: str
    item_id: int
    amount: int


@dataclass(frozen=True)
class Group:
    id: int
    group_no: str
    shop: str
    key: str | None
    origin: str
    outcome: str
    expected_total: int
    actual_total: int
    difference: int
    gap_type: str | None
    memo: str | None
    state: str
    created_by: str
    created_at: datetime
    lines: tuple[Line, ...] = ()
    period: str | None = None  # yyyy-mm booked in (a match; a suggestion has none)


@dataclass(frozen=True)
class OrderItem:
    """An expected line or a bill row of one order, with what is left of it to match."""

    side: str
    id: int
    amount: int
    remaining: int
    at: datetime
    kind: str
    state: str
    text: str


@dataclass(frozen=True)
class Preview:
    expected_total: int
    actual_total: int
    difference: int
    outcome: str


@dataclass(frozen=True)
class Expected:
    id: int
    shop: str
    platform: str
    order_no: str
    kind: str
    amount: int
    applied: int
    occurred_at: datetime
    due_at: datetime
    source: str
    source_ref: str
    memo: str | None
    state: str
    void_reason: str | None


@dataclass(frozen=True)
class Run:
    id: int
    actor: str
    cut_bill_row_id: int
    cut_expected_id: int
    counts: dict
    sha256: str
    started_at: datetime
    finished_at: datetime


@dataclass(frozen=True)
class Event:
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


@dataclass(frozen=True)
class ActionResult:
    """What one row of an action file does: ``status`` is ``apply`` (a dry run: it would),
    ``applied``, ``done`` (nothing to do: the row's effect is in place already, so a file
    uploaded twice applies nothing twice) or ``error`` (``column`` names the cell)."""

    line: int
    action: str | None
    subject: str | None
    id: int | None
    status: str
    message: str
    column: str | None = None

    @property
    def where(self) -> str:
        return f"row {self.line}" + (f", {self.column}" if self.column else "")


@dataclass(frozen=True)
class ActionReport:
    dry_run: bool
    sha256: str  # of the file
    rows: tuple[ActionResult, ...]

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)


class _Cell(Exception):
    """A row's cell that does not fit (the column, the message)."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


class _DryRun(Exception):
    def __init__(self, report) -> None:
        self.report = report


def _now() -> datetime:
    return datetime.now(UTC)


def _text(field_name: str, value: str | None, *, minimum: int = 1) -> str:
    text = (value or "").strip()
    if len(text) < minimum:
        raise ValidationError(
            field_name, "is required" if minimum == 1 else f"needs at least {minimum} characters"
        )
    if len(text) > 500 or "\x00" in text:
        raise ValidationError(field_name, "at most 500 characters, no NUL")
    return text


class Recon:
    def __init__(self, ledger: Ledger, *, force_approval_above: int | None = None) -> None:
        """``force_approval_above``: minor units (default :data:`FORCE_APPROVAL_ABOVE`); a
        forced match whose absolute difference is above it is stored pending, its lines held,
        until a second person approves it (:meth:`approve`) or rejects it (:meth:`reject`)."""
        self.ledger = ledger
        self._engine = ledger.engine
        self.force_approval_above = (
            FORCE_APPROVAL_ABOVE if force_approval_above is None else force_approval_above
        )

    def _read(self, work: Callable[[Connection], object]):
        with read_transaction(self._engine) as conn:
            return work(conn)

    def _write(self, work: Callable[[Connection], object]):
        def locked(conn: Connection):
            st.lock(conn)
            return work(conn)

        return run_write(self._engine, locked)

    # -- expected lines ----------------------------------------------------------------------

    def import_expected(
        self,
        path: str | Path | None = None,
        *,
        rows: Iterable[Mapping] | None = None,
        shop: str | None = None,
        platform: str | None = None,
        mapping: Mapping[str, str] | None = None,
        actor: str,
    ) -> ImportResult:
        """An order file (CSV/XLSX, :mod:`.orders`) or rows (REST, SDK): every line is checked
        before anything is written; a line whose (shop, source, source reference) is stored
        already is left as it is, so a re-import adds nothing."""
        if (path is None) == (rows is None):
            raise ValidationError("source", "give a file or rows, not both")
        if path is not None:
            lines = orders.read_file(path, shop=shop, platform=platform, mapping=mapping)
        else:
            lines = orders.check_rows(rows, shop=shop, platform=platform)
        return self._write(lambda c: self._insert_expected(c, lines, actor, str(path or "api")))

    def _insert_expected(
        self, conn: Connection, lines: list[OrderLine], actor: str, where: str
    ) -> ImportResult:
        now, t = _now(), expected_items.c
        existing: set[tuple[str, str, str]] = set()
        by_shop: dict[tuple[str, str], list[str]] = {}
        for line in lines:
            by_shop.setdefault((line.shop, line.source), []).append(line.source_ref)
        for (shop, source), refs in by_shop.items():
            for i in range(0, len(refs), 500):
                q = sa.select(t.source_ref).where(
                    t.shop_code == shop, t.source == source, t.source_ref.in_(refs[i : i + 500])
                )
                existing.update((shop, source, ref) for ref in conn.execute(q).scalars())
        new, seen = [], set()
        for line in lines:
            k = (line.shop, line.source, line.source_ref)
            if k in existing or k in seen:
                continue
            seen.add(k)
            new.append({
                "shop_code": line.shop, "platform": line.platform, "order_no": line.order_no,
                "kind": line.kind, "amount": line.amount, "applied": 0,
                "occurred_at": line.occurred_at, "due_at": line.due_at, "source": line.source,
                "source_ref": line.source_ref, "memo": line.memo, "state": "open",
                "created_at": now,
            })  # fmt: skip
        for i in range(0, len(new), 5000):
            conn.execute(expected_items.insert(), new[i : i + 5000])
        result = ImportResult(len(lines), len(new), len(lines) - len(new))
        st.append_events(
            conn,
            [{"actor": actor, "action": "imported", "subject_type": "file",
              "subject_id": where[-64:], "after": asdict(result)}],
            now,
        )  # fmt: skip
        return result

    def void(self, expected_id: int, *, reason: str, actor: str) -> None:
        """Cancel an expected line (a cancelled order): it leaves every queue."""
        reason = _text("reason", reason)
        self._write(lambda c: self._void(c, expected_id, reason, actor))

    def _void(self, conn: Connection, expected_id: int, reason: str, actor: str) -> None:
        row = st.locked_items(conn, st.E, [expected_id])[expected_id]
        if row.state != "open" or row.applied:
            state = row.state if row.state != "open" else "matched"
            raise ReconState(f"expected line {expected_id} is {state}; undo its matches first")
        t = expected_items
        conn.execute(
            t.update().where(t.c.id == expected_id).values(state="void", void_reason=reason)
        )
        self._event(conn, actor, "voided", "expected", expected_id, {"state": "open"},
                    {"state": "void"}, reason)  # fmt: skip

    # -- bill rows ---------------------------------------------------------------------------

    def set_key(self, bill_row_id: int, key: str, *, actor: str, reason: str | None = None) -> None:
        """Set a bill row's order key by hand (its scope becomes ``order``)."""
        norm = _key(key)
        self._write(lambda c: self._set_key(c, bill_row_id, norm, actor, reason))

    def _set_key(self, conn: Connection, bill_row_id: int, norm: str, actor, reason) -> None:
        now = _now()
        _open_bill_row(conn, bill_row_id, now, "undo or reopen it first")
        r = bill_recon
        before = conn.execute(
            sa.select(r.c.match_key, r.c.key_source, r.c.scope).where(
                r.c.bill_row_id == bill_row_id
            )
        ).one()
        conn.execute(
            r.update()
            .where(r.c.bill_row_id == bill_row_id)
            .values(match_key=norm, key_source=f"manual:{actor}"[:64], scope="order",
                    updated_at=now)
        )  # fmt: skip
        self._event(conn, actor, "key_set", "bill_row", bill_row_id, dict(before._mapping),
                    {"match_key": norm, "scope": "order"}, reason)  # fmt: skip

    def ignore(self, bill_row_id: int, *, reason: str, actor: str) -> None:
        """Take a bill row out of reconciliation, with a reason."""
        reason = _text("reason", reason)
        self._write(lambda c: self._ignore(c, bill_row_id, reason, actor))

    def _ignore(self, conn: Connection, bill_row_id: int, reason: str, actor: str) -> None:
        now = _now()
        _open_bill_row(conn, bill_row_id, now, "undo its matches first")
        r = bill_recon
        conn.execute(
            r.update()
            .where(r.c.bill_row_id == bill_row_id)
            .values(state="ignored", ignore_reason=reason, updated_at=now)
        )
        self._event(conn, actor, "ignored", "bill_row", bill_row_id, {"state": "open"},
                    {"state": "ignored"}, reason)  # fmt: skip

    # -- runs --------------------------------------------------------------------------------

    def rules(self) -> list[Rule]:
        """The stored rules in priority order; none stored: the defaults."""
        return self._read(self._rules)

    def _rules(self, conn: Connection) -> list[Rule]:
        t = match_rules.c
        rows = conn.execute(
            sa.select(match_rules).where(t.active.is_(True)).order_by(t.priority, t.id)
        ).all()
        if not rows:
            return list(DEFAULT_RULES)
        return [
            Rule(
                id=r.id,
                priority=r.priority,
                shop=r.shop_code,
                platform=r.platform,
                split=r.split,
                tol_abs=r.tol_abs,
                tol_bp=r.tol_bp,
                date_window_days=r.date_window_days,
                conditions=parse_conditions(r.conditions),
                on_within_tolerance=r.on_within_tolerance,
                action=r.action,
            )  # fmt: skip
            for r in rows
        ]

    def run(self, *, dry_run: bool = False, actor: str) -> RunReport:
        """Match every open item up to this run's cut (the highest bill row and expected line
        ids when it starts): key new bill rows, then each (shop, key) group through the
        matcher; automatic proposals become groups, the others stored suggestions (replacing
        the last run's). A dry run does the same work and rolls it back: it returns the
        report and writes nothing."""
        try:
            with write_transaction(self._engine) as conn:
                st.lock(conn)
                rules = tuple(self._rules(conn))
                report = recon_run.run(conn, rules, self.ledger.tz, dry_run=dry_run, actor=actor)
                if dry_run:
                    raise _DryRun(report)
                return report
        except _DryRun as done:
            return done.report

    # -- people's matches --------------------------------------------------------------------

    def preview(
        self, expected: Sequence[tuple[int, int | None]], actual: Sequence[tuple[int, int | None]],
        *, gap_type: str | None = None, force: bool = False,
    ) -> Preview:  # fmt: skip
        """What :meth:`match` would record, without writing: the totals, the difference and
        the outcome (or the refusal it would meet)."""
        with read_transaction(self._engine) as conn:
            return self._plan(conn, expected, actual, gap_type, force, lock=False)[0]

    def match(
        self, expected: Sequence[tuple[int, int | None]], actual: Sequence[tuple[int, int | None]],
        *, actor: str, gap_type: str | None = None, force: bool = False,
        memo: str | None = None,
    ) -> Group:  # fmt: skip
        """A person's match: any expected lines and bill rows, across keys and periods, each
        with its whole open amount (``None``) or a part of it (a magnitude, signed as the
        item). A difference needs a gap type
        (``with_difference``, or ``within_tolerance`` inside the rule's tolerance); ``force``
        writes it off as ``forced`` and needs a memo of at least 4 characters."""
        if force:
            memo = _text("memo", memo, minimum=MIN_MEMO)
        return self._write(lambda c: self._match(c, expected, actual, actor, gap_type, force, memo))

    def _match(self, conn, expected, actual, actor, gap_type, force, memo) -> Group:
        now = _now()
        prev, es, as_ = self._plan(conn, expected, actual, gap_type, force, lock=True)
        gid = st.next_id(conn, match_groups)
        shops = {i.shop for i in (*es, *as_)}
        keys = {i.key for i in (*es, *as_)}
        p = Proposal(
            expected=tuple((i.id, i.amount) for i in es),
            actual=tuple((i.id, i.amount) for i in as_),
            outcome=prev.outcome, difference=prev.difference,
            gap_type=gap_type if prev.difference else None, rule_id=None, auto=False,
            origin="manual",
        )  # fmt: skip
        row, ls = _group_row(gid, ",".join(sorted(shops))[:64], _one(keys), p, None, now)
        latest = max(i.at for i in (*es, *as_))
        held = force and abs(prev.difference) > self.force_approval_above
        row.update(state="pending" if held else "active", created_by=actor[:128], memo=memo,
                   period=booked(closed_months(conn), shops, latest, self.ledger.tz))  # fmt: skip
        st.insert_groups(conn, [row], ls)
        st.sync_ids(conn, match_groups)
        st.apply(conn, st.E, p.expected)  # a pending match holds its lines all the same
        st.apply(conn, st.A, p.actual)
        after = _event_after(row, ls)
        if held:
            after["state"] = "pending"
        self._event(conn, actor, "forced" if force else "matched", "group", gid, None,
                    after, memo)  # fmt: skip
        return self._group(conn, gid)

    def _plan(self, conn, expected, actual, gap_type, force, *, lock: bool):
        if not expected and not actual:
            raise ValidationError("lines", "give at least one expected line or bill row")
        for side, given in ((st.E, expected), (st.A, actual)):
            ids = [i for i, _ in given]
            if len(set(ids)) != len(ids):
                raise ValidationError(side, "an item is named twice")
        now = _now()
        items: dict[str, list[Item]] = {st.E: [], st.A: []}
        for side, given in ((st.E, expected), (st.A, actual)):
            if not given:
                continue
            if side == st.A and lock:
                st.ensure_keyed(conn, [i for i, _ in given], now)
            rows = st.locked_items(conn, side, sorted(i for i, _ in given), lock=lock)
            for item_id, part in given:
                row = rows[item_id]
                amount = row.amount - row.applied
                if part is not None:  # a part is a magnitude: it takes the item's sign
                    amount = abs(part) if row.amount > 0 else -abs(part)
                st.check_apply(side, row, amount)
                items[side].append(
                    Item(row.id, side, amount, row.at, row.kind, row.platform, row.shop, row.key)
                )
        es, as_ = items[st.E], items[st.A]
        total_e, total_a = sum(i.amount for i in es), sum(i.amount for i in as_)
        d = total_a - total_e
        if force:
            outcome = "forced"
        elif d == 0:
            outcome = "exact"
        else:
            if not gap_type:
                raise ValidationError(
                    "gap_type", f"the difference {st._yuan(d)} needs a gap type (or force)"
                )
            self._check_gap_type(conn, gap_type)
            rule = choose_rule(self._rules(conn), es, as_)
            within = rule is not None and abs(d) <= tolerance(rule, total_e)
            outcome = "within_tolerance" if within else "with_difference"
        if force and gap_type:
            self._check_gap_type(conn, gap_type)
        return Preview(total_e, total_a, d, outcome), es, as_

    def _check_gap_type(self, conn: Connection, code: str) -> None:
        t = gap_types.c
        found = conn.execute(
            sa.select(t.code).where(t.code == code, t.active.is_(True))
        ).scalar_one_or_none()
        if found is None:
            known = conn.execute(sa.select(t.code).where(t.active.is_(True)).order_by(t.code))
            raise ValidationError(
                "gap_type", f"unknown gap type {code!r}: one of {', '.join(known.scalars())}"
            )

    def undo(self, group_id: int, *, reason: str, actor: str) -> Group:
        """Undo a match: an ``undone`` event, the group marked undone, its lines released.
        Refused when any of its items is dated in a closed period (reopen it first)."""
        reason = _text("reason", reason)

        def work(conn: Connection) -> Group:
            group = self._group(conn, group_id)
            if group.state != "active":
                raise ReconState(f"group {group.group_no} is {group.state}, not active")
            by_side: dict[str, list[tuple[int, int]]] = {st.E: [], st.A: []}
            for line in group.lines:
                by_side[line.side].append((line.item_id, line.amount))
            dates = []
            for side, pairs in by_side.items():
                if pairs:
                    rows = st.locked_items(conn, side, sorted({i for i, _ in pairs}))
                    dates += [(r.shop, r.at) for r in rows.values()]
            _refuse_closed(conn, dates, self.ledger.tz)
            st.apply(conn, st.E, by_side[st.E], sign=-1)
            st.apply(conn, st.A, by_side[st.A], sign=-1)
            (event_id,) = self._event(conn, actor, "undone", "group", group_id,
                                      {"state": "active"}, {"state": "undone"}, reason)  # fmt: skip
            g = match_groups
            conn.execute(
                g.update()
                .where(g.c.id == group_id)
                .values(state="undone", undone_event_id=event_id)
            )
            return self._group(conn, group_id)

        return self._write(work)

    # -- the Excel round trip ----------------------------------------------------------------

    def apply_actions(
        self, source: str | Path | bytes, *, actor: str, dry_run: bool = False
    ) -> ActionReport:
        """A queue's workbook with its 动作 column filled in (:mod:`.actions`): every row with
        an action, in sheet order, in ONE transaction. A dry run reports what each row would
        do and writes nothing; an apply is all or nothing: any row in error refuses the whole
        file (:class:`ActionFileError`, every bad row and column named), so what a person
        reviewed in the dry run is what lands. A row applied from the same file before (its
        SHA-256 and row, in the ``file_applied`` event), or whose effect is in place already
        (a row ignored, a line void, the same key, a line applied in full), is ``done``: a
        file uploaded twice applies nothing twice."""
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        parsed = list(actions.read_file(data))
        try:
            with write_transaction(self._engine) as conn:
                st.lock(conn)
                before = _applied_lines(conn, digest)
                rows = tuple(
                    ActionResult(row.line, row.action, row.subject, row.id, "done",
                                 f"applied from this file already (event {before[row.line]})")
                    if row.line in before
                    else self._action(conn, row, actor, dry_run)
                    for row in parsed
                )  # fmt: skip
                report = ActionReport(dry_run, digest, rows)
                if dry_run:
                    raise _DryRun(report)
                bad = [(r.where, r.message) for r in rows if r.status == "error"]
                if bad:
                    raise ActionFileError(bad)
                applied = [r.line for r in rows if r.status == "applied"]
                if applied:
                    self._event(conn, actor, "file_applied", "file", digest, None,
                                {"lines": applied, "done": report.count("done")},
                                None)  # fmt: skip
                return report
        except _DryRun as done:
            return done.report

    def _action(self, conn: Connection, row, actor: str, dry_run: bool) -> ActionResult:
        if isinstance(row, actions.RowError):
            return ActionResult(row.line, None, None, None, "error", row.message, row.column)
        point = conn.begin_nested()
        try:
            status, message = self._do(conn, row, actor, dry_run)
        except _Cell as exc:
            point.rollback()
            status, message, column = "error", exc.message, exc.column
        except LedgerError as exc:
            point.rollback()
            status, message, column = "error", exc.message, _column_of(exc, row)
        else:
            point.commit()
            column = None
            if status == "apply" and not dry_run:
                status = "applied"
        return ActionResult(row.line, row.action, row.subject, row.id, status, message, column)

    def _do(self, conn: Connection, row: actions.ActionRow, actor: str, dry_run: bool):
        name = actions.NAMES[row.action]
        wants = {"ignore": "bill_row", "set_key": "bill_row", "void": "expected"}.get(row.action)
        if wants and row.subject != wants:
            raise _Cell("对象", f"{name} applies to a {wants} row, not a {row.subject} row")
        if row.subject == "group":
            return self._confirm(conn, row, actor, dry_run)
        side = st.E if row.subject == "expected" else st.A
        if side == st.A:
            st.ensure_keyed(conn, [row.id], _now())
        item = st.locked_items(conn, side, [row.id])[row.id]
        what = f"{'expected line' if side == st.E else 'bill row'} {row.id}"
        if row.shop and row.shop != item.shop:
            raise _Cell("店铺", f"{what} is of shop {item.shop}, not {row.shop}")
        if row.action == "ignore":
            if item.state == "ignored":
                return "done", f"{what} is ignored already"
            self._ignore(conn, row.id, _cell_text("备注", row.memo), actor)
            return "apply", f"忽略 {what}: {row.memo}"
        if row.action == "void":
            if item.state == "void":
                return "done", f"{what} is void already"
            self._void(conn, row.id, _cell_text("备注", row.memo), actor)
            return "apply", f"作废 {what}: {row.memo}"
        key = normalise(row.key or "")
        if key is None:
            raise _Cell("订单号", "the order key is required (1–64 characters)")
        if row.action == "set_key":
            if item.key == key:
                return "done", f"{what} has the key {key} already"
            self._set_key(conn, row.id, key, actor, row.memo)
            return "apply", f"设订单号 {what}: {item.key or '(none)'} → {key}"
        if item.state != "open":
            raise _Cell("动作", f"{what} is {item.state}")
        if item.amount == item.applied:
            return "done", f"{what} is applied in full already"
        others = _open_under(conn, st.A if side == st.E else st.E, item.shop, key)
        if not others:
            lines = "bill rows" if side == st.E else "expected lines"
            raise _Cell("订单号", f"no open {lines} under the order key {key} in shop {item.shop}")
        mine = [(row.id, row.amount)]
        es, as_ = (mine, [(i, None) for i in others]) if side == st.E else (
            [(i, None) for i in others], mine)  # fmt: skip
        group = self._match(
            conn, es, as_, actor, self._gap_code(conn, row.gap_type), False, row.memo
        )
        return "apply", _matched(group, dry_run)

    def _confirm(self, conn: Connection, row: actions.ActionRow, actor: str, dry_run: bool):
        """核销 on a suggestion (a 金额差异 row): its lines, as suggested, become a match."""
        found = self._group(conn, row.id)
        if row.amount is not None:
            raise _Cell("核销金额", "a suggestion is confirmed as it stands: leave it blank")
        if row.shop and row.shop != found.shop:
            raise _Cell("店铺", f"group {row.id} is of shop {found.shop}, not {row.shop}")
        if found.state == "active":
            return "done", f"group {found.group_no} is a match already"
        if found.state != "suggested" and _all_applied(conn, found):
            return "done", f"the suggestion {found.group_no} is matched already"
        if found.state != "suggested":
            raise _Cell("动作", f"group {found.group_no} is {found.state}, not a suggestion: "
                        "download the queue again")  # fmt: skip
        es = [(ln.item_id, abs(ln.amount)) for ln in found.lines if ln.side == st.E]
        as_ = [(ln.item_id, abs(ln.amount)) for ln in found.lines if ln.side == st.A]
        group = self._match(
            conn, es, as_, actor, self._gap_code(conn, row.gap_type), False, row.memo
        )
        g = match_groups
        conn.execute(g.update().where(g.c.id == row.id).values(state="superseded"))
        return "apply", _matched(group, dry_run)

    def _gap_code(self, conn: Connection, text: str | None) -> str | None:
        """A gap type by its code or its Chinese name (佣金差异 is COMMISSION)."""
        if not text:
            return None
        t = gap_types.c
        code = conn.execute(
            sa.select(t.code).where(sa.or_(t.name == text, t.code == text.upper()))
        ).scalar()
        return code or text

    def approve(self, group_id: int, *, actor: str, memo: str | None = None) -> Group:
        """Approve a pending forced match (a second person, not the one who forced it): it
        becomes active; its lines were held since it was forced."""
        why = _text("memo", memo) if memo and memo.strip() else None
        return self._decide(group_id, actor, "approved", "active", why)

    def reject(self, group_id: int, *, reason: str, actor: str) -> Group:
        """Reject a pending forced match (a second person): its lines are released, the group
        kept as ``rejected``."""
        return self._decide(group_id, actor, "rejected", "rejected", _text("reason", reason))

    def _decide(self, group_id: int, actor: str, action: str, state: str, why) -> Group:
        def work(conn: Connection) -> Group:
            group = self._group(conn, group_id)
            if group.state != "pending":
                raise ReconState(f"group {group.group_no} is {group.state}, not pending approval")
            if actor[:128] == group.created_by:
                raise SecondApproverNeeded(
                    f"group {group.group_no} was forced by {group.created_by}: a second, "
                    "different person must approve or reject it"
                )
            by_side: dict[str, list[tuple[int, int]]] = {st.E: [], st.A: []}
            for line in group.lines:
                by_side[line.side].append((line.item_id, line.amount))
            for side, pairs in by_side.items():
                if pairs:  # locked, so a concurrent decision waits for this one
                    st.locked_items(conn, side, sorted({i for i, _ in pairs}))
            if state == "rejected":
                st.apply(conn, st.E, by_side[st.E], sign=-1)
                st.apply(conn, st.A, by_side[st.A], sign=-1)
            self._event(conn, actor, action, "group", group_id, {"state": "pending"},
                        {"state": state}, why)  # fmt: skip
            g = match_groups
            conn.execute(g.update().where(g.c.id == group_id).values(state=state))
            return self._group(conn, group_id)

        return self._write(work)

    # -- reads -------------------------------------------------------------------------------

    def group(self, group_id: int) -> Group:
        return self._read(lambda c: self._group(c, group_id))

    def _group(self, conn: Connection, group_id: int) -> Group:
        g = conn.execute(sa.select(match_groups).where(match_groups.c.id == group_id)).first()
        if g is None:
            raise NotFound(f"group {group_id} does not exist")
        lines = conn.execute(
            sa.select(match_lines)
            .where(match_lines.c.group_id == group_id)
            .order_by(match_lines.c.id)
        ).all()
        return _group_record(g, lines)

    def expected(self, expected_id: int) -> Expected:
        def work(conn: Connection) -> Expected:
            r = conn.execute(
                sa.select(expected_items).where(expected_items.c.id == expected_id)
            ).first()
            if r is None:
                raise NotFound(f"expected line {expected_id} does not exist")
            return Expected(
                r.id, r.shop_code, r.platform, r.order_no, r.kind, r.amount, r.applied,
                r.occurred_at, r.due_at, r.source, r.source_ref, r.memo, r.state, r.void_reason,
            )  # fmt: skip

        return self._read(work)

    def runs(self, *, limit: int = 20) -> list[Run]:
        """The runs written (dry runs leave none), newest first."""
        t = recon_runs.c
        q = sa.select(recon_runs).order_by(t.id.desc()).limit(limit)
        return self._read(
            lambda c: [
                Run(
                    r.id,
                    r.actor,
                    r.cut_bill_row_id,
                    r.cut_expected_id,
                    json.loads(r.counts),
                    r.report_sha256,
                    r.started_at,
                    r.finished_at,
                )  # fmt: skip
                for r in c.execute(q)
            ]
        )

    def groups(self, *, state: str | None = None, limit: int = 100) -> list[Group]:
        def work(conn: Connection) -> list[Group]:
            q = sa.select(match_groups).order_by(match_groups.c.id.desc()).limit(limit)
            if state:
                q = q.where(match_groups.c.state == state)
            found = conn.execute(q).all()
            ids = [g.id for g in found]
            lines: dict[int, list] = {}
            if ids:
                for ln in conn.execute(
                    sa.select(match_lines)
                    .where(match_lines.c.group_id.in_(ids))
                    .order_by(match_lines.c.id)
                ):
                    lines.setdefault(ln.group_id, []).append(ln)
            return [_group_record(g, lines.get(g.id, [])) for g in found]

        return self._read(work)

    def order(self, shop: str, key: str) -> tuple[list[OrderItem], list[OrderItem]]:
        """The expected lines and the keyed bill rows of one order, oldest first."""

        def work(conn: Connection):
            e, r, b = expected_items.c, bill_recon.c, bill_rows.c
            exp = conn.execute(
                sa.select(expected_items)
                .where(e.shop_code == shop, e.order_no == key)
                .order_by(e.occurred_at, e.id)
            )
            act = conn.execute(
                sa.select(b.id, b.income, b.expense, b.trade_time, b.business_type, b.remark,
                          r.applied, r.state)
                .select_from(bill_recon.join(bill_rows, b.id == r.bill_row_id))
                .where(r.shop_code == shop, r.match_key == key)
                .order_by(b.trade_time, b.id)
            )  # fmt: skip
            return (
                [OrderItem(st.E, x.id, x.amount, x.amount - x.applied, x.occurred_at, x.kind,
                           x.state, x.memo or x.source_ref) for x in exp],
                [OrderItem(st.A, x.id, x.income - x.expense, x.income - x.expense - x.applied,
                           x.trade_time, x.business_type or "", x.state, x.remark or "")
                 for x in act],
            )  # fmt: skip

        return self._read(work)

    def events(self, *, limit: int = 100, subject: tuple[str, str] | None = None) -> list[Event]:
        """The audit trail, newest first."""

        def work(conn: Connection) -> list[Event]:
            t = recon_events.c
            q = sa.select(recon_events).order_by(t.id.desc()).limit(limit)
            if subject:
                q = q.where(t.subject_type == subject[0], t.subject_id == str(subject[1]))
            return [
                Event(
                    r.id,
                    r.at,
                    r.actor,
                    r.action,
                    r.subject_type,
                    r.subject_id,
                    json.loads(r.before) if r.before else None,
                    json.loads(r.after) if r.after else None,
                    r.reason,
                    r.hash,
                )  # fmt: skip
                for r in conn.execute(q)
            ]

        return self._read(work)

    def verify_chain(self) -> tuple[int, list[str]]:
        """``(events checked, problems)`` of the audit trail's hash chain."""
        return self._read(recon_chain.verify)

    def gap_types(self) -> list[tuple[str, str]]:
        t = gap_types.c
        return self._read(
            lambda c: [tuple(r) for r in c.execute(sa.select(t.code, t.name).order_by(t.code))]
        )

    def queues(self, *, now: datetime | None = None) -> list[queues.Queue]:
        """Every exception queue with its count, total and ageing (and the awaiting items,
        shown apart and not counted)."""
        return self._read(lambda c: queues.summaries(c, now or _now(), self.ledger.tz))

    def queue(self, name: str, *, now: datetime | None = None, limit: int | None = None):
        """One queue's summary and its rows (oldest first)."""
        return self._read(
            lambda c: queues.detail(c, name, now or _now(), self.ledger.tz, limit=limit)
        )

    # -- the audit trail ---------------------------------------------------------------------

    def _event(self, conn, actor, action, subject_type, subject_id, before, after, reason):
        return st.append_events(
            conn,
            [{"actor": actor[:128], "action": action, "subject_type": subject_type,
              "subject_id": subject_id, "before": before, "after": after, "reason": reason}],
            _now(),
        )  # fmt: skip


def _key(key: str | None) -> str:
    norm = normalise(key or "")
    if norm is None:
        raise ValidationError("key", "is not an order number (1–64 characters)")
    return norm


def _cell_text(column: str, value: str | None) -> str:
    if not (value or "").strip():
        raise _Cell(column, "the reason is required")
    return value.strip()


_COLUMNS = {"gap_type": "差异类型", "memo": "备注", "reason": "备注", "key": "订单号"}


def _column_of(exc: LedgerError, row: actions.ActionRow) -> str:
    if isinstance(exc, ValidationError):
        return _COLUMNS.get(exc.field, "动作")
    if isinstance(exc, NotFound):
        return "ID"
    if isinstance(exc, OverApplied) and row.amount is not None:
        return "核销金额"
    return "动作"


def _open_under(conn: Connection, side: str, shop: str, key: str) -> list[int]:
    """The ids of the open items of ``side`` under the order key, oldest first."""
    if side == st.E:
        e = expected_items.c
        q = sa.select(e.id).where(
            e.shop_code == shop, e.order_no == key, e.state == "open", e.amount != e.applied
        )
        return list(conn.execute(q.order_by(e.occurred_at, e.id)).scalars())
    r, b = bill_recon.c, bill_rows.c
    q = (
        sa.select(b.id)
        .select_from(bill_recon.join(bill_rows, b.id == r.bill_row_id))
        .where(r.shop_code == shop, r.match_key == key, r.state == "open",
               b.income - b.expense != r.applied)
    )  # fmt: skip
    return list(conn.execute(q.order_by(b.trade_time, b.id)).scalars())


def _applied_lines(conn: Connection, digest: str) -> dict[int, int]:
    """The sheet rows of this file (by its SHA-256) applied before: row → the event."""
    t = recon_events.c
    found = conn.execute(
        sa.select(t.id, t.after).where(
            t.subject_type == "file", t.subject_id == digest, t.action == "file_applied"
        )
    )
    return {line: r.id for r in found for line in json.loads(r.after)["lines"]}


def _all_applied(conn: Connection, group: Group) -> bool:
    for side in (st.E, st.A):
        ids = sorted({ln.item_id for ln in group.lines if ln.side == side})
        if ids and any(r.amount != r.applied for r in st.locked_items(conn, side, ids).values()):
            return False
    return True


def _matched(group: Group, dry_run: bool) -> str:
    lines = ", ".join(f"{'E' if ln.side == st.E else 'B'}{ln.item_id}" for ln in group.lines)
    gap = f" ({group.gap_type})" if group.gap_type else ""
    head = "核销" if dry_run else f"核销 → group {group.group_no}"
    return f"{head}: {lines}; {group.outcome}, difference {st._yuan(group.difference)}{gap}"


def _one(values: set) -> str | None:
    return next(iter(values)) if len(values) == 1 else None


def _group_row(gid: int, shop: str, key: str | None, p: Proposal, run_id, now: datetime):
    total_e = sum(a for _, a in p.expected)
    total_a = sum(a for _, a in p.actual)
    row = {
        "id": gid, "group_no": st.group_no(gid, now), "shop_code": shop, "match_key": key,
        "origin": p.origin if p.auto else ("manual" if p.origin == "manual" else "auto"),
        "outcome": p.outcome, "expected_total": total_e, "actual_total": total_a,
        "difference": total_a - total_e, "gap_type_code": p.gap_type, "rule_id": p.rule_id,
        "memo": None, "run_id": run_id, "state": "active" if p.auto else "suggested",
        "created_by": f"rule:{p.rule_id}" if p.rule_id else "system", "created_at": now,
        "undone_event_id": None, "period": None,
    }  # fmt: skip
    lines = [
        {"group_id": gid, "side": st.E, "item_id": i, "amount_applied": a} for i, a in p.expected
    ]
    lines += [
        {"group_id": gid, "side": st.A, "item_id": i, "amount_applied": a} for i, a in p.actual
    ]
    return row, lines


def _event_after(row: dict, lines: list[dict]) -> dict:
    return {
        "group_no": row["group_no"], "outcome": row["outcome"],
        "difference": row["difference"], "gap_type": row["gap_type_code"],
        "lines": [[ln["side"], ln["item_id"], ln["amount_applied"]] for ln in lines],
        "period": row["period"],
    }  # fmt: skip


def _group_record(g, lines) -> Group:
    return Group(
        g.id, g.group_no, g.shop_code, g.match_key, g.origin, g.outcome, g.expected_total,
        g.actual_total, g.difference, g.gap_type_code, g.memo, g.state, g.created_by,
        g.created_at, tuple(Line(ln.side, ln.item_id, ln.amount_applied) for ln in lines),
        g.period,
    )  # fmt: skip


def _refuse_closed(conn: Connection, dated: list[tuple[str, datetime]], tz) -> None:
    """PeriodClosed when any (shop, instant) lies in a closed period of its shop or of the
    whole ledger."""
    p = periods.c
    for shop, at in dated:
        hit = conn.execute(
            sa.select(p.month, p.shop_code)
            .where(p.status == "closed", p.shop_code.in_(["", shop]), p.starts_at <= at,
                   p.ends_at > at)
            .limit(1)
        ).first()  # fmt: skip
        if hit:
            raise PeriodClosed(
                f"period {hit.month} of "
                f"{'shop ' + hit.shop_code if hit.shop_code else 'the ledger'}"
                " is closed: reopen it to undo this match",
                period=hit.month, shop=hit.shop_code or None, closed_through=hit.month,
            )  # fmt: skip


def _open_bill_row(conn: Connection, bill_row_id: int, now, then: str) -> None:
    """Key the bill row if it is not yet, lock it, and refuse it unless it is open and
    unapplied (``then``: what the person must do first)."""
    st.ensure_keyed(conn, [bill_row_id], now)
    row = st.locked_items(conn, st.A, [bill_row_id])[bill_row_id]
    if row.state != "open" or row.applied:
        state = row.state if row.state != "open" else "matched"
        raise ReconState(f"bill row {bill_row_id} is {state}; {then}")
