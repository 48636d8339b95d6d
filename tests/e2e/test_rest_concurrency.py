"""≥ 8 clients × 200 transfers over real HTTP against `zhangben serve --workers 2`, on SQLite
and PostgreSQL; then the verifier is clean and the sum of balances is unchanged."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY
from zhangben.access import apikeys, integrators
from zhangben.core.ledger import Ledger
from zhangben.store.engine import make_engine, run_write

CLIENTS = 8
TRANSFERS = 200
ACCOUNTS = [f"C{i:02d}" for i in range(10)]
OPENING = Decimal("100000")
ZHANGBEN = Path(sys.executable).with_name("zhangben")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, workers: int = 2) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "ZHANGBEN_SECRET_KEY": TEST_SECRET_KEY, "ZHANGBEN_DATABASE_URL": db_url}
    proc = subprocess.Popen(
        [str(ZHANGBEN), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    # a readiness wait, not a timing check: two workers each build the app (every router's
    # models), which on a loaded 2-core machine took over 30 s
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode()[-2000:])
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError("server did not start")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def seed(db_url: str) -> tuple[Ledger, str]:
    ledger = Ledger(make_engine(db_url), ZoneInfo("Asia/Shanghai"))
    for number in ACCOUNTS:
        ledger.open_account(number=number, name=number)
        ledger.income(number, OPENING)

    def key(conn):
        app, _ = integrators.create_integrator(conn, name="load", secret_key=TEST_SECRET_KEY)
        return apikeys.create_key(conn, app.id, scopes=("read", "write"))[1]

    return ledger, run_write(ledger.engine, key)


def hammer(base: str, secret: str, client_no: int) -> tuple[int, list[float]]:
    rng = random.Random(client_no)
    done, latencies = 0, []
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        for _ in range(TRANSFERS):
            src, dst = rng.sample(ACCOUNTS, 2)
            body = {
                "from_account": src,
                "to_account": dst,
                "amount": f"{rng.randint(1, 5000)}.{rng.randint(0, 99):02d}",
            }
            started = time.perf_counter()
            r = http.post(
                "/api/v1/transfers", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
            )
            latencies.append(time.perf_counter() - started)
            assert r.status_code in (201, 422), r.text
            done += r.status_code == 201
    return done, latencies


@pytest.mark.slow
def test_transfers_from_many_clients_over_two_worker_processes(db_url):
    ledger, secret = seed(db_url)
    proc, base = start_server(db_url)
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(lambda n: hammer(base, secret, n), range(CLIENTS)))
        elapsed = time.perf_counter() - started
    finally:
        stop_server(proc)
    done = sum(n for n, _ in results)
    latencies = sorted(t for _, ts in results for t in ts)
    print(
        f"\n{ledger.engine.dialect.name}: {len(latencies)} transfers in {elapsed:.1f} s = "
        f"{len(latencies) / elapsed:.0f}/s; p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms"
    )
    report = ledger.verify()
    assert report.ok, report.problems
    assert sum(a.balance for a in ledger.accounts()) == OPENING * len(ACCOUNTS)
    transfers = ledger.entries(None, limit=1, with_total=True)
    assert transfers.total == len(ACCOUNTS) + 2 * done
    assert done > CLIENTS * TRANSFERS * 0.9
    ledger.engine.dispose()
