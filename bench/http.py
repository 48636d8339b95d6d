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

Then, on PostgreSQL, single-connection latency (one keep-alive connection, a raw HTTP/1.1
client so that the client's own cost stays out of it) of page 1 of an account's flows (REST
``GET /api/v1/entries?account=…&limit=50`` and signed ``finance.getTransactionList``) and of
the signed balance, beside the ledger core doing the same reads in the same run.
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

from bench.common import ROOT, append_results, create_db, pct, start_postgres, table

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


class RawClient:
    """HTTP/1.1 over one keep-alive TCP connection, requests pre-encoded: measures the
    server, not an HTTP client library."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def request(self, raw: bytes) -> tuple[int, bytes]:
        self.sock.sendall(raw)
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head).group(1))
        while len(rest) < length:
            rest += self.sock.recv(65536)
        self.buf = rest[length:]
        return int(head.split(b" ", 2)[1]), rest[:length]

    def close(self) -> None:
        self.sock.close()


def raw_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def latency_rows(port: int, url: str, key: str, flag: str, token: str, n: int = 400) -> list:
    """p50 / p99 (ms) over one keep-alive connection, and the core's own for the same read."""
    from urllib.parse import urlencode

    from zhangben.core.ledger import Ledger
    from zhangben.core.queries import EntryFilter
    from zhangben.sdk.shopex import build_request

    account = "B001"
    span = {"start_time": "2000-01-01 00:00:00", "end_time": "2100-01-01 00:00:00"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def signed(method: str, params: dict) -> list[bytes]:
        return [
            raw_request("POST", "/index.php/openapi/rpc/service/", form, body)
            for body in (build_request(flag, token, method, params) for _ in range(n + 50))
        ]

    rest = raw_request(
        "GET",
        "/api/v1/entries?" + urlencode({"account": account, "limit": 50}),
        {"Authorization": f"Bearer {key}"},
    )
    probes = [
        ("REST GET /api/v1/entries?account=…&limit=50", [rest] * (n + 50), "entries"),
        (
            "signed finance.getTransactionList (account, page 1 of 50, +count)",
            signed("finance.getTransactionList", {"account_id": account, **span}),
            "list",
        ),
        (
            "signed finance.getAccountBalance (one account)",
            signed("finance.getAccountBalance", {"account_id": account}),
            "balance",
        ),
    ]
    ledger = Ledger.from_url(url)
    tz = ledger.tz
    from zhangben.shopex.wire.times import parse_request_timestamp

    start = parse_request_timestamp(span["start_time"], tz)
    end = parse_request_timestamp(span["end_time"], tz)
    core = {
        "entries": lambda: ledger.entries(EntryFilter(account_numbers=[account]), limit=50),
        "list": lambda: ledger.entries(
            EntryFilter(account_numbers=[account], start=start, end=end), limit=50, offset=0
        ),
        "balance": lambda: ledger.accounts(numbers=[account]),
    }
    rows = []
    client = RawClient(port)
    try:
        for label, requests, kind in probes:
            # HTTP call and core call alternate, so both see the same machine load
            http_ms, core_ms = [], []
            for i, raw in enumerate(requests):
                t0 = time.perf_counter()
                status, body = client.request(raw)
                t1 = time.perf_counter()
                core[kind]()
                t2 = time.perf_counter()
                assert status == 200 and (kind == "entries" or body.startswith(b'{"code":0')), body
                if i >= 50:
                    http_ms.append((t1 - t0) * 1000)
                    core_ms.append((t2 - t1) * 1000)
            h50, c50 = pct(http_ms, 0.5), pct(core_ms, 0.5)
            rows.append(
                [
                    label,
                    f"{h50:.2f} / {pct(http_ms, 0.99):.2f}",
                    f"{c50:.2f} / {pct(core_ms, 0.99):.2f}",
                    f"{h50 - c50:.2f}",
                ]
            )
    finally:
        client.close()
        ledger.engine.dispose()
    return rows


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
    latency: list | None = None,
) -> None:
    env = {**os.environ, "ZHANGBEN_DATABASE_URL": url, "ZHANGBEN_SECRET_KEY": SECRET_KEY}
    key, flag, token = prepare(url, env, entries)
    port = free_port()
    proc = serve(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        if latency is not None:
            latency += latency_rows(port, url, key, flag, token)
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
    latency: list[list[str]] = []
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
            "PostgreSQL",
            pg_url,
            work,
            args.seconds,
            args.entries,
            per_run,
            rows,
            bare["rps"],
            latency,
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
        + "\n\nSingle-connection latency on PostgreSQL (same server, before the wrk runs; one "
        "keep-alive connection, raw HTTP/1.1 client; 400 calls after 50 warm-up, each followed by "
        "the core's same read; signed calls "
        "each uniquely signed, so each records its sign durably). Target: flows page 1 "
        "≤ 5 ms p50 through HTTP.\n\n"
        + table(
            ["call", "HTTP p50 / p99 ms", "core p50 / p99 ms (same read)", "HTTP − core p50"],
            latency,
        )
    )
    append_results("Benchmark 2: over HTTP", "python -m bench.http", body)


if __name__ == "__main__":
    main()
