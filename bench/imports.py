"""Benchmark 5: importing an Alipay statement, against PostgreSQL COPY of the same rows.

    .venv/bin/python -m bench.imports [--rows 1000000] [--small 100000]

A GBK Alipay 账务明细 CSV (preamble, footer, tabs after ids) of ``--rows`` chained rows is
imported with ``zhangben.imports.runner.import_file`` into a fresh ledger on a durable
PostgreSQL and on SQLite; the reference is ``COPY`` of the same rows (a clean UTF-8 CSV) into an
equivalent table with a primary key on the flow number, same server, same run. Every import
runs in its own process so that its peak memory (max RSS) is its own; peak memory is measured
for ``--small`` and ``--rows`` rows.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import resource
import tempfile
import time

import psycopg

from bench.common import append_results, create_db, start_postgres, table

COPY_TABLE = """
CREATE TABLE alipay_copy (
    flow_no text PRIMARY KEY, biz_no text NOT NULL, order_no text NOT NULL, goods text,
    happened_at timestamptz NOT NULL, counterparty text, income numeric(18,4) NOT NULL,
    expense numeric(18,4) NOT NULL, balance numeric(18,4) NOT NULL, channel text,
    business_type text, remark text)
"""


def write_files(directory: str, rows: int) -> tuple[str, str]:
    from zhangben.imports import samples

    statement = os.path.join(directory, f"alipay-{rows}.csv")
    samples.write_alipay_csv(statement, samples.chained_txns(rows, seed=5))
    clean = os.path.join(directory, f"alipay-{rows}-clean.csv")
    with open(clean, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        for t in samples.chained_txns(rows, seed=5):
            r = samples.alipay_row(t)
            values = list(r.values())
            values[4] = f"{values[4]}+08"
            values[7] = values[7].lstrip("-")
            out.writerow(values)
    return statement, clean


def _import(args) -> tuple[float, float, int]:
    url, path, rows = args
    from zhangben.core.ledger import Ledger
    from zhangben.imports.runner import import_file
    from zhangben.store.migrate import upgrade

    ledger = Ledger.from_url(url)
    upgrade(ledger.engine)
    number = f"ALI{rows}"
    ledger.open_account(number=number, name="支付宝", type="alipay", allow_overdraft=True)
    t0 = time.perf_counter()
    report = import_file(ledger, path, account=number)
    seconds = time.perf_counter() - t0
    assert report.rows_new == rows, report
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return seconds, rss_mb, report.rows_new


def run_import(url: str, path: str, rows: int) -> tuple[float, float]:
    with mp.get_context("spawn").Pool(1) as pool:
        seconds, rss, _ = pool.apply(_import, ((url, path, rows),))
    return rows / seconds, rss


def copy_rate(dsn: str, clean: str, rows: int) -> float:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS alipay_copy")
        conn.execute(COPY_TABLE)
        t0 = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy("COPY alipay_copy FROM STDIN WITH (FORMAT csv)") as copy,
            open(clean, "rb") as f,
        ):
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        return rows / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        files = {n: write_files(tmp, n) for n in (args.small, args.rows)}
        server = start_postgres()
        try:
            for n in (args.small, args.rows):
                statement, clean = files[n]
                dsn = create_db(server, f"zb_import_{n}")
                ref = copy_rate(dsn, clean, n)
                pg_rate, pg_rss = run_import(
                    dsn.replace("postgresql://", "postgresql+psycopg://"), statement, n
                )
                sq_rate, sq_rss = run_import(
                    f"sqlite:///{os.path.join(tmp, f'import-{n}.db')}", statement, n
                )
                results.append(
                    [
                        f"{n:,}",
                        f"{pg_rate:,.0f}",
                        f"{sq_rate:,.0f}",
                        f"{ref:,.0f}",
                        f"{pg_rate / ref:.3f}×",
                        f"{pg_rss:.0f} / {sq_rss:.0f}",
                    ]
                )
        finally:
            server.stop()
    body = table(
        [
            "rows",
            "import rows/s (PostgreSQL)",
            "import rows/s (SQLite)",
            "COPY rows/s (reference)",
            "PostgreSQL import ÷ COPY",
            "peak RSS MB (PostgreSQL / SQLite run)",
        ],
        results,
    )
    append_results(
        "Bill import (bench/imports.py)",
        f".venv/bin/python -m bench.imports --rows {args.rows} --small {args.small}",
        body,
    )


if __name__ == "__main__":
    main()
