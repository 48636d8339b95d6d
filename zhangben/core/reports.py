"""Reports over business days: opening, income, expense, closing and entry counts, grouped by
any of day or month, shop, account, account type, platform, category and subject; and the
balances of many accounts as of a day or an instant.

Every figure comes from the daily and monthly summaries plus the entries not folded yet
(:mod:`zhangben.core.summaries`), in one statement: exact, and as cheap for two years as for
a day. Income is the sum of an account's inflows (positive amounts), expense the sum of its
outflows, whatever the entry's type: a reversal of an income is an outflow on the reversal's
own trade day, under its own category (冲正). A transfer between two accounts of the group is
an inflow and an outflow of it.

Opening and closing are balances, which belong to accounts: they are given for groupings of
accounts (day, month, shop, account, type, platform) and left out (None) when the grouping
has a category or a subject. The totals (one per currency) always have them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from zhangben.core import summaries
from zhangben.core.errors import ValidationError
from zhangben.core.money import MAX_BALANCE_MINOR, from_minor
from zhangben.core.queries import chart_names
from zhangben.store.summary_tables import daily_summaries, monthly_summaries
from zhangben.store.tables import accounts

GROUPINGS = ("day", "month", "shop", "account", "type", "platform", "category", "subject")
TIME = ("day", "month")
#: groupings whose groups are not sets of accounts: no opening or closing balance
FLOWS_ONLY = ("category", "subject")
#: the bill platforms; an account of one of these types is that platform's (channel's) account
#: (the same list as zhangben.imports.rows.PLATFORMS, which the core may not import)
PLATFORMS = ("alipay", "wechat", "wechat_shop", "jd_wallet", "jzt")
#: the most rows a report answers with
MAX_ROWS = 100_000
MIN_YEAR, MAX_YEAR = 1900, 9998


@dataclass(frozen=True, slots=True)
class Scope:
    """Which accounts a report or a balance list covers (None: no filter on that)."""

    shop_codes: Sequence[str] | None = None
    numbers: Sequence[str] | None = None
    types: Sequence[str] | None = None
    owner_user_id: int | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One group's figures. Only the attributes of the report's groupings are set (and a
    grouping's value may itself be None: accounts without a shop, entries without a
    category). ``opening`` and ``closing`` are None where the grouping has no balance."""

    currency: str
    income: Decimal
    expense: Decimal
    entries: int
    opening: Decimal | None = None
    closing: Decimal | None = None
    day: date | None = None
    month: str | None = None  # YYYY-MM
    shop: str | None = None
    account: str | None = None
    account_name: str | None = None
    type: str | None = None
    platform: str | None = None
    category_id: int | None = None
    category_name: str | None = None
    subject_id: int | None = None
    subject_name: str | None = None

    @property
    def net(self) -> Decimal:
        return self.income - self.expense


@dataclass(frozen=True, slots=True)
class Report:
    start: date
    end: date  # included
    group_by: tuple[str, ...]
    time_zone: str
    rows: list[ReportRow] = field(default_factory=list)
    #: per currency, over every account of the scope: opening at the start, closing at the end
    totals: list[ReportRow] = field(default_factory=list)
    #: asked for without balances (``report(..., flows_only=True)``): no opening or closing
    #: anywhere, the totals' included
    flows_only: bool = False

    @property
    def balances(self) -> bool:
        """Whether the rows carry opening and closing balances."""
        return not self.flows_only and not set(self.group_by) & set(FLOWS_ONLY)


# -- input: months, days, ranges, groupings ----------------------------------------------------


def parse_month(text: str, field: str = "month") -> date:
    """``2026-10`` → 2026-10-01; anything else (``2026-13``, ``2026-1``, ``Oct``) is refused."""
    value = (text or "").strip()
    try:
        if len(value) != 7 or value[4] != "-":
            raise ValueError
        month = date(int(value[:4]), int(value[5:]), 1)
    except ValueError:
        raise ValidationError(field, f"{text!r} is not a month like 2026-10") from None
    _in_years(month, field)
    return month


def parse_day(text: str, field: str = "day") -> date:
    """``2026-10-31`` → a date; anything else is refused."""
    value = (text or "").strip()
    try:
        if len(value) != 10:
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, f"{text!r} is not a day like 2026-10-31") from None
    _in_years(day, field)
    return day


def _in_years(day: date, field: str) -> None:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValidationError(field, f"the year must be between {MIN_YEAR} and {MAX_YEAR}")


def month_end(month: date) -> date:
    return summaries.next_month(month) - timedelta(days=1)


def check_range(start: date, end: date, field: str = "to") -> None:
    _in_years(start, "from")
    _in_years(end, field)
    if end < start:
        raise ValidationError(
            field, f"the range ends ({end.isoformat()}) before it starts ({start.isoformat()})"
        )


def parse_group_by(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """Groupings from ``day,shop`` or ``["day", "shop"]``: known names, each once, at most
    one of day and month."""
    if values is None:
        return ()
    items = [values] if isinstance(values, str) else list(values)
    names = [n.strip() for item in items for n in str(item).split(",") if n.strip()]
    unknown = [n for n in names if n not in GROUPINGS]
    if unknown:
        raise ValidationError(
            "group_by", f"unknown grouping {unknown[0]!r}: use {', '.join(GROUPINGS)}"
        )
    if len(set(names)) != len(names):
        raise ValidationError("group_by", "each grouping may be given once")
    if "day" in names and "month" in names:
        raise ValidationError("group_by", "group by day or by month, not both")
    return tuple(names)


# -- the report --------------------------------------------------------------------------------

#: the columns of a report statement's rows, in order
_OUT = ("part", "period", "shop", "account", "account_name", "type", "platform", "category",
        "subject", "currency", "n", "ihi", "ilo", "ehi", "elo")  # fmt: skip


def report(
    conn: Connection,
    zone: str,
    start: date,
    end: date,
    group_by: Sequence[str],
    scope: Scope = Scope(),  # noqa: B008 - frozen dataclass, safe default
    *,
    flows_only: bool = False,
) -> Report:
    """The figures of the business days ``start``..``end`` (both included) by ``group_by``
    (validated with :func:`parse_group_by` first). ``flows_only``: income, expense and counts
    alone, no opening or closing balance: the statement then reads only the range's summary
    rows, not every monthly row before it (what a balance costs)."""
    dims = parse_group_by(group_by)
    check_range(start, end)
    time = next((d for d in dims if d in TIME), None)
    rest = [d for d in dims if d not in TIME]
    balances = not flows_only and not set(dims) & set(FLOWS_ONLY)
    periods = _periods(start, end, time) if time else []
    if time and not rest and len(periods) > MAX_ROWS:
        raise _too_many()
    balance_dims = tuple(rest) if balances else ()
    layout, params = _layout(start, end, time)
    opening = None if flows_only else _opening_side(conn, start)
    shape = (conn.dialect.name, time, dims, balance_dims, _scope_keys(scope), layout, opening)
    params.update(_scope_params(scope), zb_zone=zone, zb_watermark=summaries.watermark(conn))
    if opening == "after":
        params["zb_after_month"] = summaries.next_month(summaries.month_of(start))
    result = _run(conn, shape, params)

    flows: dict[tuple, list[int]] = {}
    base: dict[tuple, int] = {}
    account_names: dict[str, str] = {}
    for row in result:
        values = dict(zip(_OUT, row, strict=True))
        if values["account"] is not None:
            account_names[values["account"]] = values["account_name"]
        income = summaries.amount(values["ihi"], values["ilo"])
        expense = summaries.amount(values["ehi"], values["elo"])
        if values["part"] == "o":
            key = (*_entity(values, rest if balances else ()), values["currency"])
            base[key] = base.get(key, 0) + income - expense
        else:
            key = (*_entity(values, rest), values["currency"])
            flows[(key, _when(values["period"], time))] = [int(values["n"]), income, expense]
    if len(flows) > MAX_ROWS:
        raise _too_many()

    names = chart_names(conn)
    rows = _rows(flows, base, time, rest, balances, periods)
    built = [_row(key, when, figures, time, rest, account_names, names) for key, when, figures
             in rows]  # fmt: skip
    built.sort(key=lambda r: _order(r, dims))
    totals = _totals(flows, base, with_opening=not flows_only)
    return Report(start, end, dims, zone, built, totals, flows_only)


def _opening_side(conn: Connection, start: date) -> str:
    """How the opening balance of ``start`` is read, both exact: ``"before"``, the flows of
    every day before it (the monthly rows of the months before, the daily rows of its month
    before it); or ``"after"``, the accounts' balances (what every entry adds up to, in the
    same snapshot) less the flows of ``start`` and every day after it. The side with fewer
    months of summaries is read: a report of a recent month does not read the ledger's
    years before it."""
    column = monthly_summaries.c.month
    # each bound its own subquery: SQLite answers a lone min() or max() from the index, but
    # both in one SELECT by reading every row
    first, last = conn.execute(
        sa.select(
            sa.select(sa.func.min(column)).scalar_subquery(),
            sa.select(sa.func.max(column)).scalar_subquery(),
        )
    ).one()
    if first is None:
        return "before"
    month = summaries.month_of(start)
    first, last = _when(first, "month"), _when(last, "month")
    before = (month.year - first.year) * 12 + month.month - first.month
    after = (last.year - month.year) * 12 + last.month - month.month + 1
    return "after" if after < before else "before"


def _too_many() -> ValidationError:
    return ValidationError(
        "group_by", f"the report has more than {MAX_ROWS:,} rows: narrow the range or the grouping"
    )


def _periods(start: date, end: date, time: str) -> list[date]:
    out = []
    if time == "day":
        day = start
        while day <= end:
            out.append(day)
            day += timedelta(days=1)
        return out
    month = summaries.month_of(start)
    while month <= end:
        out.append(month)
        month = summaries.next_month(month)
    return out


# -- the statement: one per shape (groupings, scope, which parts), built once, values bound --

_SCOPE = (  # Scope field, accounts column, bind parameter, a list?
    ("shop_codes", accounts.c.shop_code, "zb_shops", True),
    ("numbers", accounts.c.number, "zb_numbers", True),
    ("types", accounts.c.type, "zb_types", True),
    ("owner_user_id", accounts.c.owner_user_id, "zb_owner", False),
    ("status", accounts.c.status, "zb_status", False),
)


def _scope_keys(scope: Scope) -> tuple[str, ...]:
    return tuple(f for f, *_ in _SCOPE if getattr(scope, f) is not None)


def _scope_params(scope: Scope) -> dict:
    out = {}
    for f, _, name, many in _SCOPE:
        value = getattr(scope, f)
        if value is not None:
            out[name] = list(value) if many else value
    return out


def _scope_ids(keys: tuple[str, ...], dialect: str) -> sa.Select | None:
    """SELECT accounts.id of the scope, its values bound (None: every account)."""
    if not keys:
        return None
    query = sa.select(accounts.c.id)
    for f, column, name, many in _SCOPE:
        if f not in keys:
            continue
        if not many:
            query = query.where(column == sa.bindparam(name, None))
        elif dialect == "postgresql":  # an array parameter: one statement text for any list
            query = query.where(column == sa.any_(sa.bindparam(name, None, type_=ARRAY(sa.String))))
        else:
            query = query.where(column.in_(sa.bindparam(name, expanding=True)))
    return query


def _layout(start: date, end: date, time: str | None) -> tuple[tuple, dict]:
    """Which parts the range needs and their bounds: by day, the daily rows; otherwise the
    daily rows of a partial first month, the monthly rows of the whole months, the daily rows
    of a partial last month. The opening needs daily rows when the range starts mid-month."""
    m0, m1 = summaries.month_of(start), summaries.month_of(end)
    params = {"zb_start": start, "zb_end": end, "zb_start_month": m0}
    opening_days = start > m0
    if time == "day":
        return ("day", opening_days), params
    first_partial = start > m0 or end < month_end(m0)
    last_partial = m1 > m0 and end < month_end(m1)
    whole_from = summaries.next_month(m0) if first_partial else m0
    whole_to = (m1 - timedelta(days=1)).replace(day=1) if last_partial else m1
    params.update(
        zb_first_to=min(end, month_end(m0)),
        zb_whole_from=whole_from,
        zb_whole_to=whole_to,
        zb_last_from=m1,
    )
    return (first_partial, whole_from <= whole_to, last_partial, opening_days), params


def _bind(name: str, type_=sa.Date):
    return sa.bindparam(name, None, type_=type_)  # a value per execution (None: not required)


@lru_cache(maxsize=256)
def _statement(shape: tuple) -> sa.CompoundSelect | sa.Select:
    """The flows (grouped by every dimension) and the opening balances (grouped by the
    balance dimensions) of one report, as one statement: one snapshot, one round trip."""
    dialect, time, dims, balance_dims, scope_keys, layout, opening_side = shape
    src = summaries.Sources(
        _bind("zb_zone", sa.String),
        dialect,
        _bind("zb_watermark", sa.BigInteger),
        _scope_ids(scope_keys, dialect),
    )
    d, m = daily_summaries.c, monthly_summaries.c
    start, end, start_month = _bind("zb_start"), _bind("zb_end"), _bind("zb_start_month")

    def label(value):
        return value if time == "month" else None

    if time == "day":
        parts = [src.summary(daily_summaries, d.day, d.day >= start, d.day <= end)]
    else:
        first_partial, whole, last_partial, _ = layout
        parts = []
        if first_partial:
            parts.append(
                src.summary(
                    daily_summaries,
                    label(start_month),
                    d.day >= start,
                    d.day <= _bind("zb_first_to"),
                )  # fmt: skip
            )
        if whole:
            parts.append(
                src.summary(
                    monthly_summaries,
                    label(m.month),
                    m.month >= _bind("zb_whole_from"),
                    m.month <= _bind("zb_whole_to"),
                )  # fmt: skip
            )
        if last_partial:
            last_from = _bind("zb_last_from")
            parts.append(
                src.summary(daily_summaries, label(last_from), d.day >= last_from, d.day <= end)
            )
    day = src.day()
    parts.append(src.tail(time, day >= start, day <= end))
    flow_part = _grouped("f", summaries.union(parts, "flows"), dims)
    # the flows at most MAX_ROWS + 1 (a member of a UNION ALL with a LIMIT is a subquery:
    # SQLite allows no parentheses around a member)
    limited = sa.select(sa.select(flow_part.subquery("f")).limit(MAX_ROWS + 1).subquery("fl"))
    if opening_side is None:  # flows only
        return limited
    if opening_side == "before":
        opening = [src.summary(monthly_summaries, None, m.month < start_month)]
        if layout[-1]:
            opening.append(src.summary(daily_summaries, None, d.day >= start_month, d.day < start))
        opening.append(src.tail(None, day < start))
    else:  # the balances, less every flow from the start on
        after_month = _bind("zb_after_month")
        opening = [src.balances()]
        if layout[-1]:  # the start's month from the start (from its daily rows) …
            opening.append(
                src.summary(daily_summaries, None, d.day >= start, d.day < after_month, minus=True)
            )
        # … and every month after (all of the start's month when it starts on the 1st)
        from_month = after_month if layout[-1] else start_month
        opening.append(src.summary(monthly_summaries, None, m.month >= from_month, minus=True))
        opening.append(src.tail(None, day >= start, minus=True))

    opening_part = _grouped("o", summaries.union(opening, "opening"), balance_dims)
    return sa.union_all(limited, opening_part)


_TEXTS: dict[tuple, tuple[str, dict]] = {}


def _run(conn: Connection, shape: tuple, params: dict) -> list[tuple]:
    """The statement of ``shape`` with ``params``. On PostgreSQL its SQL, compiled once per
    shape, runs on the driver (every parameter a scalar or an array): SQLAlchemy's cache key of
    a statement this size costs more than the query on a small report."""
    statement = _statement(shape)
    if conn.dialect.name != "postgresql":
        return [tuple(r) for r in conn.execute(statement, params)]
    found = _TEXTS.get(shape)
    if found is None:
        compiled = statement.compile(
            dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
        )
        # the statement's own literals (0, 10⁹, 'f', …) are parameters too, with their values
        found = _TEXTS.setdefault(shape, (str(compiled), dict(compiled.params)))
    text, literals = found
    return conn.connection.driver_connection.execute(text, {**literals, **params}).fetchall()


def _scope(query: sa.Select, scope: Scope) -> sa.Select:
    if scope.shop_codes is not None:
        query = query.where(accounts.c.shop_code.in_(list(scope.shop_codes)))
    if scope.numbers is not None:
        query = query.where(accounts.c.number.in_(list(scope.numbers)))
    if scope.types is not None:
        query = query.where(accounts.c.type.in_(list(scope.types)))
    if scope.owner_user_id is not None:
        query = query.where(accounts.c.owner_user_id == scope.owner_user_id)
    if scope.status is not None:
        query = query.where(accounts.c.status == scope.status)
    return query


def _grouped(part: str, rows: sa.Subquery, dims: Sequence[str]) -> sa.Select:
    """``rows`` summed by ``dims`` (and currency), in the columns of :data:`_OUT`."""
    a = accounts.c
    platform = sa.case((a.type.in_(PLATFORMS), a.type), else_=sa.null())
    exprs = {
        "period": (rows.c.period, sa.Date),
        "shop": (a.shop_code, sa.String),
        "account": (a.number, sa.String),
        "account_name": (a.name, sa.String),
        "type": (a.type, sa.String),
        "platform": (platform, sa.String),
        "category": (rows.c.category_id, sa.Integer),
        "subject": (rows.c.subject_id, sa.Integer),
    }
    wanted = {"period" if d in TIME else d for d in dims}
    if "account" in wanted:
        wanted.add("account_name")
    columns, group = [sa.literal(part, sa.String).label("part")], []
    for name in _OUT[1:9]:
        expr, type_ = exprs[name]
        if name in wanted:
            columns.append(expr.label(name))
            group.append(expr)
        else:
            columns.append(sa.cast(sa.null(), type_).label(name))
    group.append(a.currency)
    columns += [
        a.currency.label("currency"),
        sa.func.sum(rows.c.n).label("n"),
        *(sa.func.sum(rows.c[c]).label(c) for c in ("ihi", "ilo", "ehi", "elo")),
    ]
    query = sa.select(*columns).select_from(rows.join(accounts, a.id == rows.c.account_id))
    return query.group_by(*group)


def _entity(values: dict, dims: Sequence[str]) -> tuple:
    return tuple(values[d] for d in dims)


def _when(value, time: str | None) -> date | None:
    if time is None or value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _rows(flows, base, time, rest, balances, periods):
    """(entity key, period, (opening, income, expense, closing, count)) of every row."""
    out = []
    if time is None:
        keys = {key for key, _ in flows}
        if balances:
            keys |= {key for key, value in base.items() if value}
        for key in keys:
            n, income, expense = flows.get((key, None), (0, 0, 0))
            opening = base.get(key, 0) if balances else None
            out.append((key, None, _figures(opening, income, expense, n)))
        return out
    by_key: dict[tuple, list[date]] = {}
    for key, when in flows:
        by_key.setdefault(key, []).append(when)
    if not rest:  # by time alone: every period of the range, for every currency
        for key in {*by_key, *base}:
            by_key[key] = periods
    for key, whens in by_key.items():
        running = base.get(key, 0)
        for when in sorted(whens):
            n, income, expense = flows.get((key, when), (0, 0, 0))
            opening = running if balances else None
            out.append((key, when, _figures(opening, income, expense, n)))
            running += income - expense
    return out


def _figures(opening, income, expense, n):
    closing = None if opening is None else opening + income - expense
    return opening, income, expense, closing, n


def _row(key, when, figures, time, rest, account_names, names) -> ReportRow:
    opening, income, expense, closing, n = figures
    values = dict(zip(rest, key[:-1], strict=True))
    attrs: dict = {}
    if time == "day":
        attrs["day"] = when
    elif time == "month":
        attrs["month"] = when.strftime("%Y-%m")
    for name in ("shop", "type", "platform"):
        if name in values:
            attrs[name] = values[name]
    if "account" in values:
        attrs["account"] = values["account"]
        attrs["account_name"] = account_names.get(values["account"])
    for name in ("category", "subject"):
        if name in values:
            item = values[name] or None
            attrs[f"{name}_id"] = item
            attrs[f"{name}_name"] = names.get(item) if item else None
    return ReportRow(
        currency=key[-1],
        income=from_minor(income),
        expense=from_minor(expense),
        entries=n,
        opening=None if opening is None else from_minor(opening),
        closing=None if closing is None else from_minor(closing),
        **attrs,
    )


def _order(row: ReportRow, dims: Sequence[str]) -> tuple:
    key = []
    for d in dims:
        value = getattr(row, {"category": "category_id", "subject": "subject_id"}.get(d, d))
        key.append((value is None, value if value is not None else 0))
    return (*key, row.currency)


def _totals(flows, base, *, with_opening: bool = True) -> list[ReportRow]:
    by_currency: dict[str, list[int]] = {}
    for (key, _when), (n, income, expense) in flows.items():
        t = by_currency.setdefault(key[-1], [0, 0, 0, 0])
        t[1] += n
        t[2] += income
        t[3] += expense
    for key, value in base.items():
        by_currency.setdefault(key[-1], [0, 0, 0, 0])[0] += value
    return [
        ReportRow(
            currency=currency,
            income=from_minor(income),
            expense=from_minor(expense),
            entries=n,
            opening=from_minor(opening) if with_opening else None,
            closing=from_minor(opening + income - expense) if with_opening else None,
        )
        for currency, (opening, n, income, expense) in sorted(by_currency.items())
    ]


# -- balances as of ----------------------------------------------------------------------------


def balances_as_of(
    conn: Connection,
    zone: str,
    tz: ZoneInfo,
    as_of: date | datetime,
    scope: Scope = Scope(),  # noqa: B008 - frozen dataclass, safe default
) -> dict[int, int]:
    """account id → balance in minor units as of ``as_of``: a day means its end (the closing
    balance: every entry of that business day and before), an instant every entry with trade
    time at or before it. Accounts without such entries are left out (their balance is 0).
    A balance beyond the ledger's limit is refused as ``queries.balance_as_of`` refuses it."""
    ids = None if scope == Scope() else _scope(sa.select(accounts.c.id), scope)
    sources = summaries.Sources(zone, conn.dialect.name, summaries.watermark(conn), ids)
    d, m = daily_summaries.c, monthly_summaries.c
    day = as_of.astimezone(tz).date() if isinstance(as_of, datetime) else as_of
    month = summaries.month_of(day)
    if isinstance(as_of, datetime):  # the days before, then that day's entries up to it
        parts = [sources.summary(daily_summaries, None, d.day >= month, d.day < day)]
        parts += [sources.tail(None, sources.day() < day), sources.on_day_until(as_of, day)]
    else:  # the days up to it, that day included
        parts = [sources.summary(daily_summaries, None, d.day >= month, d.day <= day)]
        parts.append(sources.tail(None, sources.day() <= day))
    parts.append(sources.summary(monthly_summaries, None, m.month < month))
    rows = summaries.union(parts)
    query = sa.select(
        rows.c.account_id, *(sa.func.sum(rows.c[c]) for c in ("ihi", "ilo", "ehi", "elo"))
    ).group_by(rows.c.account_id)
    out = {}
    for account_id, ihi, ilo, ehi, elo in conn.execute(query):
        total = summaries.amount(ihi, ilo) - summaries.amount(ehi, elo)
        if abs(total) > MAX_BALANCE_MINOR:
            limit = from_minor(MAX_BALANCE_MINOR)
            raise ValidationError(
                "as_of",
                f"the balance as of this instant is beyond the ledger's limit of ±{limit}",
            )
        out[int(account_id)] = total
    return out
