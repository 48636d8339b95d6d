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
