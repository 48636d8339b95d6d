"""The vouchers facade (vouchers.md): books, their 科目, mapping and rules; batches generated,
exported and voided; a flow tested against the rules. Each method is one transaction, as
``Ledger``, ``Imports`` and ``Periods``; records out, ``LedgerError`` subclasses for refusals.

Which period: a batch is made for a month that is OPEN in the book (its ``closed_through``, the
accountant's 结账 in the target system, which refuses vouchers dated in a closed period). The
ledger's own month may be open or closed (月结): a closed month is the usual case and what the
vouchers should follow, but a flow that arrives later (a late import, a reversal dated in the
month) is simply in no live voucher yet, and the next batch of the month carries it; each batch
records whether the ledger's month was closed when it was made."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core import periods as core_periods
from zhangben.core.errors import NotFound, VoucherInvalid, VoucherState
from zhangben.core.ledger import Ledger
from zhangben.core.periods import Month
from zhangben.store.engine import read_transaction, run_write, serialize
from zhangben.store.voucher_tables import (
    voucher_batches,
    voucher_books,
    voucher_recon_sources,
    voucher_sources,
)
from zhangben.vouchers import books as books_mod
from zhangben.vouchers import generate as gen
from zhangben.vouchers.books import Book
from zhangben.vouchers.chart import Subject, read_chart
from zhangben.vouchers.model import Voucher


@dataclass(frozen=True, slots=True)
class Batch:
    id: int
    book: str
    month: str
    state: str  # draft | exported | void
    vouchers: int
    flows: int
    differences: int  # reconciliation differences written off, or red (their undo)
    rounding: int  # Σ |rounding lines|, the book's minor units
    ledger_closed: bool
    file_sha256: str | None
    created_by: str
    created_at: datetime
    exported_at: datetime | None

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Generated:
    """A batch made (``batch`` None for a preview) and its vouchers; ``rounding`` lists
    (voucher number, residual) of the vouchers with a rounding line; ``problems`` what would
    refuse the batch (a preview only: a batch with problems is never made)."""

    batch: Batch | None
    vouchers: list[Voucher]
    rounding: list[tuple[int, int]]
    problems: list[str]
    unmapped: dict[str, int]  # "platform/business type" → how many flows no rule takes
    flows: int
    unmapped_totals: dict[str, int] = field(default_factory=dict)  # → Σ, ledger minor units
    differences: int = 0  # reconciliation differences written off (or red, their undo)


@dataclass(frozen=True, slots=True)
class FlowTest:
    entry_id: int
    rule: str | None  # None: no rule matches
    kind: str  # the flow's business type
    voucher: Voucher | None
    vouchered_in: int | None  # the live batch the flow is in


@dataclass(frozen=True, slots=True)
class BatchFile:
    content: bytes
    filename: str
    media_type: str
    sha256: str


_DIFFERENCES = (
    sa.select(sa.func.count())
    .where(voucher_recon_sources.c.batch_id == voucher_batches.c.id)
    .scalar_subquery()
)
#: A batch's row, its book's name and how many reconciliation differences it holds.
_BATCH_SELECT = sa.select(
    *[voucher_batches.c[f.name] for f in fields(Batch) if f.name not in ("book", "differences")],
    voucher_books.c.name.label("book"),
    _DIFFERENCES.label("differences"),
).join(voucher_books, voucher_books.c.id == voucher_batches.c.book_id)


def _batch(row) -> Batch:
    m = row._mapping
    return Batch(**{f.name: m[f.name] for f in fields(Batch)})


class Vouchers:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._engine = ledger.engine

    def _read(self, work):
        with read_transaction(self._engine) as conn:
            return work(conn)

    def _write(self, work):
        return run_write(self._engine, work)

    # -- books ----------------------------------------------------------------------------

    def add_book(self, name: str, **kw) -> Book:
        """A book for ``product`` (``standard``, ``shop``, codes, word, currency, ``template``
        bytes): its 科目 from the standard, its rules the defaults."""
        return self._write(lambda c: books_mod.add_book(c, name, **kw))

    def book(self, name: str) -> Book:
        return self._read(lambda c: books_mod.get_book(c, name))

    def books(self) -> list[Book]:
        return self._read(books_mod.list_books)

    def close_book_period(self, name: str, month: str | None) -> Book:
        """Record the book's own 结账 through ``month`` (None: reopened)."""
        return self._write(
            lambda c: books_mod.set_closed_through(c, books_mod.get_book(c, name), month)
        )

    def subjects(self, name: str) -> list[Subject]:
        return self._read(
            lambda c: list(books_mod.subjects(c, books_mod.get_book(c, name).id).values())
        )

    def import_chart(
        self, name: str, source: str | Path | bytes, filename: str | None = None
    ) -> int:
        """Replace the book's 科目 by a product's 科目表 export; returns how many."""
        items = read_chart(source, filename)
        return self._write(lambda c: books_mod.replace_chart(c, books_mod.get_book(c, name), items))

    def map_account(self, name: str, account: str, subject: str, aux: dict | None = None) -> None:
        self._write(
            lambda c: books_mod.map_account(
                c, books_mod.get_book(c, name), account, subject, aux or {}
            )
        )

    def rules(self, name: str) -> list[dict]:
        return self._read(lambda c: books_mod.rule_data(c, books_mod.get_book(c, name).id))

    def set_rules(self, name: str, rules: list[dict]) -> int:
        """Replace the book's rules (every rule checked first)."""
        return len(
            self._write(lambda c: books_mod.put_rules(c, books_mod.get_book(c, name).id, rules))
        )

    def add_default_rules(self, name: str) -> list[dict]:
        """The default rules the book lacked, now appended after its own (none: it had them)."""
        return self._write(lambda c: books_mod.add_default_rules(c, books_mod.get_book(c, name)))

    # -- generating -------------------------------------------------------------------------

    def preview(self, name: str, month: str) -> Generated:
        """What :meth:`generate` would make, with the problems that would refuse it; nothing
        is written."""

        def work(conn):
            book = books_mod.get_book(conn, name)
            month_ = str(Month.parse(month))
            p = gen.plan(conn, book, month_, self.ledger.tz,
                         number_from=gen.next_number(conn, book, month_))  # fmt: skip
            return Generated(None, p.vouchers, p.rounding, p.problems, p.unmapped, p.flows,
                             p.unmapped_totals, p.differences)  # fmt: skip

        return self._read(work)

    def generate(self, name: str, month: str, *, actor: str = "") -> Generated:
        """A draft batch of every flow of ``month`` in no live voucher, and of the month's
        reconciliation differences written off (and the red ones of matches undone after
        export: :func:`generate.writeoffs`). A draft of the month is replaced (voided); after
        an exported batch, only the flows since go into the new one, numbered on; with none
        left the month is already vouchered."""

        def work(conn: Connection) -> Generated:
            book = books_mod.get_book(conn, name)
            month_ = str(Month.parse(month))
            if book.closed_through and month_ <= book.closed_through:
                raise VoucherState(
                    f"period {month_} of book {book.name} is closed (结账 through "
                    f"{book.closed_through}): the book takes no voucher dated in it"
                )
            serialize(conn, f"zb_vouchers:{book.id}")
            drafts = self._batches(conn, book, month_, ("draft",))
            for b in drafts:
                self._void(conn, b.id)
            p = gen.plan(conn, book, month_, self.ledger.tz,
                         number_from=gen.next_number(conn, book, month_))  # fmt: skip
            gen.check(p)
            if not p.vouchers:
                done = self._batches(conn, book, month_, ("exported",))
                if done:
                    raise VoucherState(
                        f"period {month_} of book {book.name} is already vouchered "
                        f"(batch {', '.join(str(b.id) for b in done)}, exported): "
                        "no flow is left to voucher"
                    )
                raise VoucherState(
                    f"no flow of {month_} left to voucher in book {book.name}: none of its "
                    "accounts' flows of the month is outside a live voucher (of any book)"
                )
            batch_id = gen.write(
                conn, p, actor=actor or "", ledger_closed=self._closed(conn, book, month_)
            )
            batch = self._get_batch(conn, batch_id)
            return Generated(batch, p.vouchers, p.rounding, [], {}, p.flows, {}, p.differences)

        try:
            return self._write(work)
        except sa.exc.IntegrityError:
            raise VoucherState(
                f"flows of {month} went into another batch of book {name} meanwhile; generate again"
            ) from None

    def _closed(self, conn: Connection, book: Book, month: str) -> bool:
        through = core_periods.closed_through(conn)
        scopes = [through.get(None)] + ([through.get(book.shop_code)] if book.shop_code else [])
        return any(s is not None and s >= month for s in scopes)

    def test_flow(self, name: str, entry_id: int) -> FlowTest:
        """Which rule takes flow ``entry_id`` and the voucher it alone would make."""

        def work(conn):
            book = books_mod.get_book(conn, name)
            live = conn.execute(
                sa.select(voucher_sources.c.batch_id).where(
                    voucher_sources.c.entry_id == entry_id, voucher_sources.c.live
                )
            ).scalar()
            query = gen.flows_query(book, None, None, [entry_id], include_live=True)
            row = conn.execute(query).first()
            if row is None:
                raise NotFound(f"entry {entry_id} does not exist in book {book.name}")
            flow = gen.to_flow(row, self.ledger.tz)
            rules = books_mod.load_rules(conn, book.id)
            i = gen.classify(rules, flow)
            if i is None:
                return FlowTest(entry_id, None, flow.kind, None, live)
            p = gen.plan(conn, book, f"{flow.day:%Y-%m}", self.ledger.tz, entry_ids=[entry_id],
                         include_live=True)  # fmt: skip
            return FlowTest(entry_id, rules[i].name, flow.kind, p.vouchers[0], live)

        return self._read(work)

    # -- batches ----------------------------------------------------------------------------

    def _batches(self, conn, book: Book | None, month: str | None, states=None) -> list[Batch]:
        q = _BATCH_SELECT
        if book is not None:
            q = q.where(voucher_batches.c.book_id == book.id)
        if month is not None:
            q = q.where(voucher_batches.c.month == month)
        if states:
            q = q.where(voucher_batches.c.state.in_(states))
        return [_batch(r) for r in conn.execute(q.order_by(voucher_batches.c.id))]

    def _get_batch(self, conn, batch_id: int) -> Batch:
        row = conn.execute(_BATCH_SELECT.where(voucher_batches.c.id == batch_id)).first()
        if row is None:
            raise NotFound(f"voucher batch {batch_id} does not exist")
        return _batch(row)

    def batches(self, name: str | None = None, month: str | None = None) -> list[Batch]:
        def work(conn):
            book = books_mod.get_book(conn, name) if name else None
            return self._batches(conn, book, str(Month.parse(month)) if month else None)

        return self._read(work)

    def batch(self, batch_id: int) -> tuple[Batch, list[Voucher]]:
        def work(conn):
            b = self._get_batch(conn, batch_id)
            m = Month.parse(b.month)
            return b, gen.load_vouchers(conn, batch_id, m.year, m.month)

        return self._read(work)

    def void(self, batch_id: int) -> Batch:
        """Void a draft: its flows are free again. An exported batch is never changed."""

        def work(conn):
            b = self._get_batch(conn, batch_id)
            if b.state != "draft":
                raise VoucherState(f"voucher batch {batch_id} is {b.state}: only a draft is voided")
            self._void(conn, batch_id)
            return self._get_batch(conn, batch_id)

        return self._write(work)

    def _void(self, conn, batch_id: int) -> None:
        conn.execute(voucher_sources.update().where(voucher_sources.c.batch_id == batch_id)
                     .values(live=False))  # fmt: skip
        rs = voucher_recon_sources
        conn.execute(rs.update().where(rs.c.batch_id == batch_id).values(live=False))
        conn.execute(voucher_batches.update().where(voucher_batches.c.id == batch_id)
                     .values(state="void"))  # fmt: skip

    def export(self, batch_id: int, *, product: str | None = None) -> BatchFile:
        """The batch as the book's product's import file (or ``product``'s, with its shipped
        template). The book's own file marks a draft exported: from then on it is never
        edited, and a flow reversed later gets a red voucher in a later batch."""
        from zhangben.vouchers.writers import WRITERS

        def work(conn):
            b = self._get_batch(conn, batch_id)
            if b.state == "void":
                raise VoucherState(f"voucher batch {batch_id} is void")
            book = books_mod.get_book(conn, b.book)
            target = product or book.product
            writer = WRITERS.get(target)
            if writer is None:
                raise VoucherInvalid(
                    f"no writer for product {target!r} (have: {', '.join(sorted(WRITERS))})"
                )
            template = _template(conn, book) if target == book.product else None
            m = Month.parse(b.month)
            content = writer.write(
                book.head(), gen.load_vouchers(conn, batch_id, m.year, m.month), template
            )
            sha = hashlib.sha256(content).hexdigest()
            if target == book.product and b.state == "draft":
                conn.execute(voucher_batches.update().where(voucher_batches.c.id == batch_id)
                             .values(state="exported", file_sha256=sha,
                                     exported_at=datetime.now(UTC)))  # fmt: skip
            filename = f"凭证-{book.name}-{b.month}-{batch_id}{writer.suffix}"
            return BatchFile(content, filename, writer.media_type, sha)

        return self._write(work)


def _template(conn, book: Book) -> bytes | None:
    q = sa.select(voucher_books.c.template).where(voucher_books.c.id == book.id)
    return conn.execute(q).scalar()
