"""Property tests: random sequences of postings, transfers and reversals never break the
ledger's invariants (see ``zhangben.core``'s docstring)."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhangben.core import errors
from zhangben.core.ledger import Ledger
from zhangben.store.tables import entries

ACCOUNTS = ["A", "B", "C", "D"]
amounts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("5000"), places=4)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("income"), st.sampled_from(ACCOUNTS), amounts),
        st.tuples(st.just("expense"), st.sampled_from(ACCOUNTS), amounts),
        st.tuples(
            st.just("transfer"), st.sampled_from(ACCOUNTS), st.sampled_from(ACCOUNTS), amounts
        ),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=40)),
    ),
    max_size=25,
)


def check_invariants(ledger: Ledger, expected: dict[str, Decimal]) -> None:
    report = ledger.verify()
    assert report.ok, report.problems
    for acc in ledger.accounts():
        assert acc.balance == expected[acc.number]
        assert acc.balance >= 0 or acc.allow_overdraft
    with ledger.engine.connect() as c:
        rows = c.execute(
            sa.select(entries.c.account_id, entries.c.amount, entries.c.balance_after).order_by(
                entries.c.id
            )
        ).all()
    running: dict[int, int] = {}
    for account_id, amount, after in rows:
        running[account_id] = running.get(account_id, 0) + amount
        assert running[account_id] == after


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=ops)
def test_random_sequences_keep_invariants(ledger_factory, steps):
    ledger = ledger_factory()
    for n in ACCOUNTS:
        ledger.open_account(number=n, name=n, allow_overdraft=(n == "D"))
    expected = {n: Decimal(0) for n in ACCOUNTS}
    total_before = Decimal(0)
    posted = []
    for step in steps:
        try:
            if step[0] == "income":
                r = ledger.income(step[1], step[2])
                expected[step[1]] += step[2]
                total_before += step[2]
            elif step[0] == "expense":
                r = ledger.expense(step[1], step[2])
                expected[step[1]] -= step[2]
                total_before -= step[2]
            elif step[0] == "transfer":
                r = ledger.transfer(step[1], step[2], step[3])
                expected[step[1]] -= step[3]
                expected[step[2]] += step[3]
            else:
                if not posted:
                    continue
                target = posted[step[1] % len(posted)]
                r = (
                    ledger.reverse_transfer(target.posting_id)
                    if target.kind == "transfer"
                    else ledger.reverse_entry(target.entries[0].id)
                )
                for e in r.entries:
                    expected[e.account_number] += e.amount
                    total_before += e.amount if target.kind != "transfer" else 0
            posted.append(r)
            for e in r.entries:  # money never loses precision on the way through
                assert e.amount == e.amount.quantize(Decimal("0.0001"))
        except (
            errors.InsufficientFunds,
            errors.SameAccount,
            errors.AlreadyReversed,
            errors.ValidationError,
        ):
            pass
        # transfers conserve the total; only income/expense (and their reversals) change it
        assert sum(expected.values()) == total_before
    check_invariants(ledger, expected)
