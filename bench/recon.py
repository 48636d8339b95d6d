"""Reconciliation at scale: one ``Recon.run`` over N bill rows against about 0.8 N expected
lines, beside a plain SQL join of the same rows on the order key, on SQLite and PostgreSQL;
and the run's peak memory at each size: the rows are loaded by one process, the run made by
another, whose peak RSS is the run's own (memory flat: the same at 100k and 1M rows).

    .venv/bin/python -m bench.recon [--rows 100000 1000000] [--backend sqlite postgresql]
                                    [--record]

The rows are inserted directly (bill rows without ledger entries, as the run reads only
``bill_rows``), in the shapes of the samples, per order: 55 % one sale paid exactly, 8 % a
sale and its fee against one net payment, 10 % paid short by the fee (within the default
tolerance), 25 % money with no order, 2 % never paid. The run keys every bill row, matches
every group, writes the groups, their lines and one audit event per group.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

SHAPES = (("exact", 55), ("sale_fee", 8), ("short", 10), ("orphan", 25), ("never_paid", 2))
CHUNK = 20_000


def _rows(n_actual: int, seed: int = 5):
    """(bill rows, expected lines) as dicts, about ``n_actual`` bill rows."""
    rnd = random.Random(seed)
    shapes = [s for s, w in SHAPES for _ in range(w)]
    start = datetime(2024, 3, 1, tzinfo=UTC)
    bills, expected, n = [], [], 0
    now = datetime.now(UTC)
    while len(bills) < n_actual:
        n += 1
        shape = shapes[n % len(shapes)]
        key = f"B{n:09d}"
        at = start + timedelta(seconds=rnd.randint(0, 30 * 86400))
        x = rnd.randint(100, 500_000) * 100  # minor units
        fee = x * 6 // 1000 // 100 * 100
        if shape in ("exact", "short", "never_paid"):
            expected.append((key, "sale", x, at))
        elif shape == "sale_fee":
            expected += [(key, "sale", x, at), (key, "service_fee", -fee, at)]
        if shape in ("exact", "orphan"):
            bills.append((key, x, at))
        elif shape in ("sale_fee", "short"):
            bills.append((key, x - fee, at))
    b = [
        {"platform": "wechat", "unique_key": f"u{i}", "line": i, "flow_no": f"f{i}",
         "trade_time": at + timedelta(hours=20), "income": amount, "expense": 0,
         "order_no": key, "business_type": "SUCCESS", "raw": {}, "imported_at": now,
         "updated_at": now}
        for i, (key, amount, at) in enumerate(bills, start=1)
    ]  # fmt: skip
    e = [
        {"shop_code": "S001", "platform": "wechat", "order_no": key, "kind": kind,
         "amount": amount, "applied": 0, "occurred_at": at, "due_at": at + timedelta(days=1),
         "source": "api", "source_ref": f"r{i}", "state": "open", "created_at": now}
        for i, (key, kind, amount, at) in enumerate(expected, start=1)
    ]  # fmt: skip
    return b, e


def load(url: str, n: int) -> dict:
    """Migrate and load the rows (run in a process of its own)."""
    from zhangben.core.ledger import Ledger
    from zhangben.store.bills_tables import bill_rows, import_batches
    from zhangben.store.engine import make_engine
    from zhangben.store.migrate import upgrade
    from zhangben.store.recon_tables import expected_items

    engine = make_engine(url)
    upgrade(engine)
    ledger = Ledger(engine, ZoneInfo("Asia/Shanghai"))
    account = ledger.open_account(number="WX", name="wx", type="wechat", shop_code="S001")
    b, e = _rows(n)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        now = datetime.now(UTC)
        batch = conn.execute(
            import_batches.insert().values(account_id=account.id, filename="bench",
                                           file_sha256="0" * 64, format="wechat_trade",
                                           platform="wechat", created_at=now)
            .returning(import_batches.c.id)
        ).scalar_one()  # fmt: skip
        for i in range(0, len(b), CHUNK):
            rows = [{**r, "account_id": account.id, "import_id": batch} for r in b[i : i + CHUNK]]
            conn.execute(bill_rows.insert(), rows)
        for i in range(0, len(e), CHUNK):
            conn.execute(expected_items.insert(), e[i : i + CHUNK])
    return {"bills": len(b), "expected": len(e), "load_s": time.perf_counter() - t0}


def run(url: str) -> dict:
    """The plain join, then the run, in a fresh process: its peak RSS is the run's own (the
    process holds only the imports and the engine before it)."""
    from zhangben.core.ledger import Ledger
    from zhangben.recon.service import Recon
    from zhangben.store.engine import make_engine

    engine = make_engine(url)
    ledger = Ledger(engine, ZoneInfo("Asia/Shanghai"))
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with engine.connect() as conn:
        joined = conn.execute(
            sa.text(
                "SELECT count(*), coalesce(sum(e.amount), 0) FROM expected_items e "
                "JOIN bill_rows b ON b.order_no = e.order_no"
            )
        ).one()
    join = time.perf_counter() - t0
    load_avg = os.getloadavg()[0]
    t0 = time.perf_counter()
    report = Recon(ledger).run(actor="bench")
    run_s = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "join_s": join, "join_rows": joined[0], "run_s": run_s, "counts": report.counts,
        "rss_start_mib": rss_start / 1024, "rss_mib": rss / 1024, "load": load_avg,
    }  # fmt: skip


def _child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.recon", *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--backend", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument("--load", nargs=2, metavar=("URL", "ROWS"), help=argparse.SUPPRESS)
    parser.add_argument("--run", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        print(json.dumps(load(args.load[0], int(args.load[1]))))
        return
    if args.run:
        print(json.dumps(run(args.run)))
        return
    from bench.common import append_results, create_db, start_postgres, table

    server = start_postgres() if "postgresql" in args.backend else None
    results = []
    try:
        for backend in args.backend:
            for n in args.rows:
                with tempfile.TemporaryDirectory() as tmp:
                    if backend == "sqlite":
                        url = f"sqlite:///{tmp}/recon.db"
                    else:
                        url = create_db(server, f"bench_recon_{n}")
                    r = {**_child("--load", url, str(n)), **_child("--run", url)}
                    print(backend, n, r, flush=True)
                    results.append((backend, r))
    finally:
        if server:
            server.stop()
    rows = [
        [backend, f"{r['bills']:,}", f"{r['expected']:,}", f"{r['run_s']:.1f}",
         f"{r['join_s']:.2f}", f"{r['rss_mib']:.0f} (before it {r['rss_start_mib']:.0f})",
         f"{r['load']:.1f}",
         f"{r['counts'].get('auto_exact', 0):,} / {r['counts'].get('auto_within_tolerance', 0):,}"]
        for backend, r in results
    ]  # fmt: skip
    body = table(
        ["database", "bill rows", "expected lines", "run (s)", "plain SQL join (s)",
         "run's peak RSS (MiB)", "load avg", "auto exact / within tolerance"],
        rows,
    )  # fmt: skip
    if args.record:
        append_results("Reconciliation runs", " ".join(["bench.recon", *sys.argv[1:]]), body)
    else:
        print(body)


if __name__ == "__main__":
    main()
