"""Benchmark 3: batched postings — many transfers in one transaction (``Ledger.transfer_many``).

    .venv/bin/python -m bench.batch [--seconds 10]

Batches of 100 and 1,000 random transfers among 100 accounts, each batch one committed
transaction (all or nothing, same locking, idempotency and balance-after rules as single
postings), on a durable PostgreSQL and on SQLite (WAL, synchronous=FULL). Target: ≥ 50,000
transfers/s.

Reference, measured in the same run: the database's own floor for the same work — the same
rows (one ``postings`` row and two ``entries`` rows per transfer, prepared before the clock
starts) written into the same tables with their indexes and foreign keys, by ``COPY`` on
PostgreSQL and ``executemany`` on SQLite, inside one transaction that locks the accounts and
updates their balances, with a durable commit (and an idempotency key per posting for the
keyed rows). No ledger code runs in it. Its batches alternate with the ledger's, one for one,
on its own database, so both see the same load on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from decimal import Decimal

from bench.common import append_results, create_db, median, start_postgres, table

_POSTING_COLUMNS = "id, kind, trade_no, idempotency_key, request_hash, created_at"
_ENTRY_COLUMNS = (
    "posting_id, account_id, type, amount, balance_after, trade_no, trade_time, "
    "recorded_at, category_id, subject_id, counterparty, description, remark, source"
)

ACCOUNTS = 100


def run(url: str, floor_url: str, batch: int, seconds: float, keyed: bool) -> dict:
    """``transfer_many`` for ``seconds`` of measured time, alternating batch by batch with the
    raw floor (on its own database), so that both see the same load on a shared machine."""
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
    done, times, floor_times = 0, [], []
    with Floor(floor_url, batch, keyed) as floor:
        while sum(times) < seconds:
            specs = []
            for _ in range(batch):
                a, b = rng.sample(numbers, 2)
                serial += 1
                spec = (a, b, Decimal(rng.randint(1, 10000)) / 100)
                specs.append((*spec, f"bk-{batch}-{serial}") if keyed else spec)
            t0 = time.perf_counter()
            ledger.transfer_many(specs)
            times.append(time.perf_counter() - t0)
            floor_times.append(floor.step())
            done += batch
    report = ledger.verify()
    assert report.ok, report.problems
    ledger.engine.dispose()
    return {
        "tps": done / sum(times),
        "batch_ms": median(times) * 1000,
        "floor_tps": done / sum(floor_times),
    }


def _copy_text(rows) -> bytes:
    return "".join(
        "\t".join("\\N" if v is None else str(v) for v in row) + "\n" for row in rows
    ).encode()


class Floor:
    """The raw database work of a batch (see the module doc), on its own database: the rows
    are prepared before the clock starts; :meth:`step` returns the seconds one batch took."""

    def __init__(self, url: str, batch: int, keyed: bool) -> None:
        from zhangben.core.ledger import Ledger
        from zhangben.store.migrate import upgrade

        self.ledger = Ledger.from_url(url)
        upgrade(self.ledger.engine)
        prefix = f"F{batch}{'k' if keyed else ''}-"
        for i in range(ACCOUNTS):
            self.ledger.open_account(number=f"{prefix}{i:03d}", name="floor")
        self.ids = [a.id for a in self.ledger.accounts() if a.number.startswith(prefix)]
        self.pg = self.ledger.engine.dialect.name == "postgresql"
        self.balances = dict.fromkeys(self.ids, 10**12)
        self.rng = random.Random(batch)
        self.batch, self.keyed = batch, keyed

    def __enter__(self) -> Floor:
        self.sa_conn = self.ledger.engine.connect()
        self.raw = self.sa_conn.connection.driver_connection
        self.cur = self.raw.cursor()
        self.top = self.cur.execute("SELECT coalesce(max(id), 0) FROM postings").fetchone()[0]
        if self.pg:
            self.raw.commit()
        return self

    def __exit__(self, *exc) -> None:
        self.sa_conn.close()
        self.ledger.engine.dispose()

    def _rows(self, stamp: str) -> tuple[list, list]:
        """The rows a batch of transfers writes (as ``transfer_many`` writes them)."""
        posting_rows, entry_rows = [], []
        balances, rng = self.balances, self.rng
        for k in range(self.batch):
            a, b = rng.sample(self.ids, 2)
            minor = rng.randint(1, 10000) * 100
            balances[a] -= minor
            balances[b] += minor
            pid, trade_no = self.top + 1 + k, f"20261125{rng.randrange(10**8):08d}"
            key = f"fk-{self.batch}-{pid}" if self.keyed else None
            posting_rows.append((pid, "transfer", trade_no, key, "0" * 64, stamp))
            text = f"帐户系统转账到账户内建商户上,转出金额为{minor // 10000}元"
            entry_rows.append(
                (pid, a, "transfer_out", -minor, balances[a], trade_no, stamp, stamp, 24, 25,
                 f"T{b}", text, "", "internal")
            )  # fmt: skip
            entry_rows.append(
                (pid, b, "transfer_in", minor, balances[b], trade_no, stamp, stamp, 24, 26,
                 f"T{a}", text, "", "internal")
            )  # fmt: skip
        self.top += self.batch
        return posting_rows, entry_rows

    def step(self) -> float:
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        stamp = now.isoformat() if self.pg else now.strftime("%Y-%m-%d %H:%M:%S.%f")
        posting_rows, entry_rows = self._rows(stamp)
        cur, ids, balances = self.cur, self.ids, self.balances
        if self.pg:
            posting_text, entry_text = _copy_text(posting_rows), _copy_text(entry_rows)
            t0 = time.perf_counter()
            cur.execute(
                "SELECT id FROM accounts WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (ids,)
            ).fetchall()
            with cur.copy(f"COPY postings ({_POSTING_COLUMNS}) FROM STDIN") as copy:
                copy.write(posting_text)
            with cur.copy(f"COPY entries ({_ENTRY_COLUMNS}) FROM STDIN") as copy:
                copy.write(entry_text)
            cur.execute(
                "UPDATE accounts AS a SET balance = x.b FROM unnest(%s::integer[], "
                "%s::bigint[]) AS x(id, b) WHERE a.id = x.id",
                (list(balances), list(balances.values())),
            )
            self.raw.commit()
            return time.perf_counter() - t0
        t0 = time.perf_counter()
        cur.execute("BEGIN IMMEDIATE")
        marks = ", ".join("?" * len(ids))
        cur.execute(f"SELECT id FROM accounts WHERE id IN ({marks})", ids).fetchall()  # noqa: S608
        cur.executemany(
            f"INSERT INTO postings ({_POSTING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
            posting_rows,
        )
        cur.executemany(
            f"INSERT INTO entries ({_ENTRY_COLUMNS}) "  # noqa: S608
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            entry_rows,
        )
        cur.executemany(
            "UPDATE accounts SET balance = ? WHERE id = ?", [(b, a) for a, b in balances.items()]
        )
        cur.execute("COMMIT")
        return time.perf_counter() - t0


def _row(backend: str, batch: int, keyed: bool, r: dict) -> list:
    return [
        backend,
        batch,
        "yes" if keyed else "no",
        f"{r['tps']:,.0f}",
        f"{r['batch_ms']:.1f}",
        f"{r['floor_tps']:,.0f}",
        f"{r['tps'] / r['floor_tps']:.2f}×",
        f"{r['tps'] / 50000:.2f}×",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    rows = []
    server = start_postgres()
    try:
        url = create_db(server, "zb_batch").replace("postgresql://", "postgresql+psycopg://")
        floor_url = create_db(server, "zb_batch_floor")
        floor_url = floor_url.replace("postgresql://", "postgresql+psycopg://")
        for batch in (100, 1000):
            for keyed in (False, True):
                r = run(url, floor_url, batch, args.seconds, keyed)
                rows.append(_row("PostgreSQL", batch, keyed, r))
    finally:
        server.stop()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{os.path.join(tmp, 'batch.db')}"
        floor_url = f"sqlite:///{os.path.join(tmp, 'floor.db')}"
        for batch in (100, 1000):
            for keyed in (False, True):
                r = run(url, floor_url, batch, args.seconds, keyed)
                rows.append(_row("SQLite", batch, keyed, r))
    body = table(
        [
            "backend",
            "batch size",
            "idempotency key per transfer",
            "transfers/s",
            "median ms per batch",
            "raw database floor, transfers/s",
            "÷ floor",
            "÷ 50,000/s target",
        ],
        rows,
    )
    body += (
        "\n\nEach batch is one committed transaction (durable commit); the verifier is run "
        "after each configuration and is clean. The floor is the same rows written by raw "
        "`COPY` (PostgreSQL) / `executemany` (SQLite) into the same tables, with the account "
        "lock, the balance update and a durable commit, and no ledger code, on its own database; "
        "its batches alternate with the ledger's so both see the same load (bench/batch.py)."
    )
    append_results(
        "Batched postings (bench/batch.py)",
        f".venv/bin/python -m bench.batch --seconds {args.seconds:g}",
        body,
    )


if __name__ == "__main__":
    main()
