"""kill -9 of ``zhangben serve`` (1 and 2 workers, SQLite and PostgreSQL) under keyed transfer
load: every acknowledged transfer is in the ledger once with both legs, every unknown outcome
is resolved by retrying with its key, and ``verify`` is clean."""

from __future__ import annotations

import random
import time

import pytest

from tests.reliability.support import (
    Outcomes,
    Server,
    check_ledger,
    record,
    resolve,
    run_load,
    seed,
    size,
)

KILLS = size(1, 10)
CLIENTS = size(3, 4)
LOAD_S = size((0.8, 1.5), (1.0, 5.0))  # the kill comes at a random moment in this window


@pytest.mark.parametrize("workers", [1, 2])
def test_kill9_under_keyed_transfer_load(db_url, backend, workers, tmp_path):
    ledger, secret, caller = seed(db_url)
    outcomes = Outcomes()
    server = Server(db_url, tmp_path / "serve.log", workers)
    rng = random.Random()
    try:
        for _ in range(KILLS):
            server.start()

            def kill_at_random_moment():
                time.sleep(rng.uniform(*LOAD_S))
                server.kill()  # while the clients' requests are in flight

            run_load(server.base, secret, outcomes, CLIENTS, kill_at_random_moment)
        unknown_before = len(outcomes.unknown)
        server.start()
        unresolved = resolve(server.base, secret, outcomes)
        server.stop()
    finally:
        server.kill()
    assert unresolved == 0
    figures = check_ledger(ledger, outcomes, caller)
    record(
        "kill -9 under keyed transfer load",
        backend=backend,
        workers=workers,
        kills=KILLS,
        attempts=len(outcomes.bodies),
        refused=len(outcomes.refused),
        unknown_after_kills=unknown_before,
        unknown_found_written=len(outcomes.replayed),
        **figures,
    )
    ledger.engine.dispose()
