"""``pg_ctl stop -m immediate`` under keyed transfer load: zhangben answers 503 with
Retry-After while PostgreSQL is down, logs a bounded number of lines, recovers without a
restart when PostgreSQL is back, and nothing acknowledged is lost.

The cluster is this test's own (the suite's is shared), durable (fsync and synchronous commit
on), since an immediate stop loses what a commit has not flushed."""

from __future__ import annotations

import time
from collections import Counter

import httpx
import psycopg
import pytest

from tests import pgserver
from tests.reliability.support import (
    Outcomes,
    Server,
    check_ledger,
    log_lines,
    record,
    resolve,
    run_load,
    seed,
    size,
)
from zhangben.store.engine import make_engine
from zhangben.store.migrate import upgrade

RESTARTS = size(1, 5)
CLIENTS = 3
UP_S, DOWN_S = size((1.5, 2.0), (5.0, 5.0))
#: Log lines allowed while the database is down, per outage (one per failure class and
#: process, and per minute; a traceback per request would be thousands)
MAX_LOG_LINES = 20


@pytest.fixture
def own_cluster():
    server = pgserver.start(durable=True)
    dsn = server.url().replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE DATABASE zb_restart")
    url = server.url("zb_restart")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield server, url
    try:
        server.stop()
    except Exception:  # noqa: BLE001 - already stopped
        pass


def test_postgresql_immediate_stop_under_load(own_cluster, tmp_path):
    pg, url = own_cluster
    ledger, secret, caller = seed(url)
    ledger.engine.dispose()
    outcomes = Outcomes()
    log = tmp_path / "serve.log"
    server = Server(url, log, workers=2).start()
    during, answers_down, recovered_after = [], Outcomes(), []
    statuses_down = Counter()
    try:
        for _ in range(RESTARTS):

            def outage():
                time.sleep(UP_S)
                before = len(log_lines(log))
                pg.crash()
                # while it is down: what a caller gets, and what the log gets
                run_load(
                    server.base,
                    secret,
                    answers_down,
                    2,
                    lambda: time.sleep(DOWN_S),
                    pause=0.05,
                    stop_on_error=False,
                )
                ready = httpx.get(server.base + "/readyz", timeout=5)
                assert ready.status_code == 503 and ready.headers["Retry-After"]
                assert httpx.get(server.base + "/healthz", timeout=5).status_code == 200
                during.append(len(log_lines(log)) - before)
                statuses_down.update(answers_down.statuses)
                answers_down.statuses.clear()
                pg.restart()
                restarted = time.monotonic()
                recovered_after.append(_wait_healthy(server.base) - restarted)
                time.sleep(UP_S)

            run_load(server.base, secret, outcomes, CLIENTS, outage, stop_on_error=False)
        unresolved = resolve(server.base, secret, outcomes)
        unresolved += resolve(server.base, secret, answers_down)
    finally:
        server.stop()
    text = log.read_text(errors="replace")
    assert "Traceback" not in text
    assert unresolved == 0
    assert all(n <= MAX_LOG_LINES for n in during), during
    assert statuses_down[503] > 0, statuses_down
    assert set(statuses_down) <= {503}, statuses_down  # every answer while down: 503
    outcomes.bodies.update(answers_down.bodies)
    outcomes.acked.update(answers_down.acked)
    outcomes.refused |= answers_down.refused
    outcomes.unknown |= answers_down.unknown
    figures = check_ledger(ledger, outcomes, caller)
    record(
        "PostgreSQL stopped with -m immediate under load",
        backend="postgresql",
        workers=2,
        restarts=RESTARTS,
        attempts=len(outcomes.bodies),
        answers_while_down=dict(statuses_down),
        log_lines_while_down=during,
        seconds_to_recover_after_restart=[round(s, 1) for s in recovered_after],
        **figures,
    )
    ledger.engine.dispose()


def _wait_healthy(base: str, timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return time.monotonic()
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("zhangben did not recover after PostgreSQL came back")
