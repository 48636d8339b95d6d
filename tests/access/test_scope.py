"""A scope is one rule, applied two ways: to an account in hand (``may_see``) and as the
filters of a query (``account_filters``); both must pick the same accounts."""

from __future__ import annotations

import itertools

from zhangben.access.scope import Scope


def test_the_query_filters_pick_the_accounts_may_see_allows(ledger, make_session):
    (_, u7), (_, u8), (_, u9) = (make_session(name) for name in ("u7", "u8", "u9"))
    for number, shop, owner in (("A-1", "S001", None), ("A-2", "S001", u7), ("A-3", "S002", u7),
                                ("A-4", None, None), ("A-5", "S002", u8)):  # fmt: skip
        ledger.open_account(number=number, name=number, shop_code=shop, owner_user_id=owner)
    everything = ledger.accounts()
    shops = (None, frozenset(), frozenset({"S001"}), frozenset({"S001", "S002"}))
    numbers = (None, frozenset(), frozenset({"A-2", "A-4"}), frozenset({"A-3", "NOPE"}))
    for shop_limit, number_limit, owner in itertools.product(shops, numbers, (None, u7, u9)):
        scope = Scope(shop_limit, number_limit, owner)
        wanted = [a.number for a in everything if scope.may_see(a)]
        assert [a.number for a in ledger.accounts(**scope.account_filters())] == wanted, scope
        groups = ledger.balance_groups(**scope.account_filters())
        assert sum(n for *_, n, _ in groups) == len(wanted), scope
