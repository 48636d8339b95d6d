"""Benchmark 1: single postings (one transfer per committed transaction).

    .venv/bin/python -m bench.postings [--seconds 20] [--entries 200000]

PostgreSQL (durable: fsync and synchronous_commit on), 1 and 8 client processes, random pairs
among 100 accounts, ledgers pre-filled and ANALYZEd, all in the same run on the same server:
  * zhangben's core (``Ledger.transfer``),
  * the one-round-trip reference: a PL/pgSQL function that locks both accounts in id order,
    inserts two entries with balance-after and updates both balances, called from psycopg 3,
  * pgbench's built-in TPC-B transaction (scale 10).
SQLite (WAL, synchronous=FULL), 1 process: the core against the same statements issued
directly with ``sqlite3`` on the same (migrated) schema.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import re
import sqlite3
import subprocess
import tempfile
from decimal import Decimal

import psycopg

from bench.common import (
    append_results,
    create_db,
    median,
    pct,
    start_postgres,
    table,
    timed_loop,
)

ACCOUNTS = 100

PREFILL_SQL = """
INSERT INTO postings (id, kind, trade_no, created_at)
SELECT g, 'income', 'PF' || g, now() FROM generate_series(1, {n}) g;
INSERT INTO entries (posting_id, account_id, type, amount, balance_after, trade_no, trade_time,
                     recorded_at, category_id, description, remark, source)
SELECT g, a, 'income', 100000, 100000 * row_number() OVER (PARTITION BY a ORDER BY g),
       'PF' || g, now() - interval '400 days' + g * interval '1 minute', now(), 1, '', '', 'manual'
FROM (SELECT g, 1 + g % {accounts} AS a FROM generate_series(1, {n}) g) s ORDER BY g;
SELECT setval(pg_get_serial_sequence('postings', 'id'), (SELECT max(id) FROM postings));
UPDATE accounts SET balance = s.total FROM
  (SELECT account_id, sum(amount) AS total FROM entries GROUP BY account_id) s
WHERE accounts.id = s.account_id;
"""

REFERENCE_SQL = """
CREATE TABLE ref_accounts (id integer PRIMARY KEY, balance bigint NOT NULL);
CREATE TABLE ref_entries (id bigserial PRIMARY KEY, transfer_id bigint NOT NULL,
    account_id integer NOT NULL REFERENCES ref_accounts(id), amount bigint NOT NULL,
    balance_after bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON ref_entries (account_id, id);
CREATE SEQUENCE ref_transfer_ids;
INSERT INTO ref_accounts SELECT g, 0 FROM generate_series(1, {accounts}) g;
INSERT INTO ref_entries (transfer_id, account_id, amount, balance_after)
SELECT g, a, 100000, 100000 * row_number() OVER (PARTITION BY a ORDER BY g)
FROM (SELECT g, 1 + g % {accounts} AS a FROM generate_series(1, {n}) g) s ORDER BY g;
UPDATE ref_accounts SET balance = s.total FROM
  (SELECT account_id, sum(amount) AS total FROM ref_entries GROUP BY account_id) s
WHERE ref_accounts.id = s.account_id;
CREATE FUNCTION ref_transfer(p_from integer, p_to integer, p_amount bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE r record; t bigint := nextval('ref_transfer_ids'); b bigint;
BEGIN
  FOR r IN SELECT id, balance FROM ref_accounts WHERE id IN (p_from, p_to) ORDER BY id FOR UPDATE
  LOOP
    b := r.balance + CASE WHEN r.id = p_from THEN -p_amount ELSE p_amount END;
    IF b < 0 THEN RAISE EXCEPTION 'insufficient funds'; END IF;
    INSERT INTO ref_entries (transfer_id, account_id, amount, balance_after)
    VALUES (t, r.id, CASE WHEN r.id = p_from THEN -p_amount ELSE p_amount END, b);
    UPDATE ref_accounts SET balance = b WHERE id = r.id;
  END LOOP;
END $$;
"""


#: The same one-round-trip transfer on zhangben's own tables (a postings row, entries with every
#: column and index, B001… accounts), without zhangben's checks and code: it separates what the
#: schema costs from what the code costs.
SAME_SCHEMA_SQL = """
CREATE FUNCTION ref_transfer_zb(p_from integer, p_to integer, p_amount bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE r record; t bigint; b bigint; amt bigint;
BEGIN
  INSERT INTO postings (kind, trade_no, created_at) VALUES ('transfer', 'R', now())
  RETURNING id INTO t;
  FOR r IN SELECT id, number, balance FROM accounts WHERE id IN (p_from, p_to) ORDER BY id
           FOR UPDATE
  LOOP
    amt := CASE WHEN r.id = p_from THEN -p_amount ELSE p_amount END;
    b := r.balance + amt;
    IF b < 0 THEN RAISE EXCEPTION 'insufficient funds'; END IF;
    INSERT INTO entries (posting_id, account_id, type, amount, balance_after, trade_no,
                         trade_time, recorded_at, category_id, subject_id, description, remark,
                         source)
    VALUES (t, r.id, CASE WHEN amt < 0 THEN 'transfer_out' ELSE 'transfer_in' END, amt, b,
            'R', now(), now(), 24, CASE WHEN amt < 0 THEN 25 ELSE 26 END, '', '', 'internal');
    UPDATE accounts SET balance = b WHERE id = r.id;
  END LOOP;
END $$;
"""


def _pairs(seed: int):
    rng = random.Random(seed)
    while True:
        a, b = rng.sample(range(1, ACCOUNTS + 1), 2)
        yield a, b, rng.randint(1, 100)  # cents


def _core_worker(args) -> tuple[int, list[float], int]:
    url, seconds, seed = args
    from zhangben.core.errors import InsufficientFunds
    from zhangben.core.ledger import Ledger

    ledger = Ledger.from_url(url)
    pairs = _pairs(seed)
    refused = [0]

    def op():
        a, b, cents = next(pairs)
        try:
            ledger.transfer(f"B{a:03d}", f"B{b:03d}", Decimal(cents) / 100)
        except InsufficientFunds:
            refused[0] += 1

    ledger.transfer("B001", "B002", "0.01")  # warm up the connection and caches
    count, lat = timed_loop(op, seconds)
    return count, lat, refused[0]


def _reference_worker(args) -> tuple[int, list[float], int]:
    dsn, seconds, seed = args
    pairs = _pairs(seed)
    with psycopg.connect(dsn, autocommit=True) as conn:

        def op():
            a, b, cents = next(pairs)
            conn.execute("SELECT ref_transfer(%s, %s, %s)", (a, b, cents * 100))

        conn.execute("SELECT ref_transfer(1, 2, 1)")
        count, lat = timed_loop(op, seconds)
    return count, lat, 0


def _same_schema_worker(args) -> tuple[int, list[float], int]:
    dsn, seconds, seed = args
    pairs = _pairs(seed)
    with psycopg.connect(dsn, autocommit=True) as conn:
        ids = dict(conn.execute("SELECT number, id FROM accounts").fetchall())

        def op():
            a, b, cents = next(pairs)
            conn.execute(
                "SELECT ref_transfer_zb(%s, %s, %s)",
                (ids[f"B{a:03d}"], ids[f"B{b:03d}"], cents * 100),
            )

        op()
        count, lat = timed_loop(op, seconds)
    return count, lat, 0


def run_clients(worker, target: str, clients: int, seconds: float) -> dict:
    with mp.get_context("spawn").Pool(clients) as pool:
        results = pool.map(worker, [(target, seconds, i * 7919 + clients) for i in range(clients)])
    count = sum(r[0] for r in results)
    lat = [x for r in results for x in r[1]]
    return {
        "tps": count / seconds,
        "p50": median(lat),
        "p99": pct(lat, 0.99),
        "refused": sum(r[2] for r in results),
    }


def pgbench(server, clients: int, seconds: float) -> float:
    from tests.pgserver import find_bindir

    bindir = find_bindir()
    db = "pgbench_db"
    url = create_db(server, db)
    env = {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": str(server.port), "PGUSER": "postgres"}
    subprocess.run(
        [f"{bindir}/pgbench", "-i", "-q", "-s", "10", db], env=env, check=True, capture_output=True
    )
    out = subprocess.run(
        [
            f"{bindir}/pgbench",
            "-n",
            "-c",
            str(clients),
            "-j",
            str(min(clients, 2)),
            "-T",
            str(int(seconds)),
            db,
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    del url
    return float(re.search(r"tps = ([0-9.]+)", out).group(1))


def prepare_core(url: str, entries: int) -> None:
    from zhangben.core.ledger import Ledger
    from zhangben.store.migrate import upgrade

    ledger = Ledger.from_url(url)
    upgrade(ledger.engine)
    for i in range(1, ACCOUNTS + 1):
        ledger.open_account(number=f"B{i:03d}", name=f"bench {i}")
    raw = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw, autocommit=True) as conn:
        for stmt in PREFILL_SQL.format(n=entries, accounts=ACCOUNTS).split(";\n"):
            if stmt.strip():
                conn.execute(stmt)
        conn.execute("VACUUM ANALYZE")
        conn.execute(SAME_SCHEMA_SQL)
    ledger.engine.dispose()
    _close_a_period(url)
    assert Ledger.from_url(url).verify().ok


def _close_a_period(url: str) -> None:
    """With ZHANGBEN_BENCH_CLOSED_PERIOD set (``bench.ab --closed-period``): a month closed in
    the past, so that every posting's period guard reads the closed periods (the postings are
    dated now, after it) instead of finding none."""
    if os.environ.get("ZHANGBEN_BENCH_CLOSED_PERIOD"):
        from zhangben.core.ledger import Ledger

        Ledger.from_url(url).close_period("2020-01", actor="bench")


def prepare_reference(dsn: str, entries: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(REFERENCE_SQL.format(n=entries, accounts=ACCOUNTS))
        conn.execute("VACUUM ANALYZE")


# -- SQLite ---------------------------------------------------------------------------------


def sqlite_core(path: str, seconds: float) -> dict:
    from zhangben.core.ledger import Ledger
    from zhangben.store.migrate import upgrade

    ledger = Ledger.from_url(f"sqlite:///{path}")
    upgrade(ledger.engine)
    for i in range(1, ACCOUNTS + 1):
        ledger.open_account(number=f"B{i:03d}", name=f"bench {i}")
        ledger.income(f"B{i:03d}", "2000")
    _close_a_period(f"sqlite:///{path}")
    pairs = _pairs(1)

    def op():
        a, b, cents = next(pairs)
        ledger.transfer(f"B{a:03d}", f"B{b:03d}", Decimal(cents) / 100)

    count, lat = timed_loop(op, seconds)
    assert ledger.verify().ok
    return {"tps": count / seconds, "p50": median(lat), "p99": pct(lat, 0.99)}


def sqlite_raw(path: str, seconds: float) -> dict:
    """The statements the core's SQLite path issues for a transfer, issued directly with
    ``sqlite3`` on the same schema (created by the migrations: same tables, indexes, foreign
    keys) and the same settings (WAL, synchronous=FULL, foreign_keys=ON)."""
    from zhangben.store.engine import make_engine
    from zhangben.store.migrate import upgrade
    from zhangben.store.writers.rows import ENTRY_COLUMNS

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executemany(
        "INSERT INTO accounts (id, number, name, type, currency, status, allow_overdraft,"
        " balance, created_at) VALUES (?, ?, ?, 'general', 'CNY', 'open', 0, 20000000,"
        " '2024-01-01 00:00:00.000000')",
        [(i, f"B{i:03d}", f"bench {i}") for i in range(1, ACCOUNTS + 1)],
    )
    insert_entries = (
        f"INSERT INTO entries ({', '.join(ENTRY_COLUMNS)}) VALUES "  # noqa: S608
        + ", ".join(["(" + ", ".join("?" * len(ENTRY_COLUMNS)) + ")"] * 2)
        + " RETURNING id"
    )
    pairs = _pairs(1)

    def op():
        a, b, cents = next(pairs)
        amount = cents * 100
        conn.execute("BEGIN IMMEDIATE")
        rows = {
            r[1]: r
            for r in conn.execute(
                "SELECT id, number, name, currency, status, allow_overdraft, balance, shop_code "
                "FROM accounts WHERE number IN (?, ?) ORDER BY id",
                (f"B{a:03d}", f"B{b:03d}"),
            )
        }
        src, dst = rows[f"B{a:03d}"], rows[f"B{b:03d}"]
        now = "2024-01-01 00:00:00.000000"
        pid = conn.execute(
            "INSERT INTO postings (kind, trade_no, idempotency_key, request_hash, "
            "reverses_posting_id, created_at) VALUES ('transfer', 'T', NULL, 'h', NULL, ?) "
            "RETURNING id",
            (now,),
        ).fetchone()[0]
        leg = (None, 24)
        conn.execute(
            insert_entries,
            (
                *(pid, src[0], "transfer_out", -amount, src[6] - amount, "T", now, now),
                *(*leg, 25, dst[1], "", "", "internal", None, None, None),
                *(pid, dst[0], "transfer_in", amount, dst[6] + amount, "T", now, now),
                *(*leg, 26, src[1], "", "", "internal", None, None, None),
            ),
        ).fetchall()
        conn.executemany(
            "UPDATE accounts SET balance = ? WHERE id = ?",
            [(src[6] - amount, src[0]), (dst[6] + amount, dst[0])],
        )
        conn.execute("COMMIT")

    count, lat = timed_loop(op, seconds)
    return {"tps": count / seconds, "p50": median(lat), "p99": pct(lat, 0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--entries", type=int, default=200_000)
    args = parser.parse_args()
    server = start_postgres()
    rows = []
    try:
        core_url = create_db(server, "zb_core").replace("postgresql://", "postgresql+psycopg://")
        prepare_core(core_url, args.entries)
        core_dsn = core_url.replace("postgresql+psycopg://", "postgresql://")
        ref_dsn = create_db(server, "zb_ref")
        prepare_reference(ref_dsn, args.entries)
        for clients in (1, 8):
            bench = pgbench(server, clients, args.seconds)
            ref = run_clients(_reference_worker, ref_dsn, clients, args.seconds)
            same = run_clients(_same_schema_worker, core_dsn, clients, args.seconds)
            core = run_clients(_core_worker, core_url, clients, args.seconds)
            rows.append(
                [
                    f"PostgreSQL, {clients} client(s)",
                    f"{core['tps']:,.0f}",
                    f"{ref['tps']:,.0f}",
                    f"{core['tps'] / ref['tps']:.2f}×",
                    f"{same['tps']:,.0f} ({core['tps'] / same['tps']:.2f}×)",
                    f"{bench:,.0f}",
                    f"{core['tps'] / bench:.2f}×",
                    f"{core['p50']:.2f} / {core['p99']:.2f}",
                    str(core["refused"]),
                ]
            )
        from zhangben.core.ledger import Ledger

        assert Ledger.from_url(core_url).verify().ok
    finally:
        server.stop()
    with tempfile.TemporaryDirectory() as tmp:
        core = sqlite_core(os.path.join(tmp, "core.db"), args.seconds)
        raw = sqlite_raw(os.path.join(tmp, "raw.db"), args.seconds)
    rows.append(
        [
            "SQLite, 1 process",
            f"{core['tps']:,.0f}",
            f"{raw['tps']:,.0f} (raw sqlite3)",
            f"{core['tps'] / raw['tps']:.2f}×",
            "–",
            "–",
            "–",
            f"{core['p50']:.2f} / {core['p99']:.2f}",
            "0",
        ]
    )
    body = table(
        [
            "backend",
            "core transfers/s",
            "reference/s",
            "core ÷ reference",
            "same fn on zhangben's tables/s (core ÷ it)",
            "pgbench TPC-B tps",
            "core ÷ pgbench",
            "core p50 / p99 ms",
            "refused (insufficient funds)",
        ],
        rows,
    )
    body += (
        f"\n\n{args.entries:,} entries pre-filled over {ACCOUNTS} accounts, ANALYZEd; "
        f"{args.seconds:g} s per run; reference = the issue's one-round-trip PL/pgSQL transfer "
        "function on its own minimal tables (pre-filled the same way); 'same fn on zhangben's "
        "tables' = that function writing a postings row and full entries into zhangben's "
        "schema (all its indexes), without zhangben's checks. SQLite reference = the core's "
        "statements issued directly with sqlite3 on the migrated schema. Targets: core ≥ 0.9× "
        "reference on PostgreSQL, ≥ 0.7× raw sqlite3 on SQLite."
    )
    append_results(
        "Single postings (bench/postings.py)",
        f".venv/bin/python -m bench.postings --seconds {args.seconds:g}",
        body,
    )


if __name__ == "__main__":
    main()
