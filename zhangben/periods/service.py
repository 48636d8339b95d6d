"""The periods facade: each method one transaction of its own, as for ``Ledger`` and
``Imports``. A close runs its checks in one read snapshot first (they take no lock, however
long they are), then closes in the core, which checks the periods' state again under its lock
and refuses when a check found anything, unless ``force`` acknowledges it."""

from __future__ import annotations

from zhangben.core import periods
from zhangben.core.ledger import Ledger
from zhangben.core.periods import AccountFigures, Finding, Period, PeriodsReport
from zhangben.periods import checks
from zhangben.periods.workbook import MonthBook
from zhangben.store.engine import read_transaction


class Periods:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def checks(self, month: str, *, shop: str | None = None) -> list[Finding]:
        """What stands in the way of closing ``month`` of ``shop`` (None: the whole ledger)."""
        scope = checks.Scope(periods.Month.parse(month), periods.check_shop(shop), self.ledger.tz)
        with read_transaction(self.ledger.engine) as conn:
            return checks.run(conn, scope)

    def close(
        self, month: str, *, shop: str | None = None, actor: str, force: bool = False
    ) -> Period:
        """Close the month: refused (``PeriodNotReady``, with the findings) when a check finds
        anything, unless ``force``, which stores the findings as acknowledged."""
        self.ledger.check_closable(month, shop=shop)
        found = self.checks(month, shop=shop)
        return self.ledger.close_period(month, shop=shop, actor=actor, force=force, findings=found)

    def reopen(
        self, month: str, *, shop: str | None = None, actor: str, reason: str | None
    ) -> Period:
        return self.ledger.reopen_period(month, shop=shop, actor=actor, reason=reason)

    def get(self, month: str, *, shop: str | None = None) -> Period:
        return self.ledger.period(month, shop=shop)

    def list_periods(self, *, shop: str | None = None) -> list[Period]:
        return self.ledger.periods(shop=shop)

    def closed_through(self) -> dict[str | None, str]:
        return self.ledger.closed_through()

    def figures(self, month: str, *, shop: str | None = None) -> list[AccountFigures]:
        return self.ledger.month_figures(month, shop=shop)

    def month_book(self, month: str, **kw) -> MonthBook:
        """Everything the 月结 workbook of ``month`` shows (:meth:`MonthBook.gather`: ``shop``,
        the caller's reach, ``with_period``, ``with_checks``); :func:`.workbook.write` writes it."""
        return MonthBook.gather(self, month, **kw)

    def verify(self) -> PeriodsReport:
        return self.ledger.verify_periods()
