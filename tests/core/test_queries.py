"""The read side: flows filtered and paged (keyset), and balances as of an instant."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from zhangben.core.queries import EntryFilter


def test_queries_filters_paging_and_as_of(two):
    base = datetime(2024, 1, 1, tzinfo=UTC)
    two.open_account(number="SHOP2", name="s2", shop_code="S002")
    for i in range(5):
        two.income("SHOP2", str(i + 1), trade_time=base + timedelta(days=i), source="alipay")
    two.expense("SHOP2", "1", trade_time=base + timedelta(days=10))
    page = two.entries(EntryFilter(account_numbers=["SHOP2"]), limit=2, offset=0)
    assert page.total == 6 and [e.amount for e in page.items] == [Decimal("-1"), Decimal("5")]
    page2 = two.entries(EntryFilter(account_numbers=["SHOP2"]), limit=2, before_id=page.next_cursor)
    assert [e.amount for e in page2.items] == [Decimal("4"), Decimal("3")]
    ranged = two.entries(
        EntryFilter(
            shop_codes=["S002"], start=base + timedelta(days=1), end=base + timedelta(days=3)
        )
    )
    assert [e.amount for e in ranged.items] == [Decimal("3"), Decimal("2")]  # half-open
    assert two.entries(EntryFilter(types=["expense"], sources=["manual"])).total == 1
    assert two.entries(EntryFilter(shop_codes=["NOPE"])).total == 0
    assert two.entries(EntryFilter(category_ids=[1])).total == 6
    assert two.balance_as_of("SHOP2", base + timedelta(days=2)) == Decimal("6")
    assert two.balance_as_of("SHOP2", base - timedelta(seconds=1)) == 0
    assert two.balance_as_of("SHOP2", base + timedelta(days=30)) == two.balance("SHOP2")


def test_time_order_snapshot_bound_and_direction(two):
    """order="time_asc": trade time then id, oldest first; max_id bounds the rows (and
    Page.max_id is the bound of the matching rows); direction keeps one sign."""
    base = datetime(2024, 1, 1, tzinfo=UTC)
    two.open_account(number="T", name="t", allow_overdraft=True)
    ids = []
    for days, amount in ((3, "3"), (1, "1"), (2, "2"), (1, "4")):  # two at the same instant
        ids.append(two.income("T", amount, trade_time=base + timedelta(days=days)).entries[0].id)
    out = two.expense("T", "5", trade_time=base).entries[0].id
    f = EntryFilter(account_numbers=["T"])
    page = two.entries(f, limit=3, order="time_asc")
    assert [e.amount for e in page.items] == [Decimal("-5"), Decimal("1"), Decimal("4")]
    assert page.total == 5 and page.max_id == max(ids + [out])
    rest = two.entries(f, limit=3, offset=3, order="time_asc")
    assert [e.amount for e in rest.items] == [Decimal("2"), Decimal("3")]
    two.income("T", "9", trade_time=base - timedelta(days=1))  # back-dated, after the bound
    bounded = EntryFilter(account_numbers=["T"], max_id=page.max_id)
    again = two.entries(bounded, limit=3, offset=3, order="time_asc")
    assert [e.amount for e in again.items] == [Decimal("2"), Decimal("3")] and again.total == 5
    both = EntryFilter(account_numbers=["T", "ACC001"], direction="out")
    assert [e.amount for e in two.entries(both, order="time_asc").items] == [Decimal("-5")]
    assert two.entries(EntryFilter(direction="in", max_id=ids[0])).total == 2  # ACC001's too
    assert two.entries(EntryFilter(account_numbers=["NONE"]), order="time_asc").max_id == 0
    assert two.entries(f).max_id is None  # newest first: no bound computed


def test_time_order_refuses_a_keyset_cursor_and_unknown_values(two):
    import pytest

    with pytest.raises(ValueError):
        two.entries(EntryFilter(), before_id=5, order="time_asc")
    with pytest.raises(ValueError):
        two.entries(EntryFilter(), order="newest")
    with pytest.raises(ValueError):
        two.entries(EntryFilter(direction="up"))


def test_totals_of_a_filter_count_and_sum_each_side(two):
    """Ledger.entry_totals: the count, money in and money out of every matching entry (not a
    page), exact past the 64-bit range of a plain SUM."""
    base = datetime(2024, 1, 1, tzinfo=UTC)
    two.open_account(number="TOT", name="t", shop_code="S009")
    two.income("TOT", "10.25", trade_time=base, source="alipay")
    two.income("TOT", "4.75", trade_time=base + timedelta(days=1))
    two.expense("TOT", "3.10", trade_time=base + timedelta(days=2))
    totals = two.entry_totals(EntryFilter(account_numbers=["TOT"]))
    assert (totals.count, totals.income, totals.expense) == (3, Decimal("15"), Decimal("3.1"))
    assert totals.net == Decimal("11.9")
    assert two.entry_totals(EntryFilter(account_numbers=["TOT"], sources=["alipay"])).count == 1
    day_two = two.entry_totals(EntryFilter(shop_codes=["S009"], start=base + timedelta(days=1)))
    assert (day_two.count, day_two.income, day_two.expense) == (2, Decimal("4.75"), Decimal("3.1"))
    assert two.entry_totals(EntryFilter(shop_codes=["NOPE"])).count == 0
    big = "99999999999999.9999"  # MAX_AMOUNT: ten of them pass 2^63 minor units
    for i in range(5):
        two.open_account(number=f"BIG{i}", name="b", shop_code="BIG")
        two.income(f"BIG{i}", big)
        two.income(f"BIG{i}", big)
    huge = two.entry_totals(EntryFilter(shop_codes=["BIG"]))
    assert huge.count == 10 and huge.income == Decimal(big) * 10 and huge.expense == 0
