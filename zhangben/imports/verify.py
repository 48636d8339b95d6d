"""The one verifier: every check ``zhangben verify`` and ``GET /api/v1/verify`` run, in one
snapshot, as one report. The surfaces only render it.

The checks, in order:

* ``ledger`` — the ledger's own proof (:mod:`zhangben.core.verification`): balances against
  entries, balance-after chains, transfers, reversals, the chart;
* ``bills`` — the imported bill rows (:func:`zhangben.imports.check.check_bills`): their
  continuity (missing, duplicate and reordered rows) and each row's ledger entry;
* ``drift`` — the ledger's balance at each imported row against the platform's balance
  column (:func:`zhangben.imports.check.check_drift`);
* ``periods`` — every closed period's stored figures against their hash and against the
  entries (:func:`zhangben.core.periods.verify`); not by account;
* ``recon`` — the reconciliation audit trail's hash chain
  (:func:`zhangben.store.recon_chain.verify`): every event's hash and its link to the one
  before; not by account.

A new check is one more entry in :data:`CHECKS`; both surfaces then show it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from zhangben.core.periods import verify as verify_periods
from zhangben.core.verification import verify as verify_ledger
from zhangben.imports.check import check_bills, check_drift
from zhangben.store import recon_chain


@dataclass
class Check:
    """One check's outcome: what it covered and the problems it found (each a sentence)."""

    name: str
    #: None for a check that does not go by account (``periods``)
    accounts_checked: int | None
    rows_checked: int
    #: what ``rows_checked`` counts
    rows: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Report:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def problems(self) -> list[str]:
        """Every problem, named by its check (``bills: …``)."""
        return [f"{c.name}: {p}" for c in self.checks for p in c.problems]

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)


def _ledger(conn: Connection) -> Check:
    r = verify_ledger(conn)
    return Check("ledger", r.accounts_checked, r.entries_checked, "entries", r.problems)


def _bills(conn: Connection) -> Check:
    r = check_bills(conn)
    return Check("bills", r.accounts_checked, r.entries_checked, "bill rows", r.problems)


def _drift(conn: Connection) -> Check:
    r = check_drift(conn)
    return Check("drift", r.accounts_checked, r.entries_checked, "platform balances", r.problems)


def _periods(conn: Connection) -> Check:
    r = verify_periods(conn)
    return Check("periods", None, r.periods_checked, "closed periods", r.problems)


def _recon(conn: Connection) -> Check:
    count, problems = recon_chain.verify(conn)
    return Check("recon", None, count, "reconciliation events", problems)


#: every check, in the order both surfaces show them
CHECKS: list[Callable[[Connection], Check]] = [_ledger, _bills, _drift, _periods, _recon]


def verify(conn: Connection) -> Report:
    """Run every check in ``conn``'s snapshot (one read transaction)."""
    return Report([check(conn) for check in CHECKS])


__all__ = ["CHECKS", "Check", "Report", "verify"]
