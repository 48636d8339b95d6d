"""Daily and monthly summaries (zhangben.core.summaries): folded exactly from the entries,
read exactly before a fold (the tail) and after it, rebuilt by one call, checked by verify,
rebuilt for another time zone; and a fold never passes over an entry still in flight."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest
import sqlalchemy as sa

from zhangben.core import summaries
from zhangben.core.ledger import Ledger
from zhangben.core.money import MINOR_PER_UNIT
from zhangben.core.queries import EntryFilter
from zhangben.store.summary_tables import SPLIT, daily_summaries, monthly_summaries
from zhangben.store.tables import accounts
from zhangben.store.writers import summaries as writer

SH = ZoneInfo("Asia/Shanghai")
D = Decimal


def at(day: int, hour: int = 12, month: int = 3, minute: int = 0) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=SH)


def model(ledger: Ledger, tz=SH, by: str = "day") -> dict:
    """(account, day or month, category, subject) → (entries, income, expense) in minor units,
    from the entries themselves."""
    out: dict = defaultdict(lambda: [0, 0, 0])
    for e in ledger.entries(EntryFilter(), limit=1_000_000, with_total=False).items:
        day = e.trade_time.astimezone(tz).date()
        key = (e.account_number, day if by == "day" else day.replace(day=1),
               e.category_id or 0, e.subject_id or 0)  # fmt: skip
        minor = int(e.amount * MINOR_PER_UNIT)
        row = out[key]
        row[0] += 1
        row[1] += max(minor, 0)
        row[2] += max(-minor, 0)
    return {k: tuple(v) for k, v in out.items()}


def stored(ledger: Ledger, table=daily_summaries) -> dict:
    t = table.c
    with ledger.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                accounts.c.number, t[table.c.keys()[1]], t.category_id, t.subject_id, t.entries,
                t.income_hi, t.income_lo, t.expense_hi, t.expense_lo,
            ).join(accounts, accounts.c.id == t.account_id)
        ).all()  # fmt: skip
    return {
        (n, _day(p), c, s): (int(k), int(ih) * SPLIT + int(il), int(eh) * SPLIT + int(el))
        for n, p, c, s, k, ih, il, eh, el in rows
    }


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def state(ledger: Ledger) -> summaries.SummaryStatus:
    return ledger.summaries_status()


@pytest.fixture
def shop(ledger):
    ledger.open_account(number="A", name="店铺主账户", shop_code="S001", allow_overdraft=True)
    ledger.open_account(number="B", name="支付宝", type="alipay", shop_code="S001")
    ledger.open_account(number="C", name="京东", type="jd_wallet", shop_code="S002")
    return ledger


def test_a_fold_holds_what_the_entries_hold_and_reads_agree_before_and_after(shop):
    lg = shop
    lg.income("A", "1000.00", trade_time=at(1, 9))
    lg.income("B", "300.00", trade_time=at(1, 23, minute=59), subject_id=20)  # 15:59 UTC
    lg.income("B", "50.00", trade_time=at(2, 0, minute=1), subject_id=20)  # 16:01 UTC, day 2
    lg.expense("A", "120.00", trade_time=at(2, 10), subject_id=5)
    lg.transfer("A", "C", "200.00", trade_time=at(3, 8))
    before = lg.report(date(2024, 3, 1), date(2024, 3, 31), ("day", "account"))
    balances_before = lg.balances_as_of(date(2024, 3, 2))
    assert state(lg).last_entry_id == 0  # a short tail is read, not folded

    folded = lg.refresh_summaries()
    assert folded.folded == 6 and folded.last_entry_id == folded.top_entry_id == 6
    assert folded.time_zone == "Asia/Shanghai"
    assert stored(lg) == model(lg)
    assert stored(lg, monthly_summaries) == model(lg, by="month")
    assert lg.report(date(2024, 3, 1), date(2024, 3, 31), ("day", "account")) == before
    assert lg.balances_as_of(date(2024, 3, 2)) == balances_before
    assert lg.verify().ok
    days = {(r.day, r.account): r for r in before.rows}
    assert days[(date(2024, 3, 1), "B")].income == D("300")  # 23:59 local stays on day 1
    assert days[(date(2024, 3, 2), "B")].opening == D("300")
    assert days[(date(2024, 3, 2), "B")].closing == D("350")


def test_back_dated_entries_and_reversals_land_on_their_own_day(shop):
    lg = shop
    lg.income("A", "1000.00", trade_time=at(10))
    sale = lg.income("A", "80.00", trade_time=at(11), subject_id=2)
    lg.refresh_summaries()
    # after the fold: an entry dated last month, and a reversal dated the 20th
    lg.expense("A", "30.00", trade_time=at(25, month=2), subject_id=5)
    lg.reverse_entry(sale.entries[0].id, trade_time=at(20))
    for fold in (False, True):
        if fold:
            lg.refresh_summaries()
            assert stored(lg) == model(lg)
        feb = lg.report(date(2024, 2, 1), date(2024, 2, 29), ("account",))
        assert [(r.account, r.expense, r.closing) for r in feb.rows] == [("A", D(30), D(-30))]
        march = lg.report(date(2024, 3, 1), date(2024, 3, 31), ("day", "category"))
        by_day = {(r.day, r.category_id): r for r in march.rows}
        assert by_day[(date(2024, 3, 11), 1)].income == D(80)
        reversal = by_day[(date(2024, 3, 20), 17)]  # 冲正: an outflow on its own day
        assert (reversal.expense, reversal.entries, reversal.category_name) == (D(80), 1, "冲正")
        assert reversal.opening is None  # by category: no balance
        (total,) = march.totals
        assert (total.opening, total.closing) == (D(-30), D(970))
    assert lg.verify().ok


def test_amounts_past_int64_in_a_day_are_held_exactly(ledger):
    """Ten of the largest incomes and expenses on one day: 10¹⁹ minor units each way, past
    int64, in the summaries' split sums."""
    biggest = "99999999999999.9999"
    ledger.open_account(number="BIG", name="big")
    for i in range(10):
        ledger.income("BIG", biggest, trade_time=at(1, 1, minute=i))
        ledger.expense("BIG", biggest, trade_time=at(1, 2, minute=i))
    ledger.refresh_summaries()
    assert stored(ledger) == model(ledger)
    (row,) = ledger.report(date(2024, 3, 1), date(2024, 3, 1), ("account",)).rows
    assert row.income == row.expense == D(biggest) * 10
    assert (row.opening, row.closing, row.entries) == (0, 0, 20)
    with ledger.engine.connect() as conn:  # (verify's own balance sum overflows on SQLite)
        assert summaries.check(conn) == []


def test_verify_finds_a_summary_that_drifted_and_rebuild_mends_it(shop):
    lg = shop
    lg.income("A", "10.00", trade_time=at(5))
    lg.income("B", "20.00", trade_time=at(6), subject_id=20)
    lg.refresh_summaries()
    with lg.engine.begin() as conn:
        conn.execute(daily_summaries.update().values(income_lo=daily_summaries.c.income_lo + 1))
        conn.execute(monthly_summaries.delete().where(monthly_summaries.c.category_id == 19))
    problems = lg.verify().problems
    assert any(
        p == "daily summary of account A for 2024-03-05 (category 1, subject -): 1 entries, "
        "income 10.0001, expense 0.00 stored, but its entries give 1 entries, income 10.00, "
        "expense 0.00"
        for p in problems
    ), problems
    assert any(p.startswith("monthly summary of account B for 2024-03") for p in problems)
    rebuilt = lg.refresh_summaries(rebuild=True)
    assert rebuilt.folded == 2 and lg.verify().ok
    assert stored(lg) == model(lg)


def test_another_time_zone_rebuilds_the_summaries(shop, engine):
    shop.income("A", "10.00", trade_time=datetime(2024, 3, 5, 2, tzinfo=SH))  # 4 March, UTC
    shop.refresh_summaries()
    assert {k[1] for k in stored(shop)} == {date(2024, 3, 5)}
    berlin = Ledger(engine, "Europe/Berlin")
    (row,) = berlin.report(date(2024, 3, 1), date(2024, 3, 31), ("day", "account")).rows
    assert row.day == date(2024, 3, 4)
    assert berlin.summaries_status().time_zone == "Europe/Berlin"
    assert stored(berlin) == model(berlin, ZoneInfo("Europe/Berlin"))
    assert berlin.verify().ok


def test_days_of_a_time_zone_with_summer_time(engine):
    """Berlin's 23-hour 31 March and 25-hour 27 October 2024: each entry on its wall day."""
    berlin = ZoneInfo("Europe/Berlin")
    lg = Ledger(engine, berlin)
    lg.open_account(number="EU", name="eu", currency="EUR")
    times = [
        datetime(2024, 3, 31, 0, 30, tzinfo=berlin),
        datetime(2024, 3, 31, 23, 30, tzinfo=berlin),
        datetime(2024, 4, 1, 0, 0, tzinfo=berlin),
        datetime(2024, 10, 27, 2, 30, tzinfo=berlin),  # the hour that happens twice
        datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=berlin),
        datetime(2024, 10, 27, 23, 59, tzinfo=berlin),
    ]
    for t in times:
        lg.income("EU", "1.00", trade_time=t)
    for fold in (False, True):
        if fold:
            lg.refresh_summaries()
        counts = {
            r.month: r.entries
            for r in lg.report(date(2024, 3, 1), date(2024, 10, 31), ("month",)).rows
        }
        assert counts["2024-03"] == 2 and counts["2024-04"] == 1 and counts["2024-10"] == 3
        days = lg.report(date(2024, 10, 26), date(2024, 10, 28), ("day",)).rows
        assert [(r.day.day, r.entries, r.currency) for r in days] == [
            (26, 0, "EUR"), (27, 3, "EUR"), (28, 0, "EUR"),
        ]  # fmt: skip
    assert stored(lg) == model(lg, berlin)


def test_a_report_folds_a_long_tail_itself(shop, monkeypatch):
    monkeypatch.setattr(summaries, "FOLD_AT", 3)
    for i in range(5):
        shop.income("A", "1.00", trade_time=at(1 + i))
    assert state(shop).last_entry_id == 0
    shop.report(date(2024, 3, 1), date(2024, 3, 31))
    assert state(shop).last_entry_id == 5 and stored(shop) == model(shop)


def test_folds_in_chunks(shop, monkeypatch):
    monkeypatch.setattr(summaries, "CHUNK", 2)
    for i in range(7):
        shop.income("A", "1.00", trade_time=at(1 + i))
    assert shop.refresh_summaries().folded == 7
    assert stored(shop) == model(shop)
    assert stored(shop, monthly_summaries) == model(shop, by="month")


# -- the gap: an entry id drawn before a higher one commits, committed after it ---------------


def _held_writer(ledger: Ledger, number: str) -> tuple[psycopg.Connection, int, int]:
    """A transaction that locks ``number`` and draws an entry id, as the staged writer does
    before it inserts, and holds them: (connection, posting id, entry id)."""
    dsn = ledger.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = psycopg.connect(dsn)
    account = conn.execute(
        "SELECT id FROM accounts WHERE number = %s FOR UPDATE", (number,)
    ).fetchone()[0]
    pid = conn.execute("SELECT nextval(pg_get_serial_sequence('postings', 'id'))").fetchone()[0]
    eid = conn.execute("SELECT nextval(pg_get_serial_sequence('entries', 'id'))").fetchone()[0]
    return conn, account, pid, eid


def _finish(conn, account: int, pid: int, eid: int) -> None:
    conn.execute(
        "INSERT INTO postings (id, kind, trade_no, created_at) VALUES (%s, 'income', 'T-GAP', "
        "now())",
        (pid,),
    )
    conn.execute(
        "INSERT INTO entries (id, posting_id, account_id, type, amount, balance_after, trade_no, "
        "trade_time, recorded_at, source) VALUES (%s, %s, %s, 'income', 50000, 50000, 'T-GAP', "
        "'2024-03-09 12:00+08', now(), 'manual')",
        (eid, pid, account),
    )
    conn.execute("UPDATE accounts SET balance = 50000 WHERE id = %s", (account,))
    conn.commit()
    conn.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_fold_waits_for_a_writer_in_flight(shop):
    lg = shop
    lg.income("A", "1.00", trade_time=at(1))
    lg.refresh_summaries()
    held, account, pid, eid = _held_writer(lg, "C")
    later = lg.income("A", "2.00", trade_time=at(9))  # a higher id, committed first
    assert later.entries[0].id > eid
    assert summaries.refresh(lg.engine, lg.zone, wait=False) is None  # would have to wait
    done = threading.Thread(target=lg.refresh_summaries)
    done.start()
    time.sleep(0.5)
    assert done.is_alive() and state(lg).last_entry_id == 1
    # reads meanwhile are exact: the held entry is not committed, the later one is in the tail
    (row,) = [r for r in lg.report(date(2024, 3, 9), date(2024, 3, 9)).rows]
    assert row.income == D(2)
    _finish(held, account, pid, eid)
    done.join(10)
    assert not done.is_alive()
    assert stored(lg) == model(lg) and lg.verify().ok
    assert lg.report(date(2024, 3, 9), date(2024, 3, 9)).rows[0].income == D(7)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_without_the_lock_a_fold_would_pass_over_it(shop, monkeypatch):
    """The same interleaving with the lock taken away: the fold moves past the entry in
    flight, which is then never summed, and verify says so. The lock is what makes it exact."""
    lg = shop
    held, account, pid, eid = _held_writer(lg, "C")
    lg.income("A", "2.00", trade_time=at(9))
    monkeypatch.setattr(writer, "_lock_accounts", lambda conn, wait: True)
    lg.refresh_summaries()
    _finish(held, account, pid, eid)
    assert stored(lg) != model(lg)
    assert any("daily summary of account C for 2024-03-09" in p for p in lg.verify().problems)


def test_folds_beside_concurrent_writers_lose_nothing(shop, tmp_path):
    """Single postings, batches, reversals and a bill import in threads, while folds (waiting
    or not) and reports run beside them: afterwards the summaries are the entries."""
    from zhangben.demo import bills
    from zhangben.imports.runner import import_file

    lg = shop
    lg.open_account(number="ALI", name="支付宝", type="alipay", shop_code="S001",
                    allow_overdraft=True)  # fmt: skip
    bill = bills.write_alipay_csv(tmp_path / "a.csv", list(bills.chained_txns(300)))
    failures: list[BaseException] = []
    stop = threading.Event()

    def guard(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        return run

    def singles(seed):
        for i in range(40):
            lg.income("A", "3.00", trade_time=at(1 + (i + seed) % 28))
            posted = lg.expense("A", "1.00", trade_time=at(1 + (i * 7) % 28, month=2))
            if i % 5 == 0:
                lg.reverse_entry(posted.entries[0].id, trade_time=at(15))
            lg.transfer("A", "C", "0.50", trade_time=at(1 + i % 28))

    def batches():
        for i in range(10):
            lg.post_many([
                {"kind": "income", "account": "B", "amount": "1.00", "trade_time": at(1 + i)},
                {"kind": "transfer", "from_account": "A", "to_account": "B", "amount": "0.25"},
            ])  # fmt: skip

    def folding():
        n = 0
        while not stop.is_set():
            summaries.refresh(lg.engine, lg.zone, wait=n % 2 == 0)
            lg.report(date(2024, 2, 1), date(2024, 3, 31), ("month", "account"))
            n += 1

    workers = [threading.Thread(target=guard(lambda s=s: singles(s))) for s in range(3)]
    workers += [
        threading.Thread(target=guard(batches)),
        threading.Thread(target=guard(lambda: import_file(lg, bill, account="ALI"))),
    ]
    folder = threading.Thread(target=guard(folding))
    folder.start()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    folder.join()
    assert not failures, failures
    lg.refresh_summaries()
    assert stored(lg) == model(lg)
    assert stored(lg, monthly_summaries) == model(lg, by="month")
    assert lg.verify().ok
