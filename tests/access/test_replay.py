"""The replay guard's store: a sign is remembered until it expires, then taken over or purged.
(The gateway's use of it: tests/shopex/test_gateway_replay.py.)"""

from datetime import UTC, datetime, timedelta

from zhangben.access import replay
from zhangben.access.replay import purge_expired, remember_sign
from zhangben.store.access_tables import replay_signs
from zhangben.store.engine import read_transaction, run_write


def test_remember_sign_expiry_and_purge(engine, monkeypatch):
    # One call in PURGE_EVERY also purges; here no call may, or the count below would vary.
    monkeypatch.setattr(replay, "PURGE_EVERY", float("inf"))
    now = datetime(2025, 1, 1, tzinfo=UTC)
    later = now + timedelta(seconds=301)

    def remember(at, until):
        return run_write(engine, lambda c: remember_sign(c, "erp01", "S" * 32, until, at))

    assert remember(now, later) is True
    assert remember(now, later) is False
    assert run_write(engine, lambda c: remember_sign(c, "other", "S" * 32, later, now)) is True
    assert remember(later, later + timedelta(seconds=301)) is True  # expired: taken over
    assert remember(later, later + timedelta(seconds=301)) is False
    far = later + timedelta(hours=1)
    assert run_write(engine, lambda c: purge_expired(c, far)) == 2
    with read_transaction(engine) as conn:
        assert conn.execute(replay_signs.select()).all() == []


def test_a_claim_now_and_then_purges_the_expired_signs(engine, monkeypatch):
    monkeypatch.setattr(replay, "PURGE_EVERY", 1)  # every call purges
    now = datetime(2025, 1, 1, tzinfo=UTC)
    later = now + timedelta(seconds=301)
    run_write(engine, lambda c: remember_sign(c, "erp01", "A" * 32, later, now))
    run_write(engine, lambda c: remember_sign(c, "erp01", "B" * 32, later + (later - now), later))
    with read_transaction(engine) as conn:
        assert [r.sign for r in conn.execute(replay_signs.select())] == ["B" * 32]
