"""Login throttling in :mod:`zhangben.access.sessions`: a lock after five failures, its end,
and failures spread too thin to lock. (The same over 壹川's HTTP: tests/yichuan.)"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.yichuan.support import (
    STAFF_PW,
    USER_PW,
    add_user,
    cheap_argon2,  # noqa: F401 - autouse fixture
)
from zhangben.access import sessions
from zhangben.access.service import Access
from zhangben.store.access_tables import login_failures
from zhangben.store.engine import read_transaction


@pytest.fixture
def people(ledger):
    """Two users: finance (staff), and merchant, who owns an account."""
    add_user(ledger, "finance", STAFF_PW, role="staff", display_name="财务")
    merchant = add_user(ledger, "merchant", USER_PW)
    ledger.open_account(number="0000000000000002", name="商户", owner_user_id=merchant.id)


def test_a_lock_ends_after_fifteen_minutes_and_success_resets_the_count(ledger, people):
    now = datetime(2024, 1, 1, tzinfo=UTC)

    def attempt(password, at, ip="10.9.9.9"):
        return Access(ledger).login("merchant", password, ip=ip, now=at, ttl_seconds=60)

    for i in range(5):
        with pytest.raises(sessions.LoginFailed):
            attempt("bad-guess", now + timedelta(seconds=i), ip=f"10.1.0.{i}")
    with pytest.raises(sessions.LoginThrottled) as locked:
        attempt(USER_PW, now + timedelta(minutes=14))
    assert locked.value.retry_after == 64  # locked from the fifth failure (at +4 s) for 15 min
    _, user, _ = attempt(USER_PW, now + timedelta(minutes=15, seconds=5))
    assert user.username == "merchant"
    # Success cleared the username's failures: four more do not lock it.
    later = now + timedelta(minutes=20)
    for i in range(4):
        with pytest.raises(sessions.LoginFailed) as failed:
            attempt("bad-guess", later + timedelta(seconds=i), ip=f"10.2.0.{i}")
        assert not isinstance(failed.value, sessions.LoginThrottled)
    assert attempt(USER_PW, later + timedelta(seconds=10))[1].username == "merchant"


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(ledger, people):
    now = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(6):
        with pytest.raises(sessions.LoginFailed) as failed:
            Access(ledger).login(
                "merchant",
                "bad-guess",
                ip=f"10.3.0.{i}",
                now=now + timedelta(minutes=4 * i),
                ttl_seconds=60,
            )
        assert not isinstance(failed.value, sessions.LoginThrottled)


def test_a_burst_of_concurrent_guesses_gets_at_most_five_verdicts(ledger, people, monkeypatch):
    """24 wrong guesses at once, then the right password: at most five guesses are judged
    (answered "wrong username or password"), every other attempt is refused by the lock
    without a verdict, and the right password opens no session. The hash is made to take
    50 ms, as argon2's real cost does, so that the attempts overlap."""
    verify = sessions.password_matches

    def slow_verify(row, password):
        time.sleep(0.05)
        return verify(row, password)

    monkeypatch.setattr(sessions, "password_matches", slow_verify)
    now = datetime.now(UTC)
    start = threading.Barrier(24)

    def attempt(password, wait=True):
        if wait:
            start.wait()
        try:
            Access(ledger).login("merchant", password, ip="10.7.0.1", now=now, ttl_seconds=60)
            return "session"
        except sessions.LoginThrottled as exc:
            judged = exc.message.startswith("wrong username or password")
            return "verdict" if judged else "locked"
        except sessions.LoginFailed:
            return "verdict"

    with ThreadPoolExecutor(25) as pool:
        wrong = [pool.submit(attempt, f"guess-{i}") for i in range(24)]
        time.sleep(0.02)
        right = pool.submit(attempt, USER_PW, False)
        outcomes = [f.result() for f in wrong] + [right.result()]
    assert outcomes.count("session") == 0, outcomes
    assert outcomes.count("verdict") <= sessions.MAX_FAILURES, outcomes
    assert right.result() == "locked"
    with read_transaction(ledger.engine) as conn:
        counted = conn.execute(
            sa.select(sa.func.count()).where(login_failures.c.username == "merchant")
        ).scalar_one()
    assert counted <= sessions.MAX_FAILURES
