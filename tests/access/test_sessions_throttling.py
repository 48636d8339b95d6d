"""Login throttling in :mod:`zhangben.access.sessions`: a lock after five failures, its end,
and failures spread too thin to lock. (The same over 壹川's HTTP: tests/yichuan.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.yichuan.support import (
    STAFF_PW,
    USER_PW,
    add_user,
    cheap_argon2,  # noqa: F401 - autouse fixture
)
from zhangben.access import sessions
from zhangben.access.service import Access


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
