"""Accounts: numbers are unique and well formed, names are not blank, currencies are codes."""

from decimal import Decimal

import pytest

from zhangben.core import errors


def test_account_validation(ledger):
    ledger.open_account(number="0000000000000001", name="a")
    with pytest.raises(errors.Conflict):
        ledger.open_account(number="0000000000000001", name="b")
    with pytest.raises(errors.ValidationError):
        ledger.open_account(number="bad number!", name="b")
    with pytest.raises(errors.ValidationError):
        ledger.open_account(number="X1", name="b", currency="yuan")
    with pytest.raises(errors.ValidationError):
        ledger.open_account(number="X1", name="  ")


def _accounts(ledger):
    """Six accounts in two shops (and none), two owned, one closed; balances from postings."""
    owner = ledger.add_user(username="shopkeeper", role="user")
    made = [
        ("A-001", "支付宝 旗舰店", "alipay", "S001", None, "120.50"),
        ("A-002", "微信 旗舰店", "wechat", "S001", owner.id, "80.25"),
        ("A-003", "主账户 Flagship", "main", "S001", None, "-30.00"),
        ("B-001", "支付宝 二店", "alipay", "S002", owner.id, "5.00"),
        ("B-002", "主账户 二店", "main", "S002", None, "0"),
        ("C_100", "备用 100%", "main", None, None, "1.01"),
    ]
    for number, name, kind, shop, owner_id, amount in made:
        ledger.open_account(number=number, name=name, type=kind, shop_code=shop,
                            owner_user_id=owner_id, allow_overdraft=True)  # fmt: skip
        if amount.startswith("-"):
            ledger.expense(number, amount[1:])
        elif amount != "0":
            ledger.income(number, amount)
    ledger.close_account("B-002")
    return owner


def test_a_page_of_accounts_keyset_with_filters_and_the_total(ledger):
    owner = _accounts(ledger)
    every = ledger.accounts()
    pages, after = [], None
    while True:
        page = ledger.account_page(after_id=after, limit=3)
        assert page.total == len(every)
        pages.append([a.number for a in page.items])
        after = page.next_cursor
        if after is None:
            break
        assert after == page.items[-1].id
    assert [n for p in pages for n in p] == [a.number for a in every]
    assert [len(p) for p in pages] == [3, 3]
    past = ledger.account_page(after_id=10**18 - 1)  # past every id, and past int4
    assert past.items == [] and past.total == len(every) and past.next_cursor is None
    exact = ledger.account_page(limit=6)  # a page that holds the rest: no next page
    assert len(exact.items) == 6 and exact.next_cursor is None
    # filters narrow the page and the total alike
    shop = ledger.account_page(shop_codes=["S001"], limit=2)
    assert [a.number for a in shop.items] == ["A-001", "A-002"] and shop.total == 3
    assert ledger.account_page(shop_codes=["S001"], after_id=shop.next_cursor).total == 3
    assert [a.number for a in ledger.account_page(type="alipay").items] == ["A-001", "B-001"]
    assert [a.number for a in ledger.account_page(status="closed").items] == ["B-002"]
    mine = ledger.account_page(owner_user_id=owner.id)
    assert [a.number for a in mine.items] == ["A-002", "B-001"] and mine.total == 2
    assert [a.number for a in ledger.accounts(owned=True)] == ["A-002", "B-001"]
    # find: in the number or the name, any case; % and _ are plain characters
    assert [a.number for a in ledger.account_page(find="flagship").items] == ["A-003"]
    assert [a.number for a in ledger.account_page(find="二店").items] == ["B-001", "B-002"]
    assert [a.number for a in ledger.account_page(find="0%").items] == ["C_100"]
    assert [a.number for a in ledger.account_page(find="c_1").items] == ["C_100"]
    assert ledger.account_page(find="_0").total == 0
    none = ledger.account_page(find="nothing", shop_codes=["S001"])
    assert none.items == [] and none.total == 0 and none.next_cursor is None


def test_balance_groups_are_the_sums_of_the_accounts(ledger):
    owner = _accounts(ledger)
    # ten accounts near the largest amount: their sum is past 2⁶³ minor units, which a plain
    # SUM refuses on SQLite ("integer overflow")
    for i in range(10):
        ledger.open_account(number=f"HUGE{i}", name="大额", shop_code="S009")
        ledger.income(f"HUGE{i}", "99999999999999.9999")
    for filters in ({}, {"shop_codes": ["S002"]}, {"owner_user_id": owner.id}, {"numbers": []}):
        expected = {}
        for a in ledger.accounts(**filters):
            group = expected.setdefault((a.shop_code, a.type, a.currency), [0, Decimal(0)])
            group[0] += 1
            group[1] += a.balance
        got = {(shop, kind, cur): [n, total] for shop, kind, cur, n, total in
               ledger.balance_groups(**filters)}  # fmt: skip
        assert got == expected, filters
    groups = {(s, t): total for s, t, c, _, total in ledger.balance_groups() if c == "CNY"}
    assert groups[("S009", "main")] == Decimal("999999999999999.9990")
    assert groups[("S002", "main")] == Decimal(0)  # B-002, closed
    assert groups[("S001", "main")] == Decimal("-30.00")
    # another currency: a group of its own, never added to the CNY accounts of its shop
    ledger.open_account(number="USD1", name="美元", shop_code="S009", currency="USD")
    ledger.income("USD1", "12.34")
    by_currency = {c: total for s, t, c, _, total in ledger.balance_groups(shop_codes=["S009"])}
    assert by_currency == {"CNY": Decimal("999999999999999.9990"), "USD": Decimal("12.34")}
