"""Benchmark 5: importing an Alipay statement, against PostgreSQL COPY of the same rows.

    .venv/bin/python -m bench.imports [--rows 1000000] [--small 100000]

A GBK Alipay 账务明细 CSV (preamble, footer, tabs after ids) of ``--rows`` chained rows is
imported with ``zhangben.imports.runner.import_file`` into a fresh ledger on a durable
PostgreSQL and on SQLite. Two references, same server, same run:

* **COPY, statement table**: ``COPY`` of the same rows (a clean UTF-8 CSV) into a table of the
  statement's 12 columns with a primary key on the flow number — the raw speed of loading the
  file, but NOT the same work: the import keeps more columns (the raw cells as JSON) and writes
  three rows per statement row.
* **COPY, what the import writes**: the ``postings``, ``entries`` and ``bill_rows`` rows the
  PostgreSQL import wrote (dumped with ``COPY … TO``) loaded with ``COPY`` into the same tables
  of a fresh ledger — same columns, indexes, foreign keys and durability, in one transaction:
  the cost of the writes alone, with no parsing, checking or computing.

Every import runs in its own process so that its peak memory (max RSS) is its own; peak memory
is measured for ``--small`` and ``--rows`` rows.
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
    from zhangben.demo import bills as samples

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
    return seconds, rss_mb, report.phases


def run_import(url: str, path: str, rows: int) -> tuple[float, float, str]:
    with mp.get_context("spawn").Pool(1) as pool:
        seconds, rss, phases = pool.apply(_import, ((url, path, rows),))
    split = " + ".join(f"{phases.get(k, 0):.1f}" for k in ("read", "post", "check"))
    return rows / seconds, rss, split


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


WRITTEN = ("postings", "entries", "bill_rows")


def written_copy_rate(server, src: str, tmp: str, rows: int) -> float:
    """COPY of exactly the rows the import wrote into the same tables of a fresh ledger."""
    import sqlalchemy as sa

    from zhangben.store.migrate import upgrade

    dumps = {}
    with psycopg.connect(src) as conn:
        for table in ("accounts", "import_batches", *WRITTEN):
            dumps[table] = os.path.join(tmp, f"{table}-{rows}.copy")
            with (
                open(dumps[table], "wb") as f,
                conn.cursor().copy(f"COPY {table} TO STDOUT") as copy,  # noqa: S608
            ):
                for data in copy:
                    f.write(data)
    dst = create_db(server, f"zb_written_{rows}")
    engine = sa.create_engine(dst.replace("postgresql://", "postgresql+psycopg://"))
    upgrade(engine)
    engine.dispose()

    def load(conn, table):
        with (
            conn.cursor().copy(f"COPY {table} FROM STDIN") as copy,  # noqa: S608
            open(dumps[table], "rb") as f,
        ):
            while chunk := f.read(1 << 20):
                copy.write(chunk)

    with psycopg.connect(dst) as conn:
        with conn.transaction():
            for table in ("accounts", "import_batches"):
                load(conn, table)
        t0 = time.perf_counter()
        with conn.transaction():
            for table in WRITTEN:
                load(conn, table)
        return rows / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--print-only", action="store_true", help="do not append to RESULTS.md")
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
                pg_rate, pg_rss, pg_split = run_import(
                    dsn.replace("postgresql://", "postgresql+psycopg://"), statement, n
                )
                written = written_copy_rate(server, dsn, tmp, n)
                sq_rate, sq_rss, sq_split = run_import(
                    f"sqlite:///{os.path.join(tmp, f'import-{n}.db')}", statement, n
                )
                results.append(
                    [
                        f"{n:,}",
                        f"{pg_rate:,.0f}",
                        f"{sq_rate:,.0f}",
                        f"{ref:,.0f}",
                        f"{written:,.0f}",
                        f"{pg_rate / ref:.3f}× / {pg_rate / written:.2f}×",
                        f"{pg_rss:.0f} / {sq_rss:.0f}",
                        f"{pg_split} / {sq_split}",
                    ]
                )
        finally:
            server.stop()
    body = table(
        [
            "rows",
            "import rows/s (PostgreSQL)",
            "import rows/s (SQLite)",
            "COPY rows/s, statement table",
            "COPY rows/s, what the import writes",
            "PostgreSQL import ÷ COPY (statement / written)",
            "peak RSS MB (PostgreSQL / SQLite run)",
            "seconds read + post + check (PostgreSQL / SQLite)",
        ],
        results,
    )
    if args.print_only:
        print(body)
        return
    append_results(
        "Bill import (bench/imports.py)",
        f".venv/bin/python -m bench.imports --rows {args.rows} --small {args.small}",
        body,
    )


if __name__ == "__main__":
    main()
