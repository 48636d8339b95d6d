"""Metrics and JSON logs of ``zhangben serve --workers 2``: whichever worker answers a scrape,
it reports the requests of both (prometheus-client's multiprocess mode, in a directory
``serve`` makes and removes); a worker killed with SIGKILL is replaced, its counts stay and
its pool gauges leave the sums; every stderr line is JSON. On PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import TEST_SECRET_KEY
from tests.e2e.test_rest_concurrency import _free_port, stop_server
from zhangben.cli.serve import WORKER_HEALTHCHECK_S
from zhangben.store.engine import make_engine

ZHANGBEN = Path(sys.executable).with_name("zhangben")
HEALTHZ = ("zhangben_http_requests_total", "GET /healthz")


def start(db_url: str, tmp: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {
        **os.environ,
        "ZHANGBEN_SECRET_KEY": TEST_SECRET_KEY,
        "ZHANGBEN_DATABASE_URL": db_url,
        "ZHANGBEN_METRICS": "true",
        "ZHANGBEN_LOG_FORMAT": "json",
        "TMPDIR": str(tmp),  # where serve makes its metrics directory
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [str(ZHANGBEN), "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # readiness, not timing: workers build the app
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError("server did not start:\n" + log.read_text()[-3000:])


def lines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def healthz_pids(log: Path) -> set[int]:
    return {
        line["pid"]
        for line in lines(log)
        if line["logger"] == "zhangben.request" and line["method"] == "GET /healthz"
    }


def scrape(base: str) -> dict:
    text = httpx.get(base + "/metrics", timeout=10).text  # a new connection: any worker
    return {
        (s.name, s.labels.get("method")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.labels.get("status") in (None, "200")
    }


# PostgreSQL only: what is checked here (values in prometheus-client's files, summed over the
# workers; a dead worker's gauges leaving the sums; JSON on stderr) happens above the database.
# The pool gauges on both databases: tests/web/test_metrics.py. (30 s a run on a busy machine.)
@pytest.mark.parametrize("backend", ["postgresql"])
def test_every_scrape_counts_every_worker(db_url, tmp_path):
    pool_size = make_engine(db_url).pool.size()
    log = tmp_path / "serve.log"
    proc, base = start(db_url, tmp_path, log)
    try:
        [metrics_dir] = tmp_path.glob("zhangben-metrics-*")
        sent = 0
        while len(healthz_pids(log)) < 2 and sent < 600:  # new connections, until both served
            for _ in range(20):
                assert httpx.get(base + "/healthz", timeout=10).status_code == 200
                sent += 1
            time.sleep(0.05)
        assert len(healthz_pids(log)) == 2, "one worker served every connection"
        scrapes = [scrape(base) for _ in range(8)]
        assert {s[HEALTHZ] for s in scrapes} == {sent}
        assert {s[("zhangben_db_pool_size", None)] for s in scrapes} == {2 * pool_size}
        # a worker killed: its counts stay, its pool gauge leaves the sum when it is replaced
        victim = max(healthz_pids(log))
        os.kill(victim, signal.SIGKILL)
        # uvicorn may ping the worker just killed before it is reaped, and then waits the whole
        # healthcheck timeout for its answer before it replaces it; then a boot on a busy host
        deadline = time.monotonic() + WORKER_HEALTHCHECK_S + 60
        while time.monotonic() < deadline:
            started = [
                line["message"]
                for line in lines(log)
                if line["message"].startswith("Started server process")
            ]
            if len(started) >= 3:
                break
            time.sleep(0.2)
        assert len(started) >= 3, "the killed worker was not replaced"
        assert httpx.get(base + "/readyz", timeout=10).status_code == 200
        after = [scrape(base) for _ in range(4)]
        assert {s[HEALTHZ] for s in after} == {sent}
        assert {s[("zhangben_db_pool_size", None)] for s in after} == {2 * pool_size}
    finally:
        stop_server(proc)
    assert not metrics_dir.exists()  # removed at exit
    every = lines(log)  # every line of stderr is JSON (json.loads raised otherwise)
    assert {"uvicorn.error", "zhangben.request"} <= {line["logger"] for line in every}
    assert "Traceback" not in log.read_text()
