"""Bill rows as postings: the same key rule, fingerprint and rules, for the staged writer.

A bill row that moves money is an income or an expense on the bill's account, keyed by its
platform flow (``{platform}:{flow}``, the key a caller posting the same flow by hand with
``source=platform, external_id=flow`` gets) and fingerprinted as that income or expense made
through :meth:`Ledger.income` / :meth:`Ledger.expense` would be. R2 and R3 run on each row as
it is planned; R6 and R9 on the locked account; R10 and R11 in the staged writer's SQL; R13 in
the period guard on ``entries``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from zhangben.core.errors import LedgerError
from zhangben.core.money import MAX_BALANCE_MINOR, from_minor
from zhangben.core.postings import execute, rules
from zhangben.core.postings.keys import posting_key, simple_fingerprint
from zhangben.store.writers import staged
from zhangben.store.writers.outcomes import RuleBroken
from zhangben.store.writers.staged import Posted, Stage

__all__ = ["BillPlanner", "Posted", "Stage", "discard", "post"]

#: drop a connection's staging tables (SQLite keeps them for the connection's life)
discard = staged.discard


@dataclass(slots=True)
class BillPlanner:
    """Plans the rows of one bill file for one account."""

    platform: str
    account_id: int
    operator_id: int | None
    chart: dict  # zhangben.core.chart.index

    def key(self, ukey: str) -> str:
        """The posting key of the flow ``ukey`` (the flow number, or the row's own key)."""
        return posting_key(None, None, self.platform, ukey)  # type: ignore[return-value]

    def row(
        self,
        line: int,
        ukey: str,
        net: int,
        when: datetime,
        counterparty: str | None,
        category_id: int | None,
        subject_id: int | None,
        description: str,
        remark: str,
    ) -> str:
        """R2 and R3 on a row that moves ``net`` minor units; returns its fingerprint. An
        error names the line (``line 12: counterparty: …``)."""
        kind = "income" if net > 0 else "expense"
        try:
            rules.check_text("external_id", ukey, blank_ok=False)
            rules.check_text("counterparty", counterparty)
            rules.check_text("description", description)
            rules.check_text("remark", remark)
            if category_id is not None or subject_id is not None:
                rules.check_chart(self.chart, kind, category_id, subject_id)
        except LedgerError as exc:
            raise rules.at(exc, f"line {line}") from None
        return simple_fingerprint(
            kind, self.account_id, f"{from_minor(abs(net))}", description, category_id,
            subject_id, counterparty, None, when.isoformat(), self.operator_id, remark,
            self.platform, ukey,
        )  # fmt: skip


def post(
    conn: Connection,
    stage: Stage,
    *,
    platform: str,
    account_id: int,
    import_id: int,
    operator_id: int | None,
    now: datetime,
    newest_first: bool,
    headers: tuple[str, ...],
    tz: ZoneInfo | None = None,
) -> Posted:
    """Lock the account, check R6 and R9, and write the staged rows (R10, R11 in SQL; R13 by
    the period guard on entries; ``tz`` dates its refusal)."""
    states, _ = execute.lock_states(conn, [account_id], [])
    acc = states.get(account_id)
    if acc is None:
        raise rules.not_found(account_id)
    if acc.status != "open":
        raise rules.closed(acc.number)
    target = staged.Target(
        platform=platform,
        account_id=acc.id,
        account_number=acc.number,
        allow_overdraft=acc.allow_overdraft,
        max_balance=MAX_BALANCE_MINOR,
        balance=acc.balance,
        import_id=import_id,
        operator_id=operator_id,
        now=now,
        newest_first=newest_first,
        headers=headers,
    )
    try:
        return staged.post_staged(stage, target)
    except RuleBroken as exc:
        line, flow = exc.position
        if exc.rule == "R5":
            key, posting_id = exc.facts
            error: LedgerError = rules.flow_posted(key, posting_id)
        else:
            error = execute.broken(exc, tz)
        # the platform's flow number where the row has one (a JD row's own key is a hash)
        raise rules.at(error, f"line {line} (flow {flow})" if flow else f"line {line}") from None
