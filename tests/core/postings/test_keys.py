"""The one key rule and the versioned fingerprint (I6)."""

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from zhangben.core.postings.keys import (
    FINGERPRINT_VERSION,
    fingerprint,
    posting_key,
    simple_fingerprint,
    transfer_fingerprint,
)
from zhangben.store.tables import postings

#: (key, request hash) as the release before the one planner (f21b62c) stored them for the
#: three requests below: fingerprint version 1 must keep producing exactly these.
STORED_BY_THE_LAST_RELEASE = [
    ("trade:OLD-1", "7e90b56283ea2ffd4cac5d9d12391c88a0b871cc12f46e407749627e39279b17"),
    ("OLD-2", "17a397564a729266904e8a55536d9d0cb855de50a76124dc3c0fa459b0af604a"),
    ("alipay:F-OLD", "0e5f447ed7f4e7281c7a2cf9e1fa8fa85d5fe82e391edcbdda574c2b84354f22"),
]


def test_the_key_rule():
    assert posting_key("K", "T", "alipay", "F") == "K"
    assert posting_key(None, "T", "alipay", "F") == "trade:T"
    assert posting_key(None, None, "alipay", "F") == "alipay:F"
    assert posting_key(None, None, "alipay", None) is None


def _three(ledger):
    ledger.open_account(number="A", name="a")
    ledger.open_account(number="B", name="b")
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=8)))
    ledger.income("A", "12.34", trade_no="OLD-1", counterparty="淘宝", remark="r", trade_time=when)
    ledger.transfer("A", "B", "1.5", idempotency_key="OLD-2")
    ledger.expense("A", "0.5", source="alipay", external_id="F-OLD", category_id=4, subject_id=6)
    return when


def test_keys_stored_by_the_last_release_still_replay(ledger):
    """Version 1 is byte for byte what single postings hashed before the write paths were
    unified: the same requests store the same hashes, so older keys replay."""
    assert FINGERPRINT_VERSION == 1
    when = _three(ledger)
    with ledger.engine.connect() as conn:
        stored = conn.execute(
            sa.select(postings.c.idempotency_key, postings.c.request_hash).order_by(postings.c.id)
        ).all()
    assert [tuple(r) for r in stored] == STORED_BY_THE_LAST_RELEASE
    again = ledger.income(
        "A", "12.34", trade_no="OLD-1", counterparty="淘宝", remark="r", trade_time=when
    )
    assert again.replayed


@given(
    st.one_of(st.text(max_size=20), st.integers(min_value=1, max_value=10**6)),
    st.one_of(st.text(max_size=20), st.integers(min_value=1, max_value=10**6)),
    st.integers(min_value=1, max_value=10**15),
)
def test_the_transfer_template_is_the_canonical_text(source, target, minor):
    """Batches of keyed transfers hash a template; it must be fingerprint()'s text exactly."""
    whole, frac = divmod(minor, 10**4)
    amount = f"{whole}.{frac:04d}"
    fields = {"kind": "transfer", "from": source, "to": target, "amount": amount,
              "description": None, "trade_no": None, "trade_time": None, "operator_id": None,
              "remark": None, "source": "internal", "external_id": None}  # fmt: skip
    assert transfer_fingerprint(source, target, amount) == fingerprint(fields)


_TEXT = st.one_of(st.none(), st.text(max_size=12))
_ID = st.one_of(st.none(), st.integers(min_value=-(2**40), max_value=2**40))


@given(
    st.sampled_from(["income", "expense"]),
    st.one_of(st.text(max_size=12), st.integers(min_value=1, max_value=10**6)),
    st.text(max_size=12),
    _ID,
    _ID,
    _TEXT,
    _TEXT,
    _TEXT,
    _ID,
    _TEXT,
    st.text(max_size=8),
    _TEXT,
)
def test_the_simple_template_is_the_canonical_text(
    kind, account, description, category, subject, counterparty, trade_no, trade_time,
    operator, remark, source, external,
):  # fmt: skip
    """Bill rows hash a template; it must be fingerprint()'s text exactly."""
    fields = {"kind": kind, "account": account, "amount": "12.3400", "description": description,
              "category_id": category, "subject_id": subject, "counterparty": counterparty,
              "trade_no": trade_no, "trade_time": trade_time, "operator_id": operator,
              "remark": remark, "source": source, "external_id": external}  # fmt: skip
    assert simple_fingerprint(
        kind, account, "12.3400", description, category, subject, counterparty, trade_no,
        trade_time, operator, remark, source, external,
    ) == fingerprint(fields)  # fmt: skip
