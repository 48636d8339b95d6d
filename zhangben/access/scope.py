"""Which accounts a caller may see: the one rule every surface applies (REST, the console).

A caller is limited by shops, by account numbers (an API key and its integrator's grants)
and by ownership (a user who is not staff sees only the accounts they own). ``None`` in a
field means no limit of that kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from zhangben.core.queries import EntryFilter
from zhangben.core.records import Account, User


def owner_limit(user: User | None) -> int | None:
    """The owner whose accounts alone ``user`` may see: their own id unless they are staff
    (staff, and callers that are no user, are not limited by ownership)."""
    return user.id if user is not None and not user.is_staff else None


@dataclass(frozen=True, slots=True)
class Scope:
    shops: frozenset[str] | None = None
    accounts: frozenset[str] | None = None
    owner_id: int | None = None

    @classmethod
    def of_user(cls, user: User) -> Scope:
        """A logged-in user's scope (a login session has no shop or account grants)."""
        return cls(owner_id=owner_limit(user))

    @property
    def unrestricted(self) -> bool:
        return self.shops is None and self.accounts is None and self.owner_id is None

    def may_see(self, account: Account) -> bool:
        if self.shops is not None and account.shop_code not in self.shops:
            return False
        if self.accounts is not None and account.number not in self.accounts:
            return False
        return self.owner_id is None or account.owner_user_id == self.owner_id

    def account_filters(self) -> dict:
        """This scope as the filters of ``Ledger.accounts`` (its pages and groups, and of a
        report): only the limits it has."""
        filters: dict = {}
        if self.shops is not None:
            filters["shop_codes"] = sorted(self.shops)
        if self.accounts is not None:
            filters["numbers"] = sorted(self.accounts)
        if self.owner_id is not None:
            filters["owner_user_id"] = self.owner_id
        return filters

    def entries(self) -> EntryFilter:
        """The entries of the accounts in this scope, as a filter to narrow further."""
        return EntryFilter(
            shop_codes=sorted(self.shops) if self.shops is not None else None,
            account_numbers=sorted(self.accounts) if self.accounts is not None else None,
            owner_user_id=self.owner_id,
        )
