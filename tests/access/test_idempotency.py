"""Stored ``Idempotency-Key`` responses: a claim, its stored response, its expiry and purge.
(The protocol around the REST write routes: tests/api/test_writes.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from zhangben.access import idempotency
from zhangben.store.engine import run_write


def test_keys_expire_after_their_ttl(ledger):
    now = datetime.now(UTC)
    h = idempotency.request_hash("POST", "/p", {"a": 1})

    def claim(at, digest=h):
        return run_write(ledger.engine, lambda c: idempotency.begin(c, "c", "k", digest, now=at))

    assert claim(now) is None
    run_write(
        ledger.engine, lambda c: idempotency.store(c, "c", "k", 201, "{}", "application/json")
    )
    assert claim(now + timedelta(hours=23)).status == 201
    assert claim(now + timedelta(hours=25), "other") is None  # expired: free again
    assert (
        run_write(ledger.engine, lambda c: idempotency.purge_expired(c, now + timedelta(days=3)))
        == 1
    )
