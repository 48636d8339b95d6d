"""How long ``zhangben verify`` takes on a ledger of imported bills, check by check.

    .venv/bin/python -m bench.verify [--rows 1000000] [--repeat 3] [--print-only]

An Alipay statement of ``--rows`` chained rows is imported into one account of a fresh
ledger, on a durable PostgreSQL and on SQLite, with one row left out and imported last (a
filled gap: that row's entry is the newest, while its time is mid-file) and one posting by
hand dated between two rows (so the drift check has something to find). Then each check of
the one verifier (:mod:`zhangben.imports.verify`) is timed on its own — ``ledger`` (the
core's proof), ``bills`` (the continuity chain, streamed through Python), ``drift`` (the
ledger's running balance at each row against the platform's, one window function) — and the
whole report, best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import timedelta

from bench.common import append_results, create_db, start_postgres, table


def build(url: str, directory: str, rows: int) -> None:
    from zhangben.core.ledger import Ledger
    from zhangben.demo import bills as samples
    from zhangben.imports.runner import import_file
    from zhangben.store.migrate import upgrade

    ledger = Ledger.from_url(url)
    upgrade(ledger.engine)
    ledger.open_account(number="ALI001", name="支付宝", type="alipay", allow_overdraft=True)
    gap = rows // 2
    txns = samples.chained_txns(rows, seed=5)
    main = os.path.join(directory, "main.csv")
    left_out = []

    def all_but_gap():
        for i, t in enumerate(txns):
            if i == gap:
                left_out.append(t)
                continue
            yield t

    samples.write_alipay_csv(main, all_but_gap())
    import_file(ledger, main, account="ALI001")
    late = os.path.join(directory, "late.csv")
    samples.write_alipay_csv(late, left_out)
    import_file(ledger, late, account="ALI001")
    when = left_out[0].time + timedelta(seconds=rows // 4)
    ledger.expense("ALI001", "1.00", trade_time=when.replace(tzinfo=ledger.tz))
    ledger.engine.dispose()


def timings(url: str, repeat: int) -> list[float]:
    from zhangben.core.ledger import Ledger
    from zhangben.core.verification import verify as verify_ledger
    from zhangben.imports.check import check_bills, check_drift
    from zhangben.imports.verify import verify
    from zhangben.store.engine import read_transaction

    ledger = Ledger.from_url(url)
    out = []
    for work in (verify_ledger, check_bills, check_drift, verify):
        best = float("inf")
        for _ in range(repeat):
            with read_transaction(ledger.engine) as conn:
                t0 = time.perf_counter()
                result = work(conn)
                best = min(best, time.perf_counter() - t0)
        out.append(best)
    assert len(result.check("drift").problems) == 1, result  # the posting by hand
    ledger.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--print-only", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        server = start_postgres()
        try:
            pg = create_db(server, "zb_verify").replace("postgresql://", "postgresql+psycopg://")
            for name, url in (("PostgreSQL", pg), ("SQLite", f"sqlite:///{tmp}/verify.db")):
                t0 = time.perf_counter()
                build(url, tmp, args.rows)
                built = time.perf_counter() - t0
                seconds = timings(url, args.repeat)
                results.append(
                    [name, f"{args.rows:,}", f"{built:.0f}", *(f"{s:.2f}" for s in seconds)]
                )
        finally:
            server.stop()
    body = table(
        [
            "database",
            "imported rows",
            "import s",
            "ledger s",
            "bills s",
            "drift s",
            "whole verify s",
        ],
        results,
    )
    if args.print_only:
        print(body)
        return
    append_results(
        "Verify on imported bills (bench/verify.py)",
        f".venv/bin/python -m bench.verify --rows {args.rows}",
        body,
    )


if __name__ == "__main__":
    main()
