"""What the period guard (rule R13, the trigger on ``entries``) costs a write, measured on one
database with the guard dropped and put back between figures, in the same run.

    .venv/bin/python -m bench.period_guard [--rounds 11] [--calls 600] [--batch 2000]

Three variants of the same database, in shuffled order every round:
  * ``no guard``: the trigger dropped (what a write cost before periods);
  * ``guard, none closed``: the trigger, no period closed (its ``WHEN`` is never true);
  * ``guard, a month closed``: the trigger and a closed month (2020-01); the writes are dated
    now, after its end, the constant of the trigger's ``WHEN``.

Figures: single transfers through the core, 1 client (``Ledger.transfer``: ``zb_post`` on
PostgreSQL, the bulk writer on SQLite), the 10th percentile of ``--calls`` latencies; and the
fastest of three ``transfer_many`` batches of ``--batch`` transfers (``COPY`` on PostgreSQL,
INSERTs of 50 rows on SQLite). PostgreSQL runs
twice: durable (``synchronous_commit`` on, what a posting costs) and with
``synchronous_commit=off`` (the commit's flush taken out, so the guard's CPU is a larger share:
an upper bound of its relative cost). Each figure is a ratio to the same round's ``no guard``
time (above 1: the guard made it slower).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from decimal import Decimal

import sqlalchemy as sa

from bench.common import append_results, create_db, start_postgres, table
from bench.postings import ACCOUNTS, _pairs, prepare_core

VARIANTS = ("no guard", "guard, none closed", "guard, a month closed")


def _apply(engine, variant: str) -> None:
    """The variant on the database: the month closed (or reopened), the guard rewritten for
    it (as a close does), or dropped."""
    from zhangben.store.writers import period_guard

    pg = engine.dialect.name == "postgresql"
    with engine.begin() as c:
        status = "closed" if variant == "guard, a month closed" else "reopened"
        c.execute(sa.text("UPDATE periods SET status = :s"), {"s": status})
        c.exec_driver_sql("DROP TRIGGER IF EXISTS zb_period_guard" + (" ON entries" if pg else ""))
        if variant != "no guard":
            period_guard.refresh(c)


def _singles(ledger, calls: int, seed: int) -> float:
    """The 10th percentile of ``calls`` single transfers' latencies, in µs: a low percentile
    is what a posting costs when the machine lets it run (on a shared machine, throughput
    and the median swing by more than the guard costs)."""
    pairs = _pairs(seed)
    latencies = []
    for _ in range(calls):
        a, b, cents = next(pairs)
        t0 = time.perf_counter()
        ledger.transfer(f"B{a:03d}", f"B{b:03d}", Decimal(cents) / 100)
        latencies.append(time.perf_counter() - t0)
    latencies.sort()
    return latencies[len(latencies) // 10] * 1e6


def _batch(ledger, n: int, seed: int) -> float:
    """The fastest of three batches of ``n`` transfers, in µs per transfer."""
    rng = random.Random(seed)
    best = float("inf")
    for _ in range(3):
        specs = []
        for _ in range(n):
            a, b = rng.sample(range(1, ACCOUNTS + 1), 2)
            specs.append((f"B{a:03d}", f"B{b:03d}", "0.01"))
        t0 = time.perf_counter()
        ledger.transfer_many(specs)
        best = min(best, (time.perf_counter() - t0) / n * 1e6)
    return best


def _prepare_sqlite(path: str):
    from zhangben.core.ledger import Ledger
    from zhangben.store.migrate import upgrade

    ledger = Ledger.from_url(f"sqlite:///{path}")
    upgrade(ledger.engine)
    for i in range(1, ACCOUNTS + 1):
        ledger.open_account(number=f"B{i:03d}", name=f"bench {i}")
        ledger.income(f"B{i:03d}", "100000")
    return ledger


def _close_and_keep(ledger) -> None:
    ledger.close_period("2020-01", actor="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--print-only", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    from zhangben.core.ledger import Ledger

    server = start_postgres()
    tmp = tempfile.mkdtemp(prefix="zb-guard-")
    results: dict[tuple[str, str], list[float]] = {}
    try:
        url = create_db(server, "zb_guard").replace("postgresql://", "postgresql+psycopg://")
        prepare_core(url, args.entries)
        setups = {
            "PostgreSQL, durable": Ledger.from_url(url),
            "PostgreSQL, synchronous_commit=off": Ledger.from_url(
                url + "?options=-c%20synchronous_commit%3Doff"
            ),
            "SQLite": _prepare_sqlite(f"{tmp}/guard.db"),
        }
        for name in ("PostgreSQL, durable", "SQLite"):
            _close_and_keep(setups[name])
        for r in range(args.rounds):
            for name, ledger in setups.items():
                order = list(VARIANTS)
                random.shuffle(order)
                singles, batches = {}, {}
                for variant in order:
                    _apply(ledger.engine, variant)
                    ledger.transfer("B001", "B002", "0.01")  # the new trigger prepared
                    singles[variant] = _singles(ledger, args.calls, r * 31 + 7)
                    batches[variant] = _batch(ledger, args.batch, r * 31 + 11)
                for variant in VARIANTS[1:]:
                    results.setdefault((name, f"single, {variant}"), []).append(
                        singles[variant] / singles["no guard"]
                    )
                    results.setdefault((name, f"batch, {variant}"), []).append(
                        batches[variant] / batches["no guard"]
                    )
                print(
                    f"round {r + 1}, {name}: "
                    + ", ".join(f"{v} p10 {singles[v]:,.0f} µs, batch {batches[v]:,.1f} µs/transfer"
                                for v in VARIANTS),
                    flush=True,
                )  # fmt: skip
            for ledger in setups.values():
                _apply(ledger.engine, "guard, none closed")
    finally:
        server.stop()

    rows = []
    for (name, what), ratios in results.items():
        rows.append([name, what, f"{statistics.median(ratios):.3f}×",
                     f"{min(ratios):.3f}–{max(ratios):.3f}"])  # fmt: skip
    body = table(
        ["database", "write, variant", "time ÷ no guard's, same round (median)", "range"], rows
    )
    body += (
        f"\n\nMedian over {args.rounds} rounds of each variant's time divided by the same "
        f"round's time without the guard (above 1: slower). Single transfers through the core, "
        f"1 client: the 10th percentile of {args.calls} calls' latencies; batches: the fastest "
        f"of three `transfer_many` of {args.batch:,} transfers, per transfer. The three variants "
        "of a round in shuffled order on the same database."
    )
    if args.print_only:
        print(body)
    else:
        append_results(
            "The period guard's cost (bench/period_guard.py)",
            f".venv/bin/python -m bench.period_guard --rounds {args.rounds} "
            f"--calls {args.calls} --batch {args.batch}",
            body,
        )


if __name__ == "__main__":
    main()
