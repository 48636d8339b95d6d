"""Shared by the benchmarks: a durable PostgreSQL cluster, machine facts, result tables."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import pgserver  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"


def start_postgres() -> pgserver.PgServer:
    """A throwaway cluster with durable commits (fsync and synchronous_commit ON)."""
    return pgserver.start(durable=True)


def dsn(server: pgserver.PgServer, db: str = "postgres") -> str:
    return f"postgresql://postgres@127.0.0.1:{server.port}/{db}"


def create_db(server: pgserver.PgServer, name: str) -> str:
    with psycopg.connect(dsn(server), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return dsn(server, name)


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) // 1024 // 1024} GiB RAM"
    except OSError:
        pass
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    pg = subprocess.run(
        [f"{pgserver.find_bindir()}/postgres", "--version"], capture_output=True, text=True
    ).stdout.strip()
    import sqlite3

    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {pg}, SQLite {sqlite3.sqlite_version}"
    )


def timed_loop(op: Callable[[], None], seconds: float) -> tuple[int, list[float]]:
    """Run ``op`` repeatedly for ``seconds``; returns (count, latencies in ms)."""
    latencies = []
    end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        if t0 >= end:
            break
        op()
        latencies.append((time.perf_counter() - t0) * 1000)
    return len(latencies), latencies


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def append_results(title: str, command: str, body: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"\n## {title}\n\nRun {stamp} with `{command}` on {machine()}.\n\n{body}\n"
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(text)
    print(text)
