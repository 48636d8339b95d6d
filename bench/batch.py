"""Benchmark 3: batched postings — many transfers in one transaction (``Ledger.transfer_many``).

    .venv/bin/python -m bench.batch [--seconds 10]

Batches of 100 and 1,000 random transfers among 100 accounts, each batch one committed
transaction (all or nothing, same locking, idempotency and balance-after rules as single
postings), on a durable PostgreSQL and on SQLite (WAL, synchronous=FULL). Target: ≥ 50,000
transfers/s.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from decimal import Decimal

from bench.common import append_results, create_db, median, start_postgres, table

ACCOUNTS = 100


def run(url: str, batch: int, seconds: float, keyed: bool) -> dict:
    from zhangben.core.ledger import Ledger
    from zhangben.store.migrate import upgrade

    ledger = Ledger.from_url(url)
    upgrade(ledger.engine)
    numbers = [f"T{batch}{'k' if keyed else ''}{i:03d}" for i in range(ACCOUNTS)]
    for n in numbers:
        ledger.open_account(number=n, name=n)
        ledger.income(n, "1000000")
    rng = random.Random(batch)
    serial = 0
    done, times = 0, []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        specs = []
        for _ in range(batch):
            a, b = rng.sample(numbers, 2)
            serial += 1
            spec = (a, b, Decimal(rng.randint(1, 10000)) / 100)
            specs.append((*spec, f"bk-{batch}-{serial}") if keyed else spec)
        t0 = time.perf_counter()
        ledger.transfer_many(specs)
        times.append(time.perf_counter() - t0)
        done += batch
    report = ledger.verify()
    assert report.ok, report.problems
    ledger.engine.dispose()
    return {"tps": done / sum(times), "batch_ms": median(times) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    rows = []
    server = start_postgres()
    try:
        url = create_db(server, "zb_batch").replace("postgresql://", "postgresql+psycopg://")
        for batch in (100, 1000):
            for keyed in (False, True):
                r = run(url, batch, args.seconds, keyed)
                rows.append(
                    [
                        "PostgreSQL",
                        batch,
                        "yes" if keyed else "no",
                        f"{r['tps']:,.0f}",
                        f"{r['batch_ms']:.1f}",
                        f"{r['tps'] / 50000:.2f}×",
                    ]
                )
    finally:
        server.stop()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{os.path.join(tmp, 'batch.db')}"
        for batch in (100, 1000):
            for keyed in (False, True):
                r = run(url, batch, args.seconds, keyed)
                rows.append(
                    [
                        "SQLite",
                        batch,
                        "yes" if keyed else "no",
                        f"{r['tps']:,.0f}",
                        f"{r['batch_ms']:.1f}",
                        f"{r['tps'] / 50000:.2f}×",
                    ]
                )
    body = table(
        [
            "backend",
            "batch size",
            "idempotency key per transfer",
            "transfers/s",
            "median ms per batch",
            "÷ 50,000/s target",
        ],
        rows,
    )
    body += (
        "\n\nEach batch is one committed transaction (durable commit); the verifier is run "
        "after each configuration and is clean."
    )
    append_results(
        "Batched postings (bench/batch.py)",
        f".venv/bin/python -m bench.batch --seconds {args.seconds:g}",
        body,
    )


if __name__ == "__main__":
    main()
