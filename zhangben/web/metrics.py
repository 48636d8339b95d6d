"""Prometheus metrics at ``/metrics`` (``ZHANGBEN_METRICS=true``), with the standard
``prometheus-client``; optionally behind a bearer token (``ZHANGBEN_METRICS_TOKEN``).

What is counted, and where:

* requests and their latency, by surface, method and status: :mod:`.observe` hands every
  finished request to :meth:`Metrics.request`;
* rate-limit, replay and login-throttle refusals, as the surfaces note them;
* postings by kind and outcome: the ledger's observer hook (``Ledger.observers``) calls
  :meth:`Metrics.posted`; the core knows nothing of metrics;
* bill imports and their rows: read from the import records at each scrape. Files are
  imported by the CLI, never by a server process, so a counter in the server would stay at
  zero; the records are in the database every process shares;
* the connection pool: its size and the connections checked out, per process (summed over
  the workers).

With ``zhangben serve --workers N`` the workers count in prometheus-client's multiprocess
mode (``PROMETHEUS_MULTIPROC_DIR``, set up by ``serve``): every scrape, whichever worker
answers it, reports the sum over all workers.
"""

from __future__ import annotations

import glob
import hmac
import logging
import os
import re
from collections.abc import Callable, Iterable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from zhangben.web import outage

log = logging.getLogger("zhangben.metrics")

PATH = "/metrics"
#: latency buckets in seconds: a posting takes about a millisecond, a large page far more
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db$")

#: One import record total: (platform, status, files, rows new, rows duplicate, rows rejected).
ImportTotals = Callable[[], Iterable[tuple[str, str, int, int, int, int]]]


class Metrics:
    """The server's metrics. ``multiprocess_dir``: prometheus-client's multiprocess mode
    (values in files there, shared by the workers), else values in this process only."""

    def __init__(
        self,
        pool_status: Callable[[], tuple[int, int] | None],
        import_totals: ImportTotals | None = None,
        multiprocess_dir: str | None = None,
    ) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry()
        # in multiprocess mode the values live in files and a scrape reads them all
        into = None if multiprocess_dir else self.registry
        self.requests = Counter(
            "zhangben_http_requests",
            "HTTP requests answered, by surface, method (ShopEx method or route template) "
            "and status code",
            ["surface", "method", "status"],
            registry=into,
        )
        self.latency = Histogram(
            "zhangben_http_request_duration_seconds",
            "Time to answer an HTTP request, by surface and method",
            ["surface", "method"],
            buckets=BUCKETS,
            registry=into,
        )
        self.refusals = Counter(
            "zhangben_refusals",
            "Requests refused by an abuse guard: rate_limited, replayed (a ShopEx sign used "
            "again), login_throttled (壹川)",
            ["surface", "reason"],
            registry=into,
        )
        self.postings = Counter(
            "zhangben_postings",
            "Posting requests the ledger answered in this server, by kind and outcome "
            "(written, replayed, or the refusal's error code)",
            ["kind", "outcome"],
            registry=into,
        )
        self.pool_size = Gauge(
            "zhangben_db_pool_size",
            "Connections the database pool keeps (summed over worker processes)",
            registry=into,
            multiprocess_mode="livesum",
        )
        self.pool_checked_out = Gauge(
            "zhangben_db_pool_checked_out",
            "Pool connections in use (summed over worker processes)",
            registry=into,
            multiprocess_mode="livesum",
        )
        self._pool_status = pool_status
        self._imports = _ImportsCollector(import_totals) if import_totals else None
        if not multiprocess_dir:  # one process: its CPU, memory, file descriptors, Python
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
            if self._imports is not None:
                self.registry.register(self._imports)
        self.refresh_pool()

    # -- what is counted ----------------------------------------------------------------------

    def request(
        self, surface: str, method: str, status: int, seconds: float, refusal: str | None
    ) -> None:
        self.requests.labels(surface, method, str(status)).inc()
        self.latency.labels(surface, method).observe(seconds)
        if refusal is not None:
            self.refusals.labels(surface, refusal).inc()
        if self.multiprocess_dir:  # a scrape may be answered by another worker
            self.refresh_pool()

    def posted(self, kind: str, outcome: str, count: int) -> None:
        """The ledger's posting observer (``Ledger.observers``)."""
        self.postings.labels(kind, outcome).inc(count)

    def refresh_pool(self) -> None:
        status = self._pool_status()
        if status is not None:
            self.pool_size.set(status[0])
            self.pool_checked_out.set(status[1])

    # -- the exposition -----------------------------------------------------------------------

    def render(self) -> bytes:
        self.refresh_pool()
        if not self.multiprocess_dir:
            return generate_latest(self.registry)
        _forget_dead_workers(self.multiprocess_dir)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.multiprocess_dir)
        if self._imports is not None:
            registry.register(self._imports)
        return generate_latest(registry)

    def close(self) -> None:
        """At a worker's shutdown: its pool gauges leave the sums."""
        if self.multiprocess_dir:
            mark_process_dead(os.getpid(), self.multiprocess_dir)


def _forget_dead_workers(path: str) -> None:
    """Drop the live gauges of worker processes that are gone (a worker killed with SIGKILL
    never runs its shutdown); counters and histograms keep what those workers counted."""
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        found = _LIVE_FILE.search(name)
        if found is None:
            continue
        pid = int(found.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid, path)
        except PermissionError:  # alive, another user's
            pass


class _ImportsCollector(Collector):
    """Bill imports as counters, read from the import records at each scrape."""

    def __init__(self, totals: ImportTotals) -> None:
        self.totals = totals

    def collect(self) -> Iterable[Metric]:
        try:
            rows = list(self.totals())
        except Exception as exc:  # the scrape still answers, without these
            if outage.unavailable(exc, PATH) is None:
                log.error("import totals failed: %s", type(exc).__name__)
            return []
        files = CounterMetricFamily(
            "zhangben_imports",
            "Bill files imported (import records), by platform and status (ok, warnings)",
            labels=["platform", "status"],
        )
        imported = CounterMetricFamily(
            "zhangben_import_rows",
            "Bill rows of the import records, by platform and result (new, duplicate, rejected)",
            labels=["platform", "result"],
        )
        rows_by_platform: dict[str, list[int]] = {}
        for platform, status, count, new, duplicate, rejected in rows:
            files.add_metric([platform, status], count)
            sums = rows_by_platform.setdefault(platform, [0, 0, 0])
            for i, value in enumerate((new, duplicate, rejected)):
                sums[i] += value
        for platform, sums in rows_by_platform.items():
            for result, value in zip(("new", "duplicate", "rejected"), sums, strict=True):
                imported.add_metric([platform, result], value)
        return [files, imported]


def mount(app: FastAPI, metrics: Metrics, token: str | None) -> None:
    """``GET /metrics``, answering only ``Authorization: Bearer <token>`` when a token is
    set (compared in constant time; the token is never logged)."""
    expected = f"Bearer {token}".encode() if token else None

    @app.get(PATH, include_in_schema=False)
    async def scrape(request: Request) -> Response:
        if expected is not None:
            given = request.headers.get("authorization", "").encode("latin-1", "replace")
            if not hmac.compare_digest(given, expected):
                return JSONResponse(
                    {"status": "unauthorized", "detail": "send Authorization: Bearer <token>"},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
        body = await run_in_threadpool(metrics.render)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
