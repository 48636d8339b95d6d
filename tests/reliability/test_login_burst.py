"""A burst of concurrent 壹川 logins for one username against a live server, the right
password sent last: at most five guesses get a verdict, and no session is opened. (Real
argon2, as the server hashes; the same at the facade: tests/access/test_sessions_throttling.py.)"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa

from tests.reliability.support import Server, record, size
from zhangben.access import sessions
from zhangben.store.access_tables import login_failures
from zhangben.store.access_tables import sessions as session_rows
from zhangben.store.engine import make_engine, read_transaction, run_write

PASSWORD = "the-right-password-7"  # noqa: S105 - a test user's
BURSTS = size(1, 5)
WRONG = size(16, 30)


def test_login_burst_with_the_right_password_last(db_url, backend, tmp_path):
    engine = make_engine(db_url)
    run_write(
        engine,
        lambda c: sessions.add_user(c, username="merchant", password=PASSWORD, role="user"),
    )
    server = Server(db_url, tmp_path / "serve.log", workers=2).start()
    tally: Counter = Counter()
    try:
        for burst in range(BURSTS):
            if burst:  # a fresh window for the next burst
                run_write(engine, lambda c: c.execute(sa.text("DELETE FROM login_failures")))
            outcomes = _burst(server.base, engine)
            verdicts = sum(1 for o in outcomes if o in ("wrong", "session"))
            tally.update(outcomes)
            tally["max verdicts in a burst"] = max(tally["max verdicts in a burst"], verdicts)
            assert verdicts <= sessions.MAX_FAILURES, outcomes
            assert "session" not in outcomes, outcomes
            assert outcomes[-1] == "locked"
    finally:
        server.stop()
    with read_transaction(engine) as conn:
        opened = conn.execute(sa.select(sa.func.count()).select_from(session_rows)).scalar_one()
    assert opened == 0
    engine.dispose()
    record(
        "login burst, right password last",
        backend=backend,
        workers=2,
        bursts=BURSTS,
        attempts=BURSTS * (WRONG + 1),
        verdicts=tally["wrong"] + tally["session"],
        max_verdicts_in_a_burst=tally["max verdicts in a burst"],
        locked_without_verdict=tally["locked"],
        sessions_opened=opened,
    )


def _burst(base: str, engine) -> list[str]:
    """WRONG concurrent wrong guesses, then the right password, sent while the guesses are
    being judged, once five of them are counted (the lock is then in place, however slowly a
    busy machine lets the guesses in): each attempt's outcome, the right one last."""
    start = threading.Barrier(WRONG)

    def attempt(password: str, wait: bool) -> str:
        if wait:
            start.wait()
        r = httpx.post(
            base + "/v3/login", data={"username": "merchant", "password": password}, timeout=60
        )
        body = r.json()
        if body["code"] == 0:
            return "session"
        if body["code"] == 40102 or body["msg"].startswith("wrong username or password"):
            return "wrong"  # a verdict on the guess
        assert body["code"] == 40103, body
        return "locked"  # refused by the lock, the guess never judged

    with ThreadPoolExecutor(WRONG + 1) as pool:
        wrong = [pool.submit(attempt, f"guess-{i}", True) for i in range(WRONG)]
        deadline = time.monotonic() + 60
        while _counted(engine) < sessions.MAX_FAILURES and time.monotonic() < deadline:
            time.sleep(0.01)
        right = pool.submit(attempt, PASSWORD, False)
        return [f.result() for f in wrong] + [right.result()]


def _counted(engine) -> int:
    """Attempts the server has let through to be judged (each is counted as a failure first)."""
    with read_transaction(engine) as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(login_failures)).scalar_one()
