"""Books (账套) and their 科目, account mapping and rules, in the store (functions over a
connection; :class:`~zhangben.vouchers.service.Vouchers` owns the transactions)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.errors import Conflict, NotFound, ValidationError, VoucherInvalid
from zhangben.core.periods import Month
from zhangben.core.texts import nesting_depth, text_problem
from zhangben.store.tables import accounts
from zhangben.store.voucher_tables import (
    voucher_account_subjects,
    voucher_books,
    voucher_rules,
    voucher_subjects,
)
from zhangben.vouchers import chart as chart_mod
from zhangben.vouchers import rules as rules_mod
from zhangben.vouchers.chart import Subject
from zhangben.vouchers.model import BookHead
from zhangben.vouchers.rules import Rule, parse_rule

PRODUCTS = ("k3cloud_xlsx", "k3cloud_json", "kingdee_dbf", "u8_xml", "generic_xlsx")


@dataclass(frozen=True, slots=True)
class Book:
    id: int
    name: str
    product: str
    standard: str
    shop_code: str | None
    book_code: str
    org_code: str
    voucher_word: str
    currency_code: str
    rate_type: str
    preparer: str
    decimals: int
    rounding_subject: str
    closed_through: str | None
    template_sha256: str | None

    def head(self) -> BookHead:
        return BookHead(name=self.name, product=self.product, book_code=self.book_code,
                        org_code=self.org_code, voucher_word=self.voucher_word,
                        currency_code=self.currency_code, rate_type=self.rate_type,
                        preparer=self.preparer, decimals=self.decimals)  # fmt: skip

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_COLUMNS = [voucher_books.c[f.name] for f in fields(Book)]


def _book(row) -> Book:
    return Book(**row._mapping)


def get_book(conn: Connection, name: str) -> Book:
    row = conn.execute(sa.select(*_COLUMNS).where(voucher_books.c.name == name)).first()
    if row is None:
        raise NotFound(f"book {name!r} does not exist")
    return _book(row)


def list_books(conn: Connection) -> list[Book]:
    return [_book(r) for r in conn.execute(sa.select(*_COLUMNS).order_by(voucher_books.c.id))]


def _text(field: str, value: str, limit: int) -> str:
    problem = text_problem(value, limit)
    if problem:
        raise ValidationError(field, problem)
    return value


def add_book(
    conn: Connection,
    name: str,
    *,
    product: str,
    standard: str = "cas2006",
    shop: str | None = None,
    book_code: str = "",
    org_code: str = "",
    voucher_word: str = "记",
    currency_code: str | None = None,
    rate_type: str = "HLTX01_SYS",
    preparer: str = "",
    decimals: int = 2,
    template: bytes | None = None,
) -> Book:
    """A new book, its 科目 seeded from ``standard`` and its rules from the defaults."""
    from zhangben.vouchers.writers import WRITERS

    if not name.strip():
        raise ValidationError("name", "is blank")
    texts = (("name", name, 64), ("book_code", book_code, 64), ("org_code", org_code, 64),
             ("voucher_word", voucher_word, 16), ("preparer", preparer, 64),
             ("rate_type", rate_type, 32), ("shop", shop or "", 64),
             ("currency_code", currency_code or "", 16))  # fmt: skip
    for field, value, limit in texts:
        _text(field, value, limit)
    if product not in PRODUCTS:
        raise ValidationError("product", f"{product!r} is not one of {', '.join(PRODUCTS)}")
    if standard not in chart_mod.STANDARDS:
        raise ValidationError("standard", f"{standard!r} is not one of cas2006, sbe2013")
    if not 0 <= decimals <= 4:
        raise ValidationError("decimals", "is not between 0 and 4")
    if template is not None and product in WRITERS:
        WRITERS[product].check_template(template)
    exists = conn.execute(sa.select(voucher_books.c.id).where(voucher_books.c.name == name))
    if exists.first() is not None:
        raise Conflict(f"book {name!r} exists already")
    currency = currency_code or {"u8_xml": "人民币", "kingdee_dbf": "RMB"}.get(product, "PRE001")
    book_id = conn.execute(
        voucher_books.insert().returning(voucher_books.c.id),
        dict(
            name=name,
            product=product,
            standard=standard,
            shop_code=shop,
            book_code=book_code,
            org_code=org_code,
            voucher_word=voucher_word,
            currency_code=currency,
            rate_type=rate_type,
            preparer=preparer,
            decimals=decimals,
            rounding_subject=chart_mod.standard_code(chart_mod.ROUNDING_SUBJECT, standard),
            template=template,
            template_sha256=hashlib.sha256(template).hexdigest() if template else None,
            created_at=datetime.now(UTC),
        ),  # fmt: skip
    ).scalar_one()
    put_subjects(conn, book_id, chart_mod.default_chart(standard))
    put_rules(conn, book_id, rules_mod.default_rules(standard))
    return get_book(conn, name)


def set_closed_through(conn: Connection, book: Book, month: str | None) -> Book:
    """The book's own last closed (结账) month in the target system (None: none closed)."""
    value = str(Month.parse(month)) if month else None
    conn.execute(
        voucher_books.update().where(voucher_books.c.id == book.id).values(closed_through=value)
    )
    return get_book(conn, book.name)


# -- 科目 -------------------------------------------------------------------------------------


def subjects(conn: Connection, book_id: int) -> dict[str, Subject]:
    q = sa.select(voucher_subjects).where(voucher_subjects.c.book_id == book_id)
    return {
        r.code: Subject(r.code, r.name, r.parent, r.leaf, r.dc, tuple(r.aux or ()))
        for r in conn.execute(q.order_by(voucher_subjects.c.code))
    }


def put_subjects(conn: Connection, book_id: int, items: list[Subject]) -> None:
    conn.execute(voucher_subjects.delete().where(voucher_subjects.c.book_id == book_id))
    conn.execute(
        voucher_subjects.insert(),
        [
            dict(
                book_id=book_id,
                code=s.code,
                name=s.name,
                parent=s.parent,
                leaf=s.leaf,
                dc=s.dc,
                aux=list(s.aux),
            )
            for s in items
        ],  # fmt: skip
    )


def replace_chart(conn: Connection, book: Book, items: list[Subject]) -> int:
    """The book's 科目 replaced by ``items`` (a product's 科目表). Refused, naming them, when
    the book's rules, account mapping or rounding subject name a code the new chart lacks or
    holds as a parent."""
    by_code = {s.code: s for s in items}
    used = {book.rounding_subject: "the rounding subject"}
    for rule in load_rules(conn, book.id):
        for t in rule.lines:
            if not t.subject.startswith("@"):
                used.setdefault(t.subject, f"rule {rule.name!r}")
    for code, number in _mapped(conn, book.id):
        used.setdefault(code, f"account {number}")
    problems = [
        f"{code} ({who}) is {'not in the chart' if code not in by_code else 'not a leaf'}"
        for code, who in sorted(used.items())
        if code not in by_code or not by_code[code].leaf
    ]
    if problems:
        raise VoucherInvalid(f"chart refused: {'; '.join(problems[:20])}", problems)
    put_subjects(conn, book.id, items)
    return len(items)


def _mapped(conn: Connection, book_id: int):
    m = voucher_account_subjects
    q = sa.select(m.c.subject_code, accounts.c.number).join(
        accounts, accounts.c.id == m.c.account_id
    )
    return conn.execute(q.where(m.c.book_id == book_id)).all()


# -- accounts → 科目 --------------------------------------------------------------------------


def map_account(
    conn: Connection, book: Book, account_number: str, subject: str, aux: dict[str, str]
) -> None:
    account_id = conn.execute(
        sa.select(accounts.c.id).where(accounts.c.number == account_number)
    ).scalar()
    if account_id is None:
        raise NotFound(f"account {account_number} does not exist")
    found = subjects(conn, book.id).get(subject)
    if found is None or not found.leaf:
        raise VoucherInvalid(
            f"科目 {subject} is {'not in book ' + book.name if found is None else 'not a leaf'}"
        )
    m = voucher_account_subjects
    conn.execute(m.delete().where(m.c.book_id == book.id, m.c.account_id == account_id))
    conn.execute(
        m.insert(), dict(book_id=book.id, account_id=account_id, subject_code=subject, aux=aux)
    )


def account_map(conn: Connection, book_id: int) -> dict[int, tuple[str, dict[str, str]]]:
    m = voucher_account_subjects
    q = sa.select(m.c.account_id, m.c.subject_code, m.c.aux).where(m.c.book_id == book_id)
    return {r.account_id: (r.subject_code, dict(r.aux or {})) for r in conn.execute(q)}


# -- rules ------------------------------------------------------------------------------------


def rule_data(conn: Connection, book_id: int) -> list[dict]:
    q = sa.select(voucher_rules.c.data).where(voucher_rules.c.book_id == book_id)
    return [r.data for r in conn.execute(q.order_by(voucher_rules.c.priority))]


def load_rules(conn: Connection, book_id: int) -> list[Rule]:
    return [parse_rule(d, f"rule {i}") for i, d in enumerate(rule_data(conn, book_id), 1)]


def put_rules(conn: Connection, book_id: int, data: list[dict]) -> list[Rule]:
    """The book's rules replaced by ``data`` (checked first: nothing written if one is bad)."""
    if not isinstance(data, list):
        raise VoucherInvalid("rules: a JSON list of rules")
    if nesting_depth(data, 8) > 6:
        raise VoucherInvalid("rules: nested too deep")
    for text in _texts(data):
        problem = text_problem(text, 1000)
        if problem:
            raise VoucherInvalid(f"rules: a text {problem}")
    parsed = [parse_rule(d, f"rule {i}") for i, d in enumerate(data, 1)]
    conn.execute(voucher_rules.delete().where(voucher_rules.c.book_id == book_id))
    if data:
        conn.execute(
            voucher_rules.insert(),
            [dict(book_id=book_id, priority=i, data=d) for i, d in enumerate(data, 1)],
        )
    return parsed


def add_default_rules(conn: Connection, book: Book) -> list[dict]:
    """Append each default rule of the book's standard that its rules do not hold (the same
    data) after them, and return those. The book's own rules keep deciding first (first match
    wins), so a default only takes what none of them takes: a book made before a release that
    brought new defaults (the reconciliation write-offs) gets them without losing its edits."""
    current = rule_data(conn, book.id)
    missing = [d for d in rules_mod.default_rules(book.standard) if d not in current]
    if missing:
        put_rules(conn, book.id, current + missing)
    return missing


def _texts(value):
    """Every key and text inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _texts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _texts(v)
