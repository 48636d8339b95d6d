"""What the request observer costs: the same requests against ``zhangben serve`` (one worker,
SQLite) as configured three ways, interleaved in rounds so that a noisy machine favours none:

* ``before``: a checkout without the observer (``--before PATH``, optional);
* ``default``: the observer with its defaults (a request id; metrics off, text logs);
* ``metrics+json``: ``ZHANGBEN_METRICS=true`` and ``ZHANGBEN_LOG_FORMAT=json`` (the log to a
  file), the most the observer does.

Each request is ``GET /api/v1/accounts/B001`` with an API key (one indexed read; the key is
cached) over a keep-alive connection. Prints the median and p90 per configuration, and the
medians' difference from the first. Not appended to RESULTS.md (docs/operations.md quotes it).

    .venv/bin/python -m bench.observe --before ../zhangben-before --rounds 10
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import machine, median, pct, table
from bench.http import cli, free_port, stop, wait_up

ZHANGBEN = str(Path(sys.executable).with_name("zhangben"))


def start(name: str, env: dict, work: Path, before: Path | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [ZHANGBEN, "serve", "--port", str(port)]
    env = dict(env)
    cwd = None
    if name == "before":  # the other checkout's code (first on sys.path), on these packages
        cwd = before
        command = [sys.executable, "-c", "from zhangben.cli import main; main()", *command[1:]]
    if name == "metrics+json":
        env |= {"ZHANGBEN_METRICS": "true", "ZHANGBEN_LOG_FORMAT": "json"}
    log = open(work / f"{name}.log", "wb")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=cwd)
    log.close()
    base = f"http://127.0.0.1:{port}"
    wait_up(base, proc)
    return proc, base


def in_process(samples: int = 20, per_sample: int = 2000) -> list[list[str]]:
    """The observer's own cost, without a network or a database: an ASGI app that answers at
    once, bare and behind :class:`Observe` as each configuration sets it up (the JSON log
    written to a file, as ``serve`` writes it to stderr). CPU microseconds per request: the
    median of ``samples`` timings of ``per_sample`` requests."""
    import asyncio
    import logging
    import statistics

    from zhangben.core.ledger import Ledger
    from zhangben.web.logs import JsonFormatter
    from zhangben.web.metrics import Metrics
    from zhangben.web.observe import Observe

    async def answer(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    work = Path(tempfile.mkdtemp(prefix="zb-bench-observe-"))
    ledger = Ledger.from_url(f"sqlite:///{work / 'pool.db'}")
    handler = logging.FileHandler(work / "requests.log")
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("zhangben")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    surfaces = [("rest", ["/api/v1"]), ("yichuan", ["/v3"])]
    apps = {
        "bare app": answer,
        "default": Observe(answer, surfaces),
        "metrics+json": Observe(answer, surfaces, Metrics(ledger.pool_status), log_requests=True),
    }
    headers = [(b"authorization", b"Bearer x"), (b"x-request-id", b"bench-1")]
    scope = {"type": "http", "method": "GET", "path": "/api/v1/accounts/B001",
             "root_path": "", "headers": headers}  # fmt: skip

    async def run(app) -> float:  # CPU time: other processes on the machine do not count
        started = time.process_time()
        for _ in range(per_sample):
            await app(dict(scope), receive, send)
        return (time.process_time() - started) / per_sample * 1e6

    async def measure() -> dict[str, float]:
        found: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(samples):
            for name, app in apps.items():
                found[name].append(await run(app))
        return {name: statistics.median(us) for name, us in found.items()}

    medians = asyncio.run(measure())
    logger.removeHandler(handler)
    bare = medians["bare app"]
    return [[name, f"{us:.1f}", f"{us - bare:+.1f}"] for name, us in medians.items()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, help="a checkout without the observer")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=300)
    args = parser.parse_args()
    print(machine())
    print("the observer alone, in one process (CPU µs per request):")
    print(table(["configuration", "µs", "vs bare app"], in_process()))
    work = Path(tempfile.mkdtemp(prefix="zb-bench-observe-"))
    url = f"sqlite:///{work / 'bench.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHANGBEN_")}
    env["ZHANGBEN_DATABASE_URL"] = url
    cli(env, "db", "upgrade")
    cli(env, "account", "add", "B001", "bench")
    out = cli(env, "apikey", "add", "--new-integrator", "bench", "--scope", "read")
    key = next(word for word in out.split() if word.startswith("zb_"))
    names = (["before"] if args.before else []) + ["default", "metrics+json"]
    servers = {name: start(name, env, work, args.before) for name in names}
    times: dict[str, list[float]] = {name: [] for name in names}
    clients = {
        name: httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"})
        for name, (_, base) in servers.items()
    }
    try:
        for client in clients.values():  # warm up: imports, the key cache, the pool
            for _ in range(50):
                client.get("/api/v1/accounts/B001").raise_for_status()
        for round_no in range(args.rounds):
            order = names[round_no % len(names) :] + names[: round_no % len(names)]
            for name in order:
                client = clients[name]
                for _ in range(args.per_round):
                    started = time.perf_counter()
                    client.get("/api/v1/accounts/B001").raise_for_status()
                    times[name].append((time.perf_counter() - started) * 1000)
    finally:
        for client in clients.values():
            client.close()
        for proc, _ in servers.values():
            stop(proc)
    reference = median(times[names[0]])
    rows = [
        [
            name,
            f"{median(ms):.3f}",
            f"{pct(ms, 0.9):.3f}",
            f"{(median(ms) - reference) * 1000:+.0f} µs",
        ]
        for name, ms in times.items()
    ]
    print(f"over HTTP, {args.rounds} rounds × {args.per_round} requests per configuration")
    print(table(["configuration", "median ms", "p90 ms", f"median vs {names[0]}"], rows))


if __name__ == "__main__":
    main()
