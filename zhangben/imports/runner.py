"""The one import runner for every bill format: validate, dedup, check, post, record.

:func:`import_file` reads a file once, in constant memory, and writes it in ONE write
transaction (:meth:`Ledger.write_bills`):

1. **Validate and stage** — stream the file through its extractor, within its
   :class:`~zhangben.imports.files.Limits`. The first bad row rejects the file whole
   (:class:`BillFormatError` naming line, column and reason; nothing is written) unless
   ``skip_bad_rows``, in which case bad rows are listed in the report and left out; a file
   with no row after its header is rejected. Each good row becomes one flat tuple (keys,
   minor units, category, the entry's texts and request hash, the raw cells as JSON)
   streamed into a temporary staging table (PostgreSQL ``COPY``, SQLite ``executemany``);
   the server takes them in while the next rows are parsed. No lock is held meanwhile: on
   PostgreSQL the transaction has locked nothing yet, and on SQLite the staging table is in
   the connection's temporary schema, written before the database's write lock is taken.
2. **Post** — once the whole file is read, the core posts the staged rows
   (:mod:`zhangben.core.postings.bills`, whose staged writer does it set-based: the rows not
   stored yet, their balance-after, the postings, entries and ``bill_rows``, one balance
   update); then the continuity check and the ``import_batches`` record. Any failure rolls
   the whole file back.

Each row that moves money is planned by the core as the income or expense it is (the one key
rule: ``{platform}:{flow}``, the one fingerprint, the same rules); a flow already posted by hand
is linked, not posted twice. A text too long for its column refuses the row, naming the line
and the field, never cut.

Opening balance: a file with a balance column, imported into an account with no entry dated
before its earliest row, first posts the platform's balance before its first row as the
account's opening entry (category 22 期初余额, dated the last second of the day before; one per
account: :func:`zhangben.core.postings.bills.open_balance`), in the same transaction, so that
the account's balance after the import is the platform's balance at the last row. Where the
account has earlier entries, nothing is posted and a difference between the ledger's balance
before the first row and the platform's is a warning in the report. ``opening_balance=False``
(``--no-opening-balance``) posts no opening entry.

Order: rows are posted in chronological order. A file whose last row is older than its
first (Alipay downloads are often newest first) is written from its end, so the ledger's
balance-after and the continuity check follow time. A continuity break or a summary
mismatch does not refuse the import: it is a warning in the report (and the record's status
is ``warnings``), because the rows themselves are what the platform says happened.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.errors import AccountClosed, InsufficientFunds, LedgerError
from zhangben.core.ledger import Ledger
from zhangben.core.money import format_amount, from_minor, to_minor
from zhangben.core.postings import bills
from zhangben.core.records import Account
from zhangben.imports.continuity import Break, ChainChecker, ChainPoint, join_break
from zhangben.imports.extract import Extraction, extract
from zhangben.imports.files import Limits
from zhangben.imports.rows import PLATFORMS, ZERO, BillFormatError, BillRow, unique_key
from zhangben.imports.rules import RuleBook, rule_book
from zhangben.store.bills_tables import bill_rows, import_batches
from zhangben.store.writers.rows import sqlite_time
from zhangben.store.writers.staged import CELL_SEP

PLATFORM_LABELS = {
    "alipay": "支付宝",
    "wechat": "微信支付",
    "wechat_shop": "微信小店",
    "jd_wallet": "京东钱包",
    "jzt": "京东精准通",
}
#: bad rows listed in a report (all are counted)
MAX_LISTED_BAD_ROWS = 1000
MAX_KEY = 128
#: why no opening entry was posted: the caller asked for none
NO_OPENING = "--no-opening-balance"

#: ``progress(phase, done, total)``: phase "read" (total None) then "write" (total = rows)
Progress = Callable[[str, int, int | None], None]


@dataclass
class ImportReport:
    """What one file's import did. Money as Decimal, times aware."""

    path: str
    filename: str
    sha256: str
    format: str
    platform: str
    account: str
    import_id: int | None = None
    rows_total: int = 0
    rows_new: int = 0
    rows_duplicate: int = 0
    #: new rows whose flow was posted before (by hand or API): linked to that posting
    rows_linked: int = 0
    rows_rejected: int = 0
    entries_written: int = 0
    bad_rows: list[BillFormatError] = field(default_factory=list)
    breaks: list[Break] = field(default_factory=list)
    summary_problems: list[str] = field(default_factory=list)
    first_trade_time: datetime | None = None
    last_trade_time: datetime | None = None
    first_balance: Decimal | None = None
    last_balance: Decimal | None = None
    #: the platform's balance before the first row, and the ledger's (after any opening entry)
    platform_opening: Decimal | None = None
    ledger_opening: Decimal | None = None
    #: the opening entry posted by this import, its amount and date
    opening_entry_id: int | None = None
    opening_amount: Decimal = ZERO
    opening_time: datetime | None = None
    #: why no opening entry was posted although the ledger and the platform differ
    opening_held_back: str | None = None
    #: the account's balance after the import
    balance: Decimal | None = None
    newest_first: bool = False
    seconds: float = 0.0
    #: where the time went: "read" (parse, validate, stage), "post" (the set-based writes),
    #: "check" (continuity and the record)
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def opening_difference(self) -> Decimal:
        """The ledger's balance before the first row minus the platform's (0: they agree)."""
        if self.platform_opening is None or self.ledger_opening is None:
            return ZERO
        return self.ledger_opening - self.platform_opening

    @property
    def opening_mismatch(self) -> bool:
        """The ledger and the platform differ before the first row, and the caller did not
        ask for that (``--no-opening-balance``)."""
        return bool(self.opening_difference) and self.opening_held_back != NO_OPENING

    @property
    def ok(self) -> bool:
        """No skipped rows, no continuity break, no summary mismatch, no opening mismatch."""
        return not (
            self.rows_rejected or self.breaks or self.summary_problems or self.opening_mismatch
        )

    @property
    def rows_per_second(self) -> float:
        return self.rows_total / self.seconds if self.seconds else 0.0


class ImportRefused(ValueError):
    """The file cannot go into this account (e.g. a JD wallet file into an Alipay account)."""


def import_file(
    ledger: Ledger,
    path: str | Path,
    *,
    account: int | str,
    format_name: str | None = None,
    skip_bad_rows: bool = False,
    operator_id: int | None = None,
    batch_size: int = 1000,
    progress: Progress | None = None,
    limits: Limits | None = None,
    opening_balance: bool = True,
) -> ImportReport:
    """Import one bill file into ``account`` (number or id); see the module doc. ``limits``
    bound what the file may make the reader do (default: :class:`Limits`);
    ``opening_balance=False`` posts no opening entry.

    Raises :class:`BillFormatError` for a rejected file, :class:`ImportRefused` for a file
    that does not belong to the account, and the ledger's errors (account closed,
    insufficient funds under the account's overdraft policy) — in every case having written
    nothing. ``batch_size`` is accepted for older callers and ignored: the rows are written
    set-based (:mod:`zhangben.core.postings.bills`).
    """
    started = time.perf_counter()
    path = Path(path)
    acc = ledger.account(account)
    if not acc.is_open:
        raise AccountClosed(f"account {acc.number} is closed")
    ext = extract(path, format_name, limits=limits)
    fmt = ext.format
    if acc.type in PLATFORMS and acc.type != fmt.platform:
        raise ImportRefused(
            f"{path.name} is a {fmt.name} bill ({fmt.platform}); account {acc.number} is a "
            f"{acc.type} account"
        )
    if skip_bad_rows:
        ext._parse = _tolerant(ext._parse)  # the extractor raises at the first bad row
    given = ImportReport(str(path), path.name, _sha256(path), fmt.name, fmt.platform, acc.number)
    report = ledger.write_bills(
        lambda conn: _stage(conn, ledger, acc, ext, given, skip_bad_rows, operator_id, progress),
        lambda conn, staged: _post(conn, ext, staged, operator_id, progress, opening_balance),
    )
    report.seconds = time.perf_counter() - started
    return report


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tolerant(parse):
    """Wrap Extraction._parse so that a bad row is yielded as its error instead of raised."""

    def parse_or_error(line, cells):
        try:
            return parse(line, cells)
        except BillFormatError as exc:
            return exc

    return parse_or_error


@dataclass
class _Staged:
    """A file read, validated and staged: what posting it needs."""

    report: ImportReport
    stage: bills.Stage
    scan: _Scan
    account_id: int
    planner: bills.BillPlanner
    tz: ZoneInfo


def _stage(
    conn: Connection,
    ledger: Ledger,
    acc: Account,
    ext: Extraction,
    given: ImportReport,
    skip_bad_rows: bool,
    operator_id: int | None,
    progress: Progress | None,
) -> _Staged:
    """Pass 1, before any lock: read, validate and stage the file."""
    report = ImportReport(**given.__dict__)  # fresh counters on a retried transaction
    report.bad_rows, report.summary_problems, report.breaks = [], [], []
    report.phases = {}
    clock = time.perf_counter()
    fmt = ext.format
    book = rule_book(conn, fmt.platform)  # before the COPY holds the connection
    planner = ledger.bill_planner(fmt.platform, acc.id, operator_id)
    stage = bills.Stage(conn)
    try:
        scan = _scan(ext, stage, planner, report, book, ledger.tz, skip_bad_rows, progress)
        if not scan.seen:
            raise BillFormatError(ext.header_line, None, "no rows after the header")
        stage.close()
    except BaseException as exc:
        stage.abort(exc)
        raise
    report.rows_total = scan.count
    report.newest_first = scan.newest_first
    report.summary_problems = scan.tally.compare(ext.summary)
    report.phases["read"] = time.perf_counter() - clock
    return _Staged(report, stage, scan, acc.id, planner, ledger.tz)


def _post(
    conn: Connection,
    ext: Extraction,
    staged: _Staged,
    operator_id: int | None,
    progress: Progress | None,
    opening_balance: bool = True,
) -> ImportReport:
    """Pass 2, under the write lock: open the account, post the staged rows, check
    continuity, record."""
    report, stage, scan = replace(staged.report), staged.stage, staged.scan
    report.breaks = []  # fresh on a retried transaction
    report.phases = dict(staged.report.phases)
    clock = time.perf_counter()
    fmt = ext.format
    now = datetime.now(UTC)
    if progress:
        progress("write", 0, scan.count)
    account_id = staged.account_id
    bills.lock(conn, account_id)  # before the import record: see bills.lock
    import_id = conn.execute(
        import_batches.insert()
        .values(
            account_id=account_id,
            filename=report.filename[:255],
            file_sha256=report.sha256,
            format=report.format,
            platform=fmt.platform,
            operator_id=operator_id,
            created_at=now,
        )
        .returning(import_batches.c.id)
    ).scalar_one()
    report.import_id = import_id
    first, last = scan.in_posting_order()
    if fmt.has_balance and first is not None and first.balance is not None:
        _open(conn, staged, report, first, scan.earliest or first.trade_time, opening_balance)
    try:
        posted = bills.post(
            conn,
            stage,
            platform=fmt.platform,
            account_id=account_id,
            import_id=import_id,
            operator_id=operator_id,
            now=now,
            newest_first=scan.newest_first,
            headers=ext.headers,
            tz=staged.tz,
        )
    except InsufficientFunds as exc:
        if report.opening_mismatch:  # say why the ledger is not where the platform is
            exc.message += (
                f" (no opening balance was posted: {report.opening_held_back}; before the "
                f"first row the ledger holds {format_amount(report.ledger_opening, 2)}, the "
                f"platform {format_amount(report.platform_opening, 2)})"
            )
            exc.args = (exc.message,)
        raise
    if fmt.has_balance and first is not None:
        stored = _neighbour(conn, fmt.platform, account_id, first.trade_time, before=True)
        report.breaks.extend(b for b in [join_break(stored, _point(first, fmt.platform))] if b)
    report.rows_new = posted.fresh
    report.rows_duplicate = scan.count - posted.fresh
    report.entries_written = posted.entries
    report.rows_linked = posted.linked
    report.balance = from_minor(posted.final_balance)
    report.phases["post"], clock = time.perf_counter() - clock, time.perf_counter()
    if fmt.has_balance and last is not None:
        if scan.breaks_in_file():  # rare: replay the exact check over the staged rows
            checker = ChainChecker()
            for values in stage.rows_in_order(scan.newest_first):
                checker.feed(ChainPoint(*values))
            report.breaks.extend(checker.finish())
        stored = _neighbour(conn, fmt.platform, account_id, last.trade_time, before=False)
        if stored is not None and stored.import_id != import_id:
            report.breaks.extend(b for b in [join_break(_point(last, fmt.platform), stored)] if b)
    _finish_record(conn, import_id, report, first, last)
    report.phases["check"] = time.perf_counter() - clock
    if progress:
        progress("write", scan.count, scan.count)
    return report


def _open(
    conn: Connection,
    staged: _Staged,
    report: ImportReport,
    first: BillRow,
    earliest: datetime,
    wanted: bool,
) -> None:
    """The opening rule (:func:`zhangben.core.postings.bills.open_balance`) for the file whose
    first row in posting order is ``first``."""
    where = f"line {first.line}" + (f" (flow {first.flow_no})" if first.flow_no else "")
    label = PLATFORM_LABELS.get(report.platform, report.platform)
    opening = bills.open_balance(
        conn,
        staged.planner,
        staged.stage,
        earliest=earliest,
        platform_before=_minor_units(first.balance) - _minor_units(first.income - first.expense),
        wanted=wanted,
        tz=staged.tz,
        label=f"opening balance before {where}",
        remark=f"{label}账单 {report.filename} 第{first.line}行之前的平台余额",
    )
    report.platform_opening = from_minor(opening.platform)
    report.ledger_opening = from_minor(opening.ledger)
    report.opening_entry_id, report.opening_time = opening.entry_id, opening.trade_time
    report.opening_amount = from_minor(opening.amount)
    report.opening_held_back = NO_OPENING if opening.held_back and not wanted else opening.held_back


# -- pass 1: validate and stage -------------------------------------------------------------


@dataclass
class _Scan:
    """What reading the file found; the rows themselves are in the staging table."""

    tally: _Tally
    count: int = 0
    #: data rows read, bad ones included
    seen: int = 0
    first: BillRow | None = None
    last: BillRow | None = None
    #: the earliest trade time of the file (an opening entry is dated before it)
    earliest: datetime | None = None
    #: consecutive rows that do not chain, read forwards / backwards (file order)
    forward_breaks: int = 0
    backward_breaks: int = 0

    @property
    def newest_first(self) -> bool:
        return bool(self.first and self.last and self.last.trade_time < self.first.trade_time)

    def in_posting_order(self) -> tuple[BillRow | None, BillRow | None]:
        return (self.last, self.first) if self.newest_first else (self.first, self.last)

    def breaks_in_file(self) -> int:
        return self.backward_breaks if self.newest_first else self.forward_breaks


def _scan(
    ext: Extraction,
    stage: bills.Stage,
    planner: bills.BillPlanner,
    report: ImportReport,
    book: RuleBook,
    tz: ZoneInfo,
    skip_bad_rows: bool,
    progress: Progress | None,
) -> _Scan:
    """Stream the file: validate each row, have the core plan it, and stage it as one flat
    tuple (the staged writer's ``COLUMNS``).

    The continuity check is prepared here in both directions at once (a file is posted
    backwards when it turns out to be newest first): it only counts the places where two
    consecutive rows do not chain; where there are none, there is no break to report.
    """
    fmt = ext.format
    platform = fmt.platform
    label = PLATFORM_LABELS.get(platform, platform)
    pg = stage.pg
    has_balance = fmt.has_balance
    classify = book.classify
    add = stage.add
    plan_row = planner.row
    headers = ext.headers
    scan = _Scan(_Tally())
    tally_add = scan.tally.add
    prev_balance = prev_net = None
    seen = ordinal = 0
    for row in ext.rows():
        seen += 1
        if progress and seen % 1000 == 0:
            progress("read", seen, None)
        if isinstance(row, BillFormatError):
            _reject(report, row)
            continue
        key = row.flow_no or unique_key(row, platform)
        extra = row.extra
        ref = extra.get("plan_id") or extra.get("merchant_id")
        counterparty = row.counterparty or None
        too_long = _too_long(row, key, counterparty, extra.get("account"), ref)
        if too_long is not None:
            if not skip_bad_rows:
                raise too_long
            _reject(report, too_long)
            continue
        income, expense = _minor_units(row.income), _minor_units(row.expense)
        balance = None if row.balance is None else _minor_units(row.balance)
        net = income - expense
        when = row.trade_time
        if net:
            kind = "income" if net > 0 else "expense"
            category_id, subject_id = classify(row.business_type, kind)
            description = f"{label} {row.business_type}" if row.business_type else label
            remark = row.remark or ""
            if row.order_no:
                remark = f"{remark} 订单号:{row.order_no}" if remark else f"订单号:{row.order_no}"
            try:  # the core plans the posting: R2, R3, the fingerprint
                digest = plan_row(
                    row.line, key, net, when, counterparty, category_id, subject_id,
                    description, remark,
                )  # fmt: skip
            except LedgerError as exc:
                reason = exc.message.removeprefix(f"line {row.line}: ")
                error = BillFormatError(
                    row.line, None, reason, flow=row.flow_no, order=row.order_no or None
                )
                if not skip_bad_rows:
                    raise error from exc
                _reject(report, error)
                continue
        else:
            category_id = subject_id = description = remark = digest = None
        if has_balance:
            if prev_balance is not None:
                if prev_balance + net != balance:
                    scan.forward_breaks += 1
                if balance + prev_net != prev_balance:
                    scan.backward_breaks += 1
            prev_balance, prev_net = balance, net
        if scan.first is None:
            scan.first, scan.earliest = row, when
        elif when < scan.earliest:  # type: ignore[operator]
            scan.earliest = when
        scan.last = row
        tally_add(row)
        local = when if when.tzinfo is tz else when.astimezone(tz)
        bill_date = extra.get("bill_date") or extra.get("launch_date")
        add(
            (
                ordinal,
                row.line,
                key,
                planner.key(key),
                row.flow_no,
                when if pg else sqlite_time(when),
                local.year * 10000 + local.month * 100 + local.day,
                income,
                expense,
                balance,
                counterparty,
                row.order_no or None,
                row.business_type or None,
                row.remark,
                extra.get("account") or None,
                ref or None,
                bill_date if pg or bill_date is None else bill_date.isoformat(),
                *_raw(row.raw, headers, pg),
                category_id,
                subject_id,
                description,
                remark,
                digest,
            )
        )
        ordinal += 1
    scan.count, scan.seen = ordinal, seen
    if progress:
        progress("read", seen, seen)
    return scan


def _raw(raw: dict[str, str], headers: tuple[str, ...], pg: bool) -> tuple[str | None, str | None]:
    """(raw JSON, raw cells joined): PostgreSQL builds the JSON from the joined cells."""
    if pg and tuple(raw) == headers:
        joined = CELL_SEP.join(raw.values())
        if joined.count(CELL_SEP) == len(headers) - 1:  # no cell holds the separator
            return None, joined
    return json.dumps(raw, ensure_ascii=False), None


#: the bill_rows columns a row's texts go to, and their sizes
_BILL_SIZES = (
    ("flow number", 128),
    ("counterparty", 128),
    ("order number", 128),
    ("business type", 64),
    ("platform account", 64),
    ("reference", 64),
)


def _too_long(row: BillRow, key, counterparty, account, ref) -> BillFormatError | None:
    """A text longer than its column: the row is refused, naming the line and field."""
    values = (key, counterparty, row.order_no, row.business_type, account, ref)
    for (name, size), value in zip(_BILL_SIZES, values, strict=True):
        if value and len(value) > size:
            # the row named by its flow or order number, unless that is what is too long
            flow = row.flow_no if name != "flow number" else None
            order = row.order_no if name != "order number" and not flow else None
            return BillFormatError(
                row.line, None, f"{name} is over {size} characters", flow=flow, order=order
            )
    return None


def _reject(report: ImportReport, error: BillFormatError) -> None:
    report.rows_rejected += 1
    if len(report.bad_rows) < MAX_LISTED_BAD_ROWS:
        report.bad_rows.append(error)


def _minor_units(value: Decimal) -> int:
    """Decimal yuan -> minor units; the extractors admit at most four places."""
    minor = value.scaleb(4)
    units = int(minor)
    if units != minor:
        return to_minor(value)  # raises with the reason
    return units


@dataclass
class _Tally:
    """What the rows add up to, for the file's own summary."""

    rows: int = 0
    income_count: int = 0
    income_total: Decimal = ZERO
    expense_count: int = 0
    expense_total: Decimal = ZERO

    def add(self, row: BillRow) -> None:
        self.rows += 1
        if row.income:
            self.income_count += 1
            self.income_total += row.income
        if row.expense:
            self.expense_count += 1
            self.expense_total += row.expense

    def compare(self, summary) -> list[str]:
        """Mismatches between the rows and the file's stated totals (e.g. Alipay 汇总)."""
        if summary is None:
            return []
        checks: list[tuple[str, object, object]] = [("rows", summary.row_count, self.rows)]
        if summary.fee_total is None:  # totals of the same quantities as the rows
            checks += [
                ("income rows", summary.income_count, self.income_count),
                ("income total", summary.income_total, self.income_total),
                ("expense rows", summary.expense_count, self.expense_count),
                ("expense total", summary.expense_total, self.expense_total),
            ]
        else:  # gross, refunds and fees: only the net is comparable
            checks.append(("net", summary.net, self.income_total - self.expense_total))
        source = summary.source or "summary"
        return [
            f"{source} says {name} {stated}, the rows make {actual}"
            for name, stated, actual in checks
            if stated is not None and stated != actual
        ]


# -- continuity around the file -------------------------------------------------------------


def _point(row: BillRow, platform: str) -> ChainPoint:
    return ChainPoint(
        row.line,
        row.flow_no,
        row.trade_time,
        to_minor(row.income) - to_minor(row.expense),
        to_minor(row.balance),
        unique_key(row, platform),
    )


def _stored_point(row) -> ChainPoint:
    return ChainPoint(
        row.line,
        row.flow_no,
        row.trade_time,
        row.income - row.expense,
        row.balance,
        row.unique_key,
        row.import_id,
    )


def _neighbour(conn: Connection, platform: str, account_id: int, when: datetime, before: bool):
    """The stored row just before (or after) ``when`` on this account, with a balance."""
    t = bill_rows.c.trade_time
    order = (t.desc(), bill_rows.c.id.desc()) if before else (t, bill_rows.c.id)
    row = conn.execute(
        sa.select(bill_rows)
        .where(
            bill_rows.c.platform == platform,
            bill_rows.c.account_id == account_id,
            bill_rows.c.balance.is_not(None),
            t < when if before else t > when,
        )
        .order_by(*order)
        .limit(1)
    ).first()
    return None if row is None else _stored_point(row)


def _finish_record(
    conn: Connection,
    import_id: int,
    report: ImportReport,
    first: BillRow | None,
    last: BillRow | None,
) -> None:
    if first is not None and last is not None:
        report.first_trade_time, report.last_trade_time = first.trade_time, last.trade_time
        report.first_balance, report.last_balance = first.balance, last.balance
    conn.execute(
        import_batches.update()
        .where(import_batches.c.id == import_id)
        .values(
            rows_total=report.rows_total,
            rows_new=report.rows_new,
            rows_duplicate=report.rows_duplicate,
            rows_rejected=report.rows_rejected,
            continuity_breaks=len(report.breaks),
            first_trade_time=report.first_trade_time,
            last_trade_time=report.last_trade_time,
            first_balance=_minor(report.first_balance),
            last_balance=_minor(report.last_balance),
            status="ok" if report.ok else "warnings",
        )
    )


def _minor(value: Decimal | None) -> int | None:
    return None if value is None else to_minor(value)


__all__ = ["ImportRefused", "ImportReport", "import_file"]
