"""The imports facade: bill files in, and what they left behind (import records, bill rows,
category rules), and the one verifier of the ledger and its bills, as the adapters (CLI, REST,
ShopEx bill methods) use them.

As with :class:`~zhangben.core.ledger.Ledger`, each method is one transaction of its own; the
functions it calls take a connection.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from zhangben.core.ledger import Ledger
from zhangben.core.queries import chart_names
from zhangben.imports import bills, rules, runner
from zhangben.imports import verify as verifier
from zhangben.imports.bills import BillFilter, BillRecord, ImportRecord, PlatformBalance
from zhangben.imports.rules import Rule
from zhangben.imports.runner import ImportReport
from zhangben.store.engine import read_transaction, run_write


class Imports:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._engine = ledger.engine

    def _read(self, work):
        with read_transaction(self._engine) as conn:
            return work(conn)

    def _write(self, work):
        return run_write(self._engine, work)

    def import_file(self, path: str | Path, **kw) -> ImportReport:
        """Import one bill file (see :func:`zhangben.imports.runner.import_file`)."""
        return runner.import_file(self.ledger, path, **kw)

    def records(self, **kw) -> list[ImportRecord]:
        """The import records, newest first (``account_number``, ``limit``, ``latest``: each
        account's newest only, and filters of the accounts: ``types``, ``shop_codes``,
        ``numbers``, ``owner_user_id``, …)."""
        return self._read(lambda c: bills.list_imports(c, **kw))

    def bills(
        self, f: BillFilter, *, limit: int = 100, offset: int = 0
    ) -> tuple[int, list[BillRecord]]:
        """``(total matching, one page of bill rows newest first)``."""
        return self._read(lambda c: bills.bill_page(c, f, limit=limit, offset=offset))

    def rules(self, platform: str | None = None) -> tuple[list[Rule], dict[int, str]]:
        """The category rules, and the chart's names by id (one snapshot)."""
        return self._read(lambda c: (rules.list_rules(c, platform), chart_names(c, refresh=True)))

    def set_rule(self, platform: str, business_type: str, **kw) -> Rule:
        """Add or replace a rule (see :func:`zhangben.imports.rules.set_rule`)."""
        return self._write(lambda c: rules.set_rule(c, platform, business_type, **kw))

    def delete_rule(self, platform: str, business_type: str, direction: str = "any") -> bool:
        """Remove a rule; True when there was one."""
        return self._write(lambda c: rules.delete_rule(c, platform, business_type, direction))

    def platform_balances(self, before: datetime) -> dict[str, PlatformBalance]:
        """Per bill account (by number): the platform's balance column at its last imported
        row dated before ``before`` (:func:`zhangben.imports.bills.platform_balances`)."""
        return self._read(lambda c: bills.platform_balances(c, before))

    def totals(self) -> list[tuple[str, str, int, int, int, int]]:
        """Per platform and status: ``(platform, status, import records, rows new, rows
        duplicate, rows rejected)`` (the server's metrics)."""
        return self._read(bills.import_totals)

    def verify(self) -> verifier.Report:
        """Every check of the ledger and its imported bills, in one snapshot: the one verifier
        behind ``zhangben verify`` and ``GET /api/v1/verify`` (:mod:`zhangben.imports.verify`)."""
        return self._read(verifier.verify)
