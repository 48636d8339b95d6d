"""Login throttling in :mod:`zhangben.access.sessions`: five failures lock a username at one
address, thirty lock the address, a lock's end and the time it has left, unlocking, and
failures spread too thin to lock. (The same over 壹川's HTTP: tests/yichuan; the CLI's
``user unlock``: tests/cli/test_users.py.)"""

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
from zhangben.core.errors import LedgerError
from zhangben.store.access_tables import login_failures
from zhangben.store.engine import read_transaction


@pytest.fixture
def people(ledger):
    """Two users: finance (staff), and merchant, who owns an account."""
    add_user(ledger, "finance", STAFF_PW, role="staff", display_name="财务")
    merchant = add_user(ledger, "merchant", USER_PW)
    ledger.open_account(number="0000000000000002", name="商户", owner_user_id=merchant.id)


def _login(ledger, username, password, at, ip="10.9.9.9"):
    return Access(ledger).login(username, password, ip=ip, now=at, ttl_seconds=60)


def test_a_lock_ends_after_fifteen_minutes_and_success_resets_the_count(ledger, people):
    now = datetime(2024, 1, 1, tzinfo=UTC)

    def attempt(password, at):
        return _login(ledger, "merchant", password, at)

    for i in range(4):
        with pytest.raises(sessions.LoginFailed) as failed:
            attempt("bad-guess", now + timedelta(seconds=i))
        assert not isinstance(failed.value, sessions.LoginThrottled)
    with pytest.raises(sessions.LoginThrottled) as fifth:
        attempt("bad-guess", now + timedelta(seconds=4))
    assert fifth.value.retry_after == 900
    assert fifth.value.message == (
        "wrong username or password; after this failure this username is locked at this "
        "address: try again in 15 min"
    )
    with pytest.raises(sessions.LoginThrottled) as locked:
        attempt(USER_PW, now + timedelta(minutes=14))
    assert locked.value.retry_after == 64  # locked from the fifth failure (at +4 s) for 15 min
    assert locked.value.message == (
        "too many failed logins; this username is locked at this address: try again in 1 min 4 s"
    )
    _, user, _ = attempt(USER_PW, now + timedelta(minutes=15, seconds=5))
    assert user.username == "merchant"
    # Success cleared the failures: four more do not lock it.
    later = now + timedelta(minutes=20)
    for i in range(4):
        with pytest.raises(sessions.LoginFailed) as failed:
            attempt("bad-guess", later + timedelta(seconds=i))
        assert not isinstance(failed.value, sessions.LoginThrottled)
    assert attempt(USER_PW, later + timedelta(seconds=10))[1].username == "merchant"


def test_a_lock_is_of_one_username_at_one_address(ledger, people):
    """Five failures for merchant from one address lock merchant there only: merchant logs in
    from another address, and finance from the same one (issue 14, point 15)."""
    now = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(5):
        with pytest.raises(sessions.LoginFailed):
            _login(ledger, "merchant", "bad-guess", now + timedelta(seconds=i), ip="10.0.0.1")
    with pytest.raises(sessions.LoginThrottled):
        _login(ledger, "merchant", USER_PW, now + timedelta(minutes=1), ip="10.0.0.1")
    at = now + timedelta(minutes=1)
    assert _login(ledger, "merchant", USER_PW, at, ip="10.0.0.2")[1].username == "merchant"
    assert _login(ledger, "finance", STAFF_PW, at, ip="10.0.0.1")[1].username == "finance"
    # merchant's success elsewhere does not lift the lock at 10.0.0.1
    with pytest.raises(sessions.LoginThrottled):
        _login(ledger, "merchant", USER_PW, now + timedelta(minutes=2), ip="10.0.0.1")


def test_failures_from_many_addresses_lock_no_one(ledger, people):
    """Guesses at one username from many addresses cannot lock its owner out."""
    now = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(20):
        with pytest.raises(sessions.LoginFailed) as failed:
            _login(ledger, "merchant", "bad", now + timedelta(seconds=i), ip=f"10.1.0.{i}")
        assert not isinstance(failed.value, sessions.LoginThrottled)
    at = now + timedelta(seconds=30)
    assert _login(ledger, "merchant", USER_PW, at, ip="10.1.0.99")[1].username == "merchant"


def test_thirty_failures_from_one_address_lock_the_address(ledger, people):
    """Spraying: one guess at each of many usernames from one address. The thirtieth failure
    locks the address for every username, the right password included; other addresses are
    not affected."""
    now = datetime(2024, 1, 1, tzinfo=UTC)
    limit = sessions.MAX_ADDRESS_FAILURES
    for i in range(limit - 1):
        with pytest.raises(sessions.LoginFailed) as failed:
            _login(ledger, f"user{i}", "spray-1", now + timedelta(seconds=i), ip="192.0.2.7")
        assert not isinstance(failed.value, sessions.LoginThrottled)
    with pytest.raises(sessions.LoginThrottled) as last:
        _login(ledger, "ghost", "spray-1", now + timedelta(seconds=limit), ip="192.0.2.7")
    assert "logging in from this address is locked" in last.value.message
    with pytest.raises(sessions.LoginThrottled) as locked:
        _login(ledger, "finance", STAFF_PW, now + timedelta(minutes=5), ip="192.0.2.7")
    assert locked.value.message == (
        f"too many failed logins; logging in from this address is locked (over {limit} "
        "failures): try again in 10 min 30 s"
    )
    at = now + timedelta(minutes=5)
    assert _login(ledger, "finance", STAFF_PW, at, ip="192.0.2.8")[1].username == "finance"
    after = now + timedelta(seconds=limit, minutes=15)
    assert _login(ledger, "finance", STAFF_PW, after, ip="192.0.2.7")[1].username == "finance"


def test_unlock_lifts_a_lock_at_once(ledger, people):
    now = datetime.now(UTC)
    access = Access(ledger)
    for ip in ("10.5.0.1", "10.5.0.2"):
        for _ in range(5):
            with pytest.raises(sessions.LoginFailed):
                _login(ledger, "merchant", "bad-guess", now, ip=ip)
    assert access.login_lock("merchant", "10.5.0.1", now) is not None
    assert access.unlock_logins("merchant", "10.5.0.1") == 5
    assert _login(ledger, "merchant", USER_PW, now, ip="10.5.0.1")[1].username == "merchant"
    with pytest.raises(sessions.LoginThrottled):  # the other address is still locked
        _login(ledger, "merchant", USER_PW, now, ip="10.5.0.2")
    assert access.unlock_logins("merchant") == 5
    assert _login(ledger, "merchant", USER_PW, now, ip="10.5.0.2")[1].username == "merchant"
    assert access.unlock_logins("merchant") == 0
    # an address's own lock
    for i in range(sessions.MAX_ADDRESS_FAILURES):
        with pytest.raises(sessions.LoginFailed):
            _login(ledger, f"u{i}", "spray", now, ip="10.6.0.1")
    lock = access.login_lock("finance", "10.6.0.1", now)
    assert lock is not None and lock.address_wide
    assert access.unlock_logins("finance", "10.6.0.1") == 0  # finance's own: none
    assert access.unlock_logins(None, "10.6.0.1") == sessions.MAX_ADDRESS_FAILURES
    assert _login(ledger, "finance", STAFF_PW, now, ip="10.6.0.1")[1].username == "finance"
    with pytest.raises(LedgerError):
        access.unlock_logins(None, None)


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
    """24 wrong guesses at once, then (once five are counted, however loaded the machine) the
    right password: at most five guesses are judged
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

    def counted() -> int:
        with read_transaction(ledger.engine) as conn:
            return conn.execute(
                sa.select(sa.func.count()).where(login_failures.c.username == "merchant")
            ).scalar_one()

    with ThreadPoolExecutor(25) as pool:
        wrong = [pool.submit(attempt, f"guess-{i}") for i in range(24)]
        deadline = time.monotonic() + 30  # the right password last: once five are counted
        while counted() < sessions.MAX_FAILURES and time.monotonic() < deadline:
            time.sleep(0.005)
        right = pool.submit(attempt, USER_PW, False)
        outcomes = [f.result() for f in wrong] + [right.result()]
    assert outcomes.count("session") == 0, outcomes
    assert outcomes.count("verdict") <= sessions.MAX_FAILURES, outcomes
    assert right.result() == "locked"
    assert counted() <= sessions.MAX_FAILURES


def test_a_burst_of_sprayed_guesses_from_one_address_gets_at_most_thirty_verdicts(
    ledger, people, monkeypatch
):
    """40 concurrent guesses from one address, each at another username: attempts are
    serialized per address, so at most MAX_ADDRESS_FAILURES are judged."""
    verify = sessions.password_matches

    def slow_verify(row, password):
        time.sleep(0.02)
        return verify(row, password)

    monkeypatch.setattr(sessions, "password_matches", slow_verify)
    now = datetime.now(UTC)
    start = threading.Barrier(40)

    def attempt(i):
        start.wait()
        try:
            Access(ledger).login(f"user{i}", "spray", ip="10.8.0.1", now=now, ttl_seconds=60)
        except sessions.LoginThrottled as exc:
            return "verdict" if exc.message.startswith("wrong username") else "locked"
        except sessions.LoginFailed:
            return "verdict"
        return "session"

    with ThreadPoolExecutor(40) as pool:
        outcomes = list(pool.map(attempt, range(40)))
    assert outcomes.count("verdict") == sessions.MAX_ADDRESS_FAILURES, outcomes
    assert outcomes.count("locked") == 40 - sessions.MAX_ADDRESS_FAILURES
