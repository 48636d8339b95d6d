"""What the reliability tests share: a real ``zhangben serve`` process (killed with SIGKILL
when a test says so), keyed transfer load over real HTTP, the check that every acknowledged
transfer is in the ledger once with both legs, and the results file.

Two sizes: the short one runs in ``make test`` (CI); ``ZHANGBEN_RELIABILITY=full`` (``make
test-reliability``) runs more rounds and longer load. With ``ZHANGBEN_RELIABILITY_RESULTS``
naming a file, each test appends its figures to it as one JSON line;
``python -m tests.reliability.report`` writes them into docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa

from tests.conftest import TEST_SECRET_KEY
from zhangben.access import apikeys, integrators
from zhangben.core.ledger import Ledger
from zhangben.store.engine import make_engine, read_transaction, run_write
from zhangben.store.tables import entries, postings

FULL = os.environ.get("ZHANGBEN_RELIABILITY") == "full"
ZHANGBEN = Path(sys.executable).with_name("zhangben")
ACCOUNTS = [f"R{i:02d}" for i in range(8)]
OPENING = Decimal("1000000")


def size(short, full):
    """The short figure in CI, the full one in ``make test-reliability``."""
    return full if FULL else short


#: How long a killed worker's Idempotency-Key claim blocks its retries (seconds): the default
#: (15) in the full run; in the short one 2, or :func:`resolve` would spend most of a test
#: waiting for the claims to go stale. The takeover is the same code either way.
STALE_SECONDS = size("2", None)
#: A load client's pause after a 503 (seconds)
BACKOFF_S = 0.2


def record(test: str, **figures) -> None:
    """Append one test's figures to the results file, if one is named."""
    path = os.environ.get("ZHANGBEN_RELIABILITY_RESULTS")
    if not path:
        return
    line = {"test": test, "mode": "full" if FULL else "short", **figures}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


#: uvicorn's line when a worker (or the one process) is ready to serve, in either log format
STARTED = "Application startup complete"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``zhangben serve`` on a free port, its stdout and stderr in ``log``."""

    def __init__(
        self, db_url: str, log: Path, workers: int = 1, env: dict[str, str] | None = None
    ) -> None:
        self.db_url, self.log, self.workers = db_url, log, workers
        self.env = env or {}  # more ZHANGBEN_* settings
        self.proc: subprocess.Popen | None = None
        self.base = ""

    def start(self, timeout: float = 60) -> Server:
        port = free_port()
        env = {
            **os.environ,
            "ZHANGBEN_SECRET_KEY": TEST_SECRET_KEY,
            "ZHANGBEN_DATABASE_URL": self.db_url,
            **({"ZHANGBEN_IDEMPOTENCY_STALE_SECONDS": STALE_SECONDS} if STALE_SECONDS else {}),
            **self.env,
        }
        out = open(self.log, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [str(ZHANGBEN), "serve", "--port", str(port), "--workers", str(self.workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        self.base = f"http://127.0.0.1:{port}"
        started = self.log.read_text(errors="replace").count(STARTED)  # by earlier starts
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text()[-3000:])
            try:
                # up when every worker is: one answering while another still boots is not
                # the server the tests mean to crash or stop the database under (on a busy
                # machine a worker may boot seconds after the first)
                if (
                    httpx.get(self.base + "/healthz", timeout=2).status_code == 200
                    and self.log.read_text(errors="replace").count(STARTED) - started
                    >= self.workers
                ):
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError("server did not start:\n" + self.log.read_text()[-3000:])

    def kill(self) -> None:
        """SIGKILL to the whole process group: the supervisor and every worker."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()
        self.proc = None

    def pids(self) -> list[int]:
        """The serving processes (the workers, or the one process)."""
        out = subprocess.run(
            ["pgrep", "-g", str(self.proc.pid)], capture_output=True, text=True
        ).stdout
        return [int(p) for p in out.split()]

    def rss_kib(self) -> int:
        """The resident memory of the serving processes, summed."""
        total = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total


def seed(db_url: str) -> tuple[Ledger, str, str]:
    """Accounts with a large opening balance and a read+write API key:
    ``(ledger, key secret, caller)``."""
    ledger = Ledger(make_engine(db_url), ZoneInfo("Asia/Shanghai"))
    for number in ACCOUNTS:
        ledger.open_account(number=number, name=number)
        ledger.income(number, OPENING)

    def key(conn):
        app, _ = integrators.create_integrator(conn, name="load", secret_key=TEST_SECRET_KEY)
        made, secret = apikeys.create_key(conn, app.id, scopes=("read", "write"))
        return secret, app.id

    secret, app_id = run_write(ledger.engine, key)
    return ledger, secret, f"key:{app_id}"


@dataclass
class Outcomes:
    """What the clients saw, per Idempotency-Key."""

    bodies: dict[str, dict] = field(default_factory=dict)  # every request sent, by key
    acked: dict[str, dict] = field(default_factory=dict)  # 2xx: the posting answered
    refused: set[str] = field(default_factory=set)  # a 4xx verdict (e.g. 422)
    unknown: set[str] = field(default_factory=set)  # no verdict: transport error, 5xx, 409
    replayed: set[str] = field(default_factory=set)  # a retry answered "written before"
    statuses: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, key: str, status: int | None, body: dict | None) -> None:
        with self.lock:
            self.statuses[status or "no answer"] += 1
            if status is not None and 200 <= status < 300:
                self.acked[key] = body
                self.unknown.discard(key)
            elif status in (400, 422):
                self.refused.add(key)
                self.unknown.discard(key)
            else:
                self.unknown.add(key)


def transfer_body(rng: random.Random) -> dict:
    src, dst = rng.sample(ACCOUNTS, 2)
    return {
        "from_account": src,
        "to_account": dst,
        "amount": f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}",
    }


def send(http: httpx.Client, outcomes: Outcomes, key: str, body: dict) -> int | None:
    try:
        r = http.post("/api/v1/transfers", json=body, headers={"Idempotency-Key": key})
    except httpx.HTTPError:
        outcomes.note(key, None, None)
        return None
    outcomes.note(key, r.status_code, r.json() if r.status_code < 300 else None)
    if r.status_code < 300 and (
        r.headers.get("Idempotent-Replayed") == "true" or r.json().get("replayed")
    ):
        with outcomes.lock:
            outcomes.replayed.add(key)
    return r.status_code


def load(
    base: str,
    secret: str,
    outcomes: Outcomes,
    stop: threading.Event,
    seed_no: int,
    pause: float = 0.0,
    stop_on_error: bool = True,
) -> None:
    """One client: keyed transfers until ``stop``, each key sent once (unknowns are resolved
    later, by :func:`resolve`)."""
    rng = random.Random(seed_no)
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
        while not stop.is_set():
            key, body = str(uuid.uuid4()), transfer_body(rng)
            with outcomes.lock:
                outcomes.bodies[key] = body
            status = send(http, outcomes, key, body)
            if status is None and stop_on_error:
                return  # the server is gone: this client stops (its outcome is unknown)
            if pause or status == 503:
                # on 503 a client backs off, as its Retry-After asks (here for less than it
                # says: an outage lasts seconds), rather than piling up refused keys to resolve
                time.sleep(max(pause, BACKOFF_S if status == 503 else 0))


def run_load(
    base: str,
    secret: str,
    outcomes: Outcomes,
    clients: int,
    until,
    pause: float = 0.0,
    stop_on_error: bool = True,
) -> None:
    """``clients`` threads of :func:`load` while ``until()`` runs (it returns when to stop)."""
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=load,
            args=(base, secret, outcomes, stop, random.getrandbits(32), pause, stop_on_error),
        )
        for _ in range(clients)
    ]
    for t in threads:
        t.start()
    try:
        until()
    finally:
        stop.set()
        for t in threads:
            t.join(60)


def resolve(base: str, secret: str, outcomes: Outcomes, deadline_s: float = 60) -> int:
    """Retry every unknown outcome with its key and body until it has a verdict (a claim
    left in progress by a killed process goes stale after :data:`STALE_SECONDS`). Returns
    how many."""
    pending = sorted(outcomes.unknown)
    deadline = time.monotonic() + deadline_s
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
        while pending and time.monotonic() < deadline:
            still = []
            for key in pending:
                status = send(http, outcomes, key, outcomes.bodies[key])
                if status is None or status >= 500 or status == 409:
                    still.append(key)
            pending = still
            if pending:
                time.sleep(1)
    return len(pending)


def check_ledger(ledger: Ledger, outcomes: Outcomes, caller: str) -> dict:
    """Every acknowledged transfer is in the ledger once, with both legs; nothing is there
    that no request asked for; the verifier is clean and the money is all there. Returns the
    figures (and asserts)."""
    with read_transaction(ledger.engine) as conn:
        rows = conn.execute(
            sa.select(postings.c.id, postings.c.idempotency_key, sa.func.count(entries.c.id))
            .select_from(postings.join(entries, entries.c.posting_id == postings.c.id))
            .where(postings.c.kind == "transfer")
            .group_by(postings.c.id, postings.c.idempotency_key)
        ).all()
    prefix = f"api:{caller}:"
    by_key = Counter(r.idempotency_key.removeprefix(prefix) for r in rows)
    legs = {r.idempotency_key.removeprefix(prefix): r[2] for r in rows}
    lost = [k for k in outcomes.acked if by_key[k] != 1]
    half = [k for k, n in legs.items() if n != 2]
    strangers = [k for k in by_key if k not in outcomes.bodies]
    duplicated = [k for k, n in by_key.items() if n > 1]
    wrong_id = [
        k
        for k, body in outcomes.acked.items()
        if body
        and body.get("posting_id") not in {r.id for r in rows if r.idempotency_key == prefix + k}
    ]
    report = ledger.verify()
    total = sum(a.balance for a in ledger.accounts())
    figures = {
        "acknowledged": len(outcomes.acked),
        "written": len(rows),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "half_written": len(half),
        "unasked": len(strangers),
        "verify_ok": report.ok,
    }
    assert not lost, lost[:5]
    assert not duplicated and not half and not strangers and not wrong_id
    assert report.ok, report.problems
    assert total == OPENING * len(ACCOUNTS)
    # every written posting was acknowledged, or its request's outcome is still unknown
    assert set(by_key) <= set(outcomes.acked) | outcomes.unknown
    return figures


def log_lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines()
