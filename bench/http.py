"""Benchmark 2: the service over HTTP against a bare endpoint of the same stack.

    .venv/bin/python -m bench.http [--seconds 20]

``wrk`` on loopback (8 connections, 2 threads; installed with apt-get if missing) against
``zhangben serve --workers 2`` on SQLite (temp file, WAL) and on PostgreSQL (durable cluster,
ledger pre-filled and ANALYZEd), and against ``bench/bare_app.py`` (FastAPI on uvicorn, the
same 2 workers and TCP socket, a constant JSON from POST), all in the same run:

* ``POST /api/v1/transfers`` with an API key, random pairs among 100 funded accounts, every
  body different; without and with a unique ``Idempotency-Key`` per request;
* ``finance.getAccountBalance``, every request signed with its own nonce (pre-signed here with
  the SDK's ``build_request``; the replay guard never sees a repeat).

A request counts as bad unless it has the expected status (201 for transfers, 200 otherwise)
and, for the signed calls, a success body (``{"code":0``). Requests are pre-generated into a
file that ``bench/cycle.lua`` walks through; "wrapped" says whether wrk ran out of them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.common import ROOT, append_results, create_db, start_postgres, table

ACCOUNTS = 100
CONNECTIONS, THREADS, WORKERS = 8, 2, 2
SECRET_KEY = "bench-http-secret-key"
LUA = ROOT / "bench" / "cycle.lua"
ZHANGBEN = str(Path(sys.executable).with_name("zhangben"))


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{base} did not come up")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cli(env: dict, *args: str) -> str:
    done = subprocess.run([ZHANGBEN, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"zhangben {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def prepare(url: str, env: dict, entries: int) -> tuple[str, str, str]:
    """Migrate, open and fund the accounts (pre-filled on PostgreSQL); returns
    (API key, ShopEx flag, ShopEx token)."""
    cli(env, "db", "upgrade")
    if url.startswith("postgresql"):
        from bench.postings import prepare_core

        prepare_core(url, entries)
    else:
        from zhangben.core.ledger import Ledger

        ledger = Ledger.from_url(url)
        for i in range(1, ACCOUNTS + 1):
            ledger.open_account(number=f"B{i:03d}", name=f"bench {i}")
            ledger.income(f"B{i:03d}", "100000")
        ledger.engine.dispose()
    out = cli(
        env, "apikey", "add", "--new-integrator", "bench", "--scope", "read", "--scope", "write"
    )
    key = re.search(r"(zb_[0-9a-f]{12}_\S+)", out).group(1)
    out = cli(env, "app", "add", "bench-shopex")
    flag = re.search(r"flag:\s+(\S+)", out).group(1)
    token = re.search(r"token:\s+(\S+)", out).group(1)
    return key, flag, token


def transfer_file(path: Path, count: int, idempotent: bool, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w") as f:
        for _ in range(count):
            a, b = rng.sample(range(1, ACCOUNTS + 1), 2)
            body = {
                "from_account": f"B{a:03d}",
                "to_account": f"B{b:03d}",
                "amount": f"{rng.randint(1, 100) / 100:.2f}",
                "description": f"bench {uuid.uuid4().hex[:12]}",
            }
            key = uuid.uuid4().hex if idempotent else "-"
            f.write(f"{key}\t{json.dumps(body)}\n")


def signed_file(path: Path, count: int, flag: str, token: str, seed: int) -> None:
    from zhangben.sdk.shopex import build_request

    rng = random.Random(seed)
    with path.open("w") as f:
        for _ in range(count):
            params = {"account_id": f"B{rng.randint(1, ACCOUNTS):03d}"}
            body = build_request(flag, token, "finance.getAccountBalance", params)
            f.write("-\t" + body.decode() + "\n")


def run_wrk(
    url: str,
    path: Path,
    content_type: str,
    seconds: float,
    status: int,
    prefix: str | None = None,
    headers: list[str] = (),
) -> dict:
    args = [
        ensure_wrk(),
        "-t",
        str(THREADS),
        "-c",
        str(CONNECTIONS),
        "-d",
        f"{seconds:.0f}s",
        "--latency",
        "-H",
        f"Content-Type: {content_type}",
        *[x for h in headers for x in ("-H", h)],
        "-s",
        str(LUA),
        url,
        "--",
        str(path),
        str(THREADS),
        str(status),
    ]
    if prefix:
        args.append(prefix)
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([0-9.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),
        "p50": ms("50%"),
        "p99": ms("99%"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket": sum(int(x) for x in sock.groups()) if sock else 0,
        "bad": int(re.search(r"ZB_BAD (\d+)", out).group(1)),
        "wrapped": int(re.search(r"ZB_WRAPPED (\d+)", out).group(1)),
    }


def serve(env: dict, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [ZHANGBEN, "serve", "--workers", str(WORKERS), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_up(f"http://127.0.0.1:{port}", proc)
    return proc


def measure_service(
    name: str,
    url: str,
    work: Path,
    seconds: float,
    entries: int,
    per_run: int,
    rows: list,
    bare: float,
) -> None:
    env = {**os.environ, "ZHANGBEN_DATABASE_URL": url, "ZHANGBEN_SECRET_KEY": SECRET_KEY}
    key, flag, token = prepare(url, env, entries)
    port = free_port()
    proc = serve(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        for label, idem in (
            ("POST /api/v1/transfers", False),
            ("POST /api/v1/transfers + Idempotency-Key", True),
        ):
            path = work / f"{name}-transfers-{idem}.txt"
            transfer_file(path, per_run, idem, seed=len(rows))
            r = run_wrk(
                base + "/api/v1/transfers",
                path,
                "application/json",
                seconds,
                201,
                headers=[f"Authorization: Bearer {key}"],
            )
            rows.append(_row(f"{label} ({name})", r, bare))
        path = work / f"{name}-signed.txt"
        signed_file(path, per_run, flag, token, seed=7)
        r = run_wrk(
            base + "/index.php/openapi/rpc/service/",
            path,
            "application/x-www-form-urlencoded",
            seconds,
            200,
            '{"code":0',
        )
        rows.append(_row(f"signed finance.getAccountBalance ({name})", r, bare))
    finally:
        stop(proc)
    from zhangben.core.ledger import Ledger

    ledger = Ledger.from_url(url)
    assert ledger.verify().ok, f"{name}: the ledger does not verify after the run"
    ledger.engine.dispose()


def _row(label: str, r: dict, bare: float | None) -> list[str]:
    ratio = f"{r['rps'] / bare:.2f}×" if bare else "1.00×"
    errors = f"{r['non2xx']} / {r['bad']} / {r['socket']}"
    if r["wrapped"]:
        errors += " (ran out of pre-generated requests)"
    return [label, f"{r['rps']:,.0f}", f"{r['p50']:.2f}", f"{r['p99']:.2f}", ratio, errors]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--entries", type=int, default=200_000, help="PostgreSQL ledger pre-fill (entries)"
    )
    args = parser.parse_args()
    ensure_wrk()
    # enough unique requests for the whole run at well above the bare endpoint's rate
    per_run = int(max(20_000, 6_000 * args.seconds))
    rows: list[list[str]] = []
    work = Path(tempfile.mkdtemp(prefix="zb-bench-http-"))
    server = start_postgres()
    try:
        port = free_port()
        bare_proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.bare_app",
                "--port",
                str(port),
                "--workers",
                str(WORKERS),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_up(f"http://127.0.0.1:{port}", bare_proc)
            path = work / "bare.txt"
            transfer_file(path, per_run, False, seed=99)
            bare = run_wrk(
                f"http://127.0.0.1:{port}/api/v1/transfers",
                path,
                "application/json",
                args.seconds,
                200,
            )
        finally:
            stop(bare_proc)
        rows.append(_row("bare endpoint (constant JSON from POST)", bare, None))
        sqlite_url = f"sqlite:///{work / 'bench.db'}"
        measure_service(
            "SQLite", sqlite_url, work, args.seconds, args.entries, per_run, rows, bare["rps"]
        )
        pg_url = create_db(server, "zb_http").replace("postgresql://", "postgresql+psycopg://")
        measure_service(
            "PostgreSQL", pg_url, work, args.seconds, args.entries, per_run, rows, bare["rps"]
        )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    body = (
        f"wrk, {CONNECTIONS} connections, {THREADS} threads, {args.seconds:.0f} s per row; "
        f"servers with {WORKERS} workers; PostgreSQL durable (fsync, synchronous_commit on), "
        f"ledger pre-filled with {args.entries:,} entries; SQLite WAL, synchronous=FULL. "
        "Targets: transfers ≥ 0.5× bare, signed calls ≥ 0.5× bare.\n\n"
        + table(
            ["request", "req/s", "p50 ms", "p99 ms", "vs bare", "non-2xx / bad / socket errors"],
            rows,
        )
    )
    append_results("Benchmark 2: over HTTP", "python -m bench.http", body)


if __name__ == "__main__":
    main()
