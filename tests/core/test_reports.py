"""Reports and balances as of a day (zhangben.core.reports): every grouping and range gives
what a plain sum over the entries gives, folded or not; bad input is refused, having written
nothing."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhangben.core import reports, summaries
from zhangben.core.errors import ValidationError
from zhangben.core.queries import EntryFilter
from zhangben.core.reports import PLATFORMS

SH = ZoneInfo("Asia/Shanghai")
D = Decimal
#: number, shop, type, currency, owner
ACCOUNTS = [
    ("A1", "S001", "main", "CNY"),
    ("A2", "S001", "alipay", "CNY"),
    ("B1", "S002", "jd_wallet", "CNY"),
    ("B2", None, "wechat", "CNY"),
    ("U1", "S002", "main", "USD"),
]
FIRST, LAST = date(2023, 12, 1), date(2024, 4, 30)


def build(ledger, seed: int = 15, postings: int = 220, folds=(70, 150)) -> None:
    """Random incomes, expenses, transfers and reversals over five months (trade times in
    any order), with folds after some of them: what stays is a tail of unfolded entries."""
    for number, shop, kind, currency in ACCOUNTS:
        ledger.open_account(number=number, name=f"账户{number}", type=kind, shop_code=shop,
                            currency=currency, allow_overdraft=True)  # fmt: skip
    rng = random.Random(seed)
    span = (LAST - FIRST).days + 1
    done = []
    for i in range(postings):
        if i in folds:
            ledger.refresh_summaries()
        when = datetime.combine(FIRST, datetime.min.time(), SH) + timedelta(
            seconds=rng.randrange(span * 86400)
        )
        amount = D(rng.randint(1, 500_000)) / 100
        number = rng.choice(ACCOUNTS)[0]
        roll = rng.random()
        if roll < 0.4:
            r = ledger.income(number, amount, trade_time=when, subject_id=rng.choice([None, 2, 20]))
        elif roll < 0.7:
            r = ledger.expense(number, amount, trade_time=when, subject_id=rng.choice([None, 5, 8]))
        elif roll < 0.9:
            a, b = rng.sample([n for n, *_ in ACCOUNTS if n != "U1"], 2)
            r = ledger.transfer(a, b, amount, trade_time=when)
        elif done:
            target = rng.choice(done)
            done.remove(target)
            later = target.entries[0].trade_time + timedelta(days=rng.randint(0, 40))
            if target.kind == "transfer":
                ledger.reverse_transfer(target.posting_id, trade_time=later)
            else:
                ledger.reverse_entry(target.entries[0].id, trade_time=later)
            continue
        else:
            continue
        done.append(r)


def model(ledger, start: date, end: date, dims: tuple[str, ...], shops=None) -> tuple[set, set]:
    """The report's rows and totals, summed straight from the entries (of ``shops``)."""
    info = {a.number: a for a in ledger.accounts()}
    time = next((d for d in dims if d in ("day", "month")), None)
    rest = [d for d in dims if d not in ("day", "month")]
    balances = not {"category", "subject"} & set(dims)

    def value(e, dim):
        a = info[e.account_number]
        return {
            "shop": a.shop_code,
            "account": a.number,
            "type": a.type,
            "platform": a.type if a.type in PLATFORMS else None,
            "category": e.category_id,
            "subject": e.subject_id,
        }[dim]

    flows: dict = defaultdict(lambda: [0, D(0), D(0)])
    base: dict = defaultdict(D)
    totals_base: dict = defaultdict(D)
    for e in ledger.entries(EntryFilter(), limit=100_000, with_total=False).items:
        if shops is not None and info[e.account_number].shop_code not in shops:
            continue
        day = e.trade_time.astimezone(ledger.tz).date()
        cur = e.currency
        if day < start:
            totals_base[cur] += e.amount
            if balances:
                base[(*(value(e, d) for d in rest), cur)] += e.amount
            continue
        if day > end:
            continue
        period = {None: None, "day": day, "month": day.replace(day=1)}[time]
        f = flows[((*(value(e, d) for d in rest), cur), period)]
        f[0] += 1
        f[1] += max(e.amount, 0)
        f[2] += max(-e.amount, 0)

    periods = []
    p = start if time == "day" else start.replace(day=1)
    while time and p <= end:
        periods.append(p)
        p = p + timedelta(days=1) if time == "day" else (p + timedelta(days=32)).replace(day=1)
    keys = {k for k, _ in flows} | {k for k, v in base.items() if v or time}
    rows = set()
    for key in keys:
        if time is None:
            whens = [None]
        elif not rest:
            whens = periods
        else:
            whens = sorted(w for k, w in flows if k == key)
        opening = base[key]
        for when in whens:
            n, income, expense = flows.get((key, when), (0, D(0), D(0)))
            if time is None and not n and not opening:
                continue
            label = {None: None, "day": when, "month": when and when.strftime("%Y-%m")}[time]
            rows.add((label, *key, n, income, expense,
                      opening if balances else None,
                      opening + income - expense if balances else None))  # fmt: skip
            opening += income - expense
    totals = defaultdict(lambda: [0, D(0), D(0)])
    for (key, _), (n, income, expense) in flows.items():
        t = totals[key[-1]]
        t[0] += n
        t[1] += income
        t[2] += expense
    for cur in totals_base:
        totals[cur]  # noqa: B018 - a currency with a balance and no flows has a total too
    total_rows = {
        (cur, n, income, expense, totals_base[cur], totals_base[cur] + income - expense)
        for cur, (n, income, expense) in totals.items()
    }
    return rows, total_rows


def got(report: reports.Report) -> tuple[set, set]:
    time = next((d for d in report.group_by if d in ("day", "month")), None)
    rest = [d for d in report.group_by if d not in ("day", "month")]
    attr = {"category": "category_id", "subject": "subject_id"}
    rows = {
        (getattr(r, time) if time else None, *(getattr(r, attr.get(d, d)) for d in rest),
         r.currency, r.entries, r.income, r.expense, r.opening, r.closing)
        for r in report.rows
    }  # fmt: skip
    totals = {(t.currency, t.entries, t.income, t.expense, t.opening, t.closing)
              for t in report.totals}  # fmt: skip
    assert len(rows) == len(report.rows)
    return rows, totals


GROUPINGS = [
    ("day",), ("month",), ("account",), ("shop",), ("type",), ("platform",), ("category",),
    ("day", "shop"), ("month", "account"), ("month", "category", "subject"), ("shop", "subject"),
    ("day", "platform", "category"), ("account", "category"),
]  # fmt: skip
RANGES = [
    (date(2024, 1, 1), date(2024, 1, 31)),  # a whole month
    (date(2024, 1, 15), date(2024, 3, 10)),  # partial, whole, partial
    (date(2024, 2, 3), date(2024, 2, 20)),  # inside one month
    (date(2023, 12, 1), date(2024, 4, 30)),  # everything
    (date(2024, 3, 1), date(2024, 4, 15)),
    (date(2024, 4, 30), date(2024, 4, 30)),
    (date(2024, 5, 1), date(2024, 6, 30)),  # after the last entry
]


def _as_the_model(ledger, label=None) -> list:
    """Each report of :data:`RANGES` × :data:`GROUPINGS`, checked against the model (and
    returned, for more checks)."""
    made = [ledger.report(start, end, dims) for start, end in RANGES for dims in GROUPINGS]
    for r in made:
        where = (label, r.start, r.end, r.group_by)
        assert got(r) == model(ledger, r.start, r.end, r.group_by), where
    return made


def test_every_grouping_and_range_is_the_sum_of_the_entries(ledger):
    build(ledger)
    assert 0 < ledger.summaries_status().last_entry_id < ledger.summaries_status().top_entry_id
    for final in (False, True):  # with a tail of unfolded entries, then all of them folded
        if final:
            ledger.refresh_summaries()
        for report in _as_the_model(ledger):
            keys = [tuple(_sortable(getattr(r, d if d not in ("category", "subject")
                                            else f"{d}_id")) for d in report.group_by) for r in
                    report.rows]  # fmt: skip
            assert keys == sorted(keys)
    assert ledger.verify().ok


@pytest.mark.parametrize("side", ["before", "after"])
def test_the_opening_is_the_same_read_from_either_side(ledger, monkeypatch, side):
    """The opening from the flows before the start, or from the accounts' balances less the
    flows from the start on (what a report of a recent month reads): the same figures, with
    a tail of unfolded entries and without."""
    build(ledger, seed=21, postings=160, folds=(60,))
    monkeypatch.setattr(reports, "_opening_side", lambda conn, start: side)
    for final in (False, True):
        if final:
            ledger.refresh_summaries()
        _as_the_model(ledger, side)
        shops = ledger.report(date(2024, 2, 3), date(2024, 3, 9), ("day",), shop_codes=["S002"])
        assert got(shops) == model(ledger, date(2024, 2, 3), date(2024, 3, 9), ("day",), ["S002"])


def test_a_report_reads_the_opening_from_the_side_with_fewer_months(ledger):
    build(ledger, seed=4, postings=60, folds=())
    ledger.refresh_summaries()  # months 2023-12 … 2024-04
    with ledger.engine.connect() as conn:
        sides = {m: reports._opening_side(conn, date(*m, 1)) for m in
                 ((2023, 12), (2024, 2), (2024, 3), (2024, 4), (2025, 1), (2020, 1))}  # fmt: skip
    assert sides == {(2023, 12): "before", (2024, 2): "before", (2024, 3): "after",
                     (2024, 4): "after", (2025, 1): "after", (2020, 1): "before"}  # fmt: skip


def test_a_report_of_flows_only_is_the_report_without_its_balances(ledger):
    """``flows_only`` (the console's figures of a day or a month): the same income, expense
    and counts, in the same order, without an opening or a closing anywhere."""
    build(ledger)
    for start, end in RANGES:
        for dims in GROUPINGS:
            full = ledger.report(start, end, dims)
            flows = ledger.report(start, end, dims, flows_only=True)
            assert flows.flows_only and not flows.balances and not full.flows_only
            by_time_alone = len(dims) == 1 and dims[0] in ("day", "month")
            moved = {t.currency for t in flows.totals}

            def figures(rows, keep=lambda r: True):
                return [(r.day, r.month, r.shop, r.account, r.type, r.platform, r.category_id,
                         r.subject_id, r.currency, r.entries, r.income, r.expense)
                        for r in rows if keep(r)]  # fmt: skip

            # a group without flows in the range is there only for its balance
            kept = figures(
                full.rows, lambda r: r.entries or (by_time_alone and r.currency in moved)
            )
            assert figures(flows.rows) == kept, (start, end, dims)
            assert all(r.opening is None and r.closing is None for r in flows.rows)
            totals = [(t.currency, t.entries, t.income, t.expense) for t in full.totals
                      if t.entries]  # fmt: skip
            assert [(t.currency, t.entries, t.income, t.expense) for t in flows.totals] == totals
            assert all(t.opening is None and t.closing is None for t in flows.totals)


def _sortable(value):
    return (value is None, value if value is not None else 0)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    first=st.integers(min_value=-10, max_value=160),
    days=st.integers(min_value=0, max_value=120),
    dims=st.lists(
        st.sampled_from(["shop", "account", "type", "platform", "category", "subject"]),
        unique=True,
        max_size=2,
    ),
    time=st.sampled_from([None, "day", "month"]),
    shops=st.sampled_from([None, ["S001"], ["S002", "S001"], []]),
)
def test_random_ranges_groupings_and_scopes(ledger, first, days, dims, time, shops):
    if not ledger.accounts():
        build(ledger, seed=3, postings=120, folds=(60,))
    start = FIRST + timedelta(days=first)
    end = start + timedelta(days=days)
    grouping = ((time,) if time else ()) + tuple(dims)
    report = ledger.report(start, end, grouping, shop_codes=shops)
    assert got(report) == model(ledger, start, end, grouping, shops)


def test_balances_as_of_a_day_and_an_instant(ledger):
    build(ledger, seed=9, postings=120, folds=(50,))
    rng = random.Random(2)
    for _ in range(12):
        instant = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(120 * 86400))
        day = instant.astimezone(SH).date()
        at_instant = dict((a.number, b) for a, b in ledger.balances_as_of(instant))
        at_day = dict((a.number, b) for a, b in ledger.balances_as_of(day))
        for number, *_ in ACCOUNTS:
            assert at_instant[number] == ledger.balance_as_of(number, instant)
            end_of_day = datetime.combine(day + timedelta(days=1), datetime.min.time(), SH)
            expected = ledger.balance_as_of(number, end_of_day - timedelta(microseconds=1))
            assert at_day[number] == expected == ledger.balance_as_of(number, day)
    naive = ledger.balances_as_of(datetime(2024, 2, 1, 12))  # naive: the business time zone
    assert naive == ledger.balances_as_of(datetime(2024, 2, 1, 12, tzinfo=SH))
    found = ledger.balances_as_of(date(2024, 2, 1), shop_codes=["S002"])
    assert [a.number for a, _ in found] == ["B1", "U1"]


def test_a_balance_past_the_limit_is_refused_as_for_one_account(ledger):
    biggest = "99999999999999.9999"
    ledger.open_account(number="BIG", name="big")
    january, june = datetime(2024, 1, 1, tzinfo=SH), datetime(2024, 6, 1, tzinfo=SH)
    for i in range(10):
        ledger.income("BIG", biggest, trade_time=january + timedelta(hours=i))
        ledger.expense("BIG", biggest, trade_time=june)
    assert ledger.balances_as_of(date(2024, 7, 1))[0][1] == 0
    for as_of in (date(2024, 2, 1), datetime(2024, 2, 1, tzinfo=SH)):
        with pytest.raises(ValidationError) as info:
            ledger.balances_as_of(as_of)
        assert info.value.field == "as_of" and "900000000000000.0000" in info.value.message
    report = ledger.report(date(2024, 1, 1), date(2024, 12, 31), ("month",))
    assert report.rows[0].income == D(biggest) * 10  # a report's sums are exact however large


def test_scopes(ledger):
    build(ledger, seed=5, postings=60, folds=())
    alice = ledger.add_user(username="alice")
    ledger.open_account(number="OWN", name="own", owner_user_id=alice.id)
    ledger.income("OWN", "5.00", trade_time=datetime(2024, 1, 5, tzinfo=SH))
    span = (date(2024, 1, 1), date(2024, 1, 31))
    mine = ledger.report(*span, ("account",), owner_user_id=alice.id)
    assert [(r.account, r.income) for r in mine.rows] == [("OWN", D(5))]
    typed = ledger.report(*span, ("account",), types=["alipay", "wechat"])
    assert {r.account for r in typed.rows} <= {"A2", "B2"}
    named = ledger.report(*span, ("shop",), numbers=["A1", "B1"])
    assert {r.shop for r in named.rows} <= {"S001", "S002"}
    assert ledger.report(*span, ("account",), numbers=[]).rows == []
    assert ledger.report(*span, ("day",), shop_codes=["NONE"]).rows == []


def test_several_reports_in_one_snapshot_are_each_the_report(ledger):
    build(ledger, seed=9, postings=60, folds=(30,))
    span = (date(2024, 1, 1), date(2024, 1, 31))
    groupings = (("account", "shop", "type"), ("day",), ("category", "subject"))
    found = ledger.reports(*span, groupings, shop_codes=["S001"])
    assert found == [ledger.report(*span, g, shop_codes=["S001"]) for g in groupings]
    by_account, by_day, _ = found
    assert by_account.rows and len(by_day.rows) == 31
    assert [(t.currency, t.income, t.closing) for t in by_account.totals] == [
        (t.currency, t.income, t.closing) for t in by_day.totals
    ]
    with pytest.raises(ValidationError) as refused:
        ledger.reports(*span, (("day",), ("colour",)))
    assert refused.value.field == "group_by"


def test_a_report_by_day_alone_has_every_day_and_platforms_are_bill_accounts(ledger):
    ledger.open_account(number="M", name="m")
    ledger.open_account(number="W", name="w", type="wechat")
    ledger.income("W", "8.00", trade_time=datetime(2024, 2, 10, 9, tzinfo=SH))
    ledger.income("M", "1.00", trade_time=datetime(2024, 2, 10, 9, tzinfo=SH))
    days = ledger.report(date(2024, 2, 1), date(2024, 2, 29), ("day",))
    assert [r.day.day for r in days.rows] == list(range(1, 30))
    assert [(r.opening, r.closing) for r in days.rows][9:11] == [(0, 9), (9, 9)]
    platforms = ledger.report(date(2024, 2, 1), date(2024, 2, 29), ("platform",))
    assert [(r.platform, r.income) for r in platforms.rows] == [("wechat", 8), (None, 1)]
    assert reports.PLATFORMS == __import__("zhangben.imports.rows", fromlist=["x"]).PLATFORMS


@pytest.mark.parametrize(
    ("args", "field", "words"),
    [
        ((date(2024, 1, 1), date(2024, 1, 31), ("colour",)), "group_by", "unknown grouping"),
        ((date(2024, 1, 1), date(2024, 1, 31), ("day", "month")), "group_by", "not both"),
        ((date(2024, 1, 1), date(2024, 1, 31), ("shop", "shop")), "group_by", "once"),
        ((date(2024, 2, 1), date(2024, 1, 31), ("day",)), "to", "before it starts"),
        ((date(1800, 1, 1), date(2024, 1, 31), ("day",)), "from", "between 1900 and 9998"),
    ],
)
def test_bad_input_is_refused_having_written_nothing(ledger, monkeypatch, args, field, words):
    ledger.open_account(number="A", name="a")
    ledger.income("A", "1.00")
    monkeypatch.setattr(summaries, "FOLD_AT", 0)  # a valid report would fold now
    before = ledger.summaries_status()
    with pytest.raises(ValidationError) as info:
        ledger.report(*args)
    assert info.value.field == field and words in info.value.reason
    assert ledger.summaries_status() == before  # nothing folded, nothing written
    ledger.report(date(2024, 1, 1), date(2024, 1, 31))
    assert ledger.summaries_status().last_entry_id == 1


@pytest.mark.parametrize(
    ("text", "ok"),
    [("2026-10", date(2026, 10, 1)), ("2026-13", None), ("2026-1", None), ("Oct", None),
     ("2026-00", None), ("1899-12", None), (" 2026-10 ", date(2026, 10, 1))],
)  # fmt: skip
def test_months(text, ok):
    if ok:
        assert reports.parse_month(text) == ok
    else:
        with pytest.raises(ValidationError, match="month"):
            reports.parse_month(text)


def test_too_many_rows(ledger, monkeypatch):
    ledger.open_account(number="A", name="a")
    monkeypatch.setattr(reports, "MAX_ROWS", 10)
    with pytest.raises(ValidationError, match="more than 10 rows"):
        ledger.report(date(2024, 1, 1), date(2024, 1, 31), ("day",))
    for i in range(12):
        ledger.income("A", "1.00", trade_time=datetime(2024, 1, 1 + i, tzinfo=SH))
    with pytest.raises(ValidationError, match="more than 10 rows"):
        ledger.report(date(2024, 1, 1), date(2024, 1, 31), ("day", "account"))
