"""The one import runner for every bill format: validate, dedup, check, post, record.

:func:`import_file` works in two passes over a file, in constant memory:

1. **Validate** — stream the file through its extractor. The first bad row rejects the file
   whole (:class:`BillFormatError` naming line, column and reason; nothing is written) unless
   ``skip_bad_rows``, in which case bad rows are listed in the report and left out. Good rows
   are spooled, a batch at a time, to an anonymous temporary file, so the second pass writes
   exactly what was validated without parsing the file again.
2. **Write** — in ONE write transaction, batch by batch: look the batch's unique keys up in
   ``bill_rows`` (one query), post the new rows as ledger entries with
   :func:`zhangben.core.batch.post_batch`, insert their ``bill_rows``, and run the continuity
   check; then the ``import_batches`` record. Any failure rolls the whole file back.

Order: rows are posted in chronological order. A file whose last row is older than its
first (Alipay downloads are often newest first) is written from its end, so the ledger's
balance-after and the continuity check follow time. A continuity break or a summary
mismatch does not refuse the import: it is a warning in the report (and the record's status
is ``warnings``), because the rows themselves are what the platform says happened.
"""

from __future__ import annotations

import hashlib
import pickle
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.accounts import get_account
from zhangben.core.batch import BatchItem, bulk_insert, post_batch
from zhangben.core.errors import AccountClosed
from zhangben.core.ledger import Ledger
from zhangben.core.money import to_minor
from zhangben.core.records import Account
from zhangben.imports.base import PLATFORMS, ZERO, BillFormatError, BillRow, unique_key
from zhangben.imports.continuity import Break, ChainChecker, ChainPoint, join_break
from zhangben.imports.extraction import Extraction, extract
from zhangben.imports.rules import rule_book
from zhangben.store.engine import run_write
from zhangben.store.imports_tables import bill_rows, import_batches

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
    rows_rejected: int = 0
    entries_written: int = 0
    bad_rows: list[BillFormatError] = field(default_factory=list)
    breaks: list[Break] = field(default_factory=list)
    summary_problems: list[str] = field(default_factory=list)
    first_trade_time: datetime | None = None
    last_trade_time: datetime | None = None
    first_balance: Decimal | None = None
    last_balance: Decimal | None = None
    newest_first: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No skipped rows, no continuity break, no summary mismatch."""
        return not (self.rows_rejected or self.breaks or self.summary_problems)

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
) -> ImportReport:
    """Import one bill file into ``account`` (number or id); see the module doc.

    Raises :class:`BillFormatError` for a rejected file, :class:`ImportRefused` for a file
    that does not belong to the account, and the ledger's errors (account closed,
    insufficient funds under the account's overdraft policy) — in every case having written
    nothing.
    """
    started = time.perf_counter()
    path = Path(path)
    acc = ledger.account(account)
    if not acc.is_open:
        raise AccountClosed(f"account {acc.number} is closed")
    ext = extract(path, format_name)
    fmt = ext.format
    if acc.type in PLATFORMS and acc.type != fmt.platform:
        raise ImportRefused(
            f"{path.name} is a {fmt.name} bill ({fmt.platform}); account {acc.number} is a "
            f"{acc.type} account"
        )
    report = ImportReport(str(path), path.name, _sha256(path), fmt.name, fmt.platform, acc.number)
    with tempfile.TemporaryFile(prefix="zhangben-import-") as spool_file:
        spool = _validate(ext, report, spool_file, skip_bad_rows, batch_size, progress)
        validated = report
        report = run_write(
            ledger.engine,
            lambda conn: _write(conn, ledger, acc, fmt, spool, validated, operator_id, progress),
        )
    report.seconds = time.perf_counter() - started
    return report


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- pass 1: validate and spool -------------------------------------------------------------


@dataclass
class _Spool:
    file: object
    offsets: list[int] = field(default_factory=list)
    first: BillRow | None = None
    last: BillRow | None = None
    count: int = 0

    @property
    def newest_first(self) -> bool:
        return bool(self.first and self.last and self.last.trade_time < self.first.trade_time)

    def batches(self) -> Iterator[list[BillRow]]:
        """The spooled rows in chronological order, a batch at a time."""
        order = reversed(self.offsets) if self.newest_first else self.offsets
        for offset in order:
            self.file.seek(offset)
            batch = pickle.load(self.file)  # noqa: S301 - our own spool, written above
            yield batch[::-1] if self.newest_first else batch


def _tolerant(parse):
    """Wrap Extraction._parse so that a bad row is yielded as its error instead of raised."""

    def parse_or_error(line, cells):
        try:
            return parse(line, cells)
        except BillFormatError as exc:
            return exc

    return parse_or_error


def _validate(
    ext: Extraction, report: ImportReport, file, skip_bad_rows: bool, batch_size: int, progress
) -> _Spool:
    spool = _Spool(file)
    if skip_bad_rows:
        ext._parse = _tolerant(ext._parse)  # the extractor raises at the first bad row
    tally = _Tally()
    batch: list[BillRow] = []
    seen = 0
    for row in ext.rows():
        seen += 1
        if isinstance(row, BillFormatError):
            report.rows_rejected += 1
            if len(report.bad_rows) < MAX_LISTED_BAD_ROWS:
                report.bad_rows.append(row)
            continue
        key = unique_key(row, ext.format.platform)
        if len(key) > MAX_KEY:
            error = BillFormatError(row.line, None, f"flow number is over {MAX_KEY} characters")
            if not skip_bad_rows:
                raise error
            report.rows_rejected += 1
            report.bad_rows.append(error)
            continue
        if spool.first is None:
            spool.first = row
        spool.last = row
        tally.add(row)
        batch.append(row)
        if len(batch) >= batch_size:
            _dump(spool, batch)
            batch = []
        if progress and seen % 1000 == 0:
            progress("read", seen, None)
    if batch:
        _dump(spool, batch)
    report.rows_total = spool.count
    report.newest_first = spool.newest_first
    if progress:
        progress("read", seen, seen)
    report.summary_problems = tally.compare(ext.summary)
    return spool


def _dump(spool: _Spool, batch: list[BillRow]) -> None:
    spool.offsets.append(spool.file.tell())
    pickle.dump(batch, spool.file, protocol=pickle.HIGHEST_PROTOCOL)
    spool.count += len(batch)


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


# -- pass 2: write --------------------------------------------------------------------------


def _point(row: BillRow, key: str, import_id: int | None = None) -> ChainPoint:
    return ChainPoint(
        row.line,
        row.flow_no,
        row.trade_time,
        to_minor(row.income) - to_minor(row.expense),
        to_minor(row.balance),
        key,
        import_id,
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


def _write(
    conn: Connection,
    ledger: Ledger,
    acc: Account,
    fmt,
    spool: _Spool,
    given: ImportReport,
    operator_id: int | None,
    progress,
) -> ImportReport:
    report = ImportReport(**given.__dict__)  # fresh counters on a retried transaction
    report.bad_rows, report.summary_problems = list(given.bad_rows), list(given.summary_problems)
    report.breaks = []
    acc = get_account(conn, acc.id)
    platform = report.platform
    now = datetime.now(UTC)
    import_id = conn.execute(
        import_batches.insert()
        .values(
            account_id=acc.id,
            filename=report.filename[:255],
            file_sha256=report.sha256,
            format=report.format,
            platform=platform,
            operator_id=operator_id,
            created_at=now,
        )
        .returning(import_batches.c.id)
    ).scalar_one()
    report.import_id = import_id
    book = rule_book(conn, platform)
    checker = ChainChecker() if fmt.has_balance else None
    first = last = None
    written = 0
    for batch in spool.batches():
        keys = [unique_key(r, platform) for r in batch]
        if checker is not None:
            points = [_point(r, k) for r, k in zip(batch, keys, strict=True)]
            if first is None and points:
                first = points[0]
                stored = _neighbour(conn, platform, acc.id, first.trade_time, before=True)
                report.breaks.extend(b for b in [join_break(stored, first)] if b)
            for p in points:
                checker.feed(p)
            last = points[-1] if points else last
        fresh = _new_rows(conn, platform, acc.id, batch, keys)
        report.rows_duplicate += len(batch) - len(fresh)
        report.rows_new += len(fresh)
        items = [_item(acc, platform, row, key, book, operator_id) for row, key in fresh]
        posted = [i for i, item in enumerate(items) if item is not None]
        result = post_batch(conn, [items[i] for i in posted], ledger.tz, now=now)
        entry_of = dict(zip(posted, result.entry_ids, strict=True))
        report.entries_written += result.written
        bulk_insert(
            conn,
            bill_rows,
            [
                _bill_row(row, key, platform, acc.id, import_id, entry_of.get(i), now)
                for i, (row, key) in enumerate(fresh)
            ],
        )
        written += len(batch)
        if progress:
            progress("write", written, spool.count)
    if checker is not None:
        report.breaks.extend(checker.finish())
        if last is not None:
            stored = _neighbour(conn, platform, acc.id, last.trade_time, before=False)
            if stored is not None and stored.import_id != import_id:
                report.breaks.extend(b for b in [join_break(last, stored)] if b)
    _finish_record(conn, import_id, report, spool)
    return report


def _new_rows(conn, platform, account_id, batch, keys) -> list[tuple[BillRow, str]]:
    """The batch's rows not stored yet (nor repeated earlier in the batch)."""
    wanted = list(set(keys))
    if conn.dialect.name == "postgresql":
        # one index probe per key: a plain IN list over a table growing inside this
        # transaction (no statistics yet) is planned as a scan of the account's rows
        query = sa.text(
            "SELECT b.unique_key FROM unnest(CAST(:keys AS text[])) AS k(key) "
            "JOIN bill_rows b ON b.platform = :platform AND b.account_id = :account "
            "AND b.unique_key = k.key"
        ).bindparams(keys=wanted, platform=platform, account=account_id)
    else:
        query = sa.select(bill_rows.c.unique_key).where(
            bill_rows.c.platform == platform,
            bill_rows.c.account_id == account_id,
            bill_rows.c.unique_key.in_(wanted),
        )
    known = set(conn.execute(query).scalars())
    fresh = []
    for row, key in zip(batch, keys, strict=True):
        if key not in known:
            known.add(key)
            fresh.append((row, key))
    return fresh


def _item(acc: Account, platform: str, row: BillRow, key: str, book, operator_id):
    """The ledger entry of a row; None for a row that moves no money."""
    net = to_minor(row.income) - to_minor(row.expense)
    if net == 0:
        return None
    kind = "income" if net > 0 else "expense"
    category_id, subject_id = book.classify(row.business_type, kind)
    remark = " ".join(
        part for part in (row.remark, f"订单号:{row.order_no}" if row.order_no else None) if part
    )
    label = PLATFORM_LABELS.get(platform, platform)
    return BatchItem(
        account=acc.id,
        delta=net,
        type=kind,
        category_id=category_id,
        subject_id=subject_id,
        counterparty=(row.counterparty or None) and row.counterparty[:64],
        description=f"{label} {row.business_type}" if row.business_type else label,
        remark=remark,
        source=platform,
        external_id=row.flow_no or key,
        trade_time=row.trade_time,
        platform_balance=None if row.balance is None else to_minor(row.balance),
        idempotency_key=f"import:{platform}:{acc.id}:{key}",
        operator_id=operator_id,
    )


def _cut(value: str | None, size: int) -> str | None:
    return value[:size] if value else None


def _bill_row(row: BillRow, key, platform, account_id, import_id, entry_id, now) -> dict:
    extra = row.extra
    ref = extra.get("plan_id") or extra.get("merchant_id")
    return dict(
        platform=platform,
        account_id=account_id,
        unique_key=key,
        import_id=import_id,
        entry_id=entry_id,
        line=row.line,
        flow_no=row.flow_no,
        trade_time=row.trade_time,
        income=to_minor(row.income),
        expense=to_minor(row.expense),
        balance=None if row.balance is None else to_minor(row.balance),
        counterparty=_cut(row.counterparty, 128),
        order_no=_cut(row.order_no, 128),
        business_type=_cut(row.business_type, 64),
        remark=row.remark,
        platform_account=_cut(extra.get("account"), 64),
        ref_id=_cut(ref, 64),
        bill_date=extra.get("bill_date") or extra.get("launch_date"),
        raw=row.raw,
        imported_at=now,
        updated_at=now,
    )


def _finish_record(conn: Connection, import_id: int, report: ImportReport, spool: _Spool):
    rows = [spool.first, spool.last] if not spool.newest_first else [spool.last, spool.first]
    first, last = rows
    if first is not None:
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
