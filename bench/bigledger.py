"""Bulk-load a large ledger straight into PostgreSQL (not through the core) for read benchmarks.

1,000 accounts in 20 shops, N entries (default 10M) spread evenly over two years, alternating
income of 2.0000 and expense of 1.0000 so that every balance-after is exact and the verifier
stays clean. Secondary indexes are built after the load, then the tables are ANALYZEd.
With ``texts=True`` every entry also has a counterparty, an external id (a platform flow
number) and a description, as imported bill rows have (bench/exports.py).
"""

from __future__ import annotations

import time

import psycopg

ACCOUNTS, SHOPS = 1000, 20
START = "2023-01-01 00:00:00+08"
SPAN_SECONDS = 2 * 365 * 86400

_DEFERRED_INDEXES = [
    "ix_entries_account_id_id",
    "ix_entries_account_id_trade_time",
    "ix_entries_trade_time",
    "ix_entries_posting_id",
    "ix_postings_trade_no",
    "ix_entries_external_id",
    "ix_entries_counterparty",
]


def load(dsn: str, entries: int, log=print, *, texts: bool = False) -> None:
    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        saved = {
            name: conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = %s", (name,)
            ).fetchone()[0]
            for name in _DEFERRED_INDEXES
        }
        for name in saved:
            conn.execute(f"DROP INDEX {name}")
        constraints = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'entries'::regclass AND contype IN ('f', 'u')"
        ).fetchall()
        for name, _ in constraints:
            conn.execute(f"ALTER TABLE entries DROP CONSTRAINT {name}")
        conn.execute(
            "INSERT INTO accounts (id, number, name, type, currency, shop_code, status, "
            "allow_overdraft, balance, created_at) "
            "SELECT a, lpad(a::text, 16, '0'), '账户 ' || a, 'main', 'CNY', "
            f"'S' || lpad((1 + (a - 1) % {SHOPS})::text, 3, '0'), 'open', false, 0, now() "
            f"FROM generate_series(1, {ACCOUNTS}) a"
        )
        conn.execute("SELECT setval(pg_get_serial_sequence('accounts', 'id'), %s)", (ACCOUNTS,))
        step = SPAN_SECONDS / entries
        conn.execute(
            "INSERT INTO postings (id, kind, trade_no, created_at) "
            f"SELECT g, CASE WHEN (g / {ACCOUNTS}) % 2 = 0 THEN 'income' ELSE 'expense' END, "
            f"'B' || g, timestamptz '{START}' + g * interval '{step} seconds' "
            f"FROM generate_series(0, {entries - 1}) g"
        )
        log(f"  postings loaded ({time.perf_counter() - t0:.0f} s)")
        # entry g: account 1 + g % ACCOUNTS, k-th (1-based) entry of that account k = g / A + 1;
        # odd k: +2.0000, even k: -1.0000, so balance after k = ceil(k/2)*2 - floor(k/2)
        if texts:
            extra = (
                ", counterparty, external_id",
                ", 'buyer' || (g % 997) || '@example.com', '2023' || lpad(g::text, 16, '0')",
                "'订单 ' || g",
            )
        else:
            extra = ("", "", "''")
        conn.execute(
            "INSERT INTO entries (id, posting_id, account_id, type, amount, balance_after, "
            "trade_no, trade_time, recorded_at, category_id, subject_id, description, remark, "
            f"source{extra[0]}) "
            f"SELECT g + 1, g, 1 + g % {ACCOUNTS}, "
            f"CASE WHEN k % 2 = 1 THEN 'income' ELSE 'expense' END, "
            f"CASE WHEN k % 2 = 1 THEN 20000 ELSE -10000 END, "
            f"((k + 1) / 2) * 20000 - (k / 2) * 10000, 'B' || g, "
            f"timestamptz '{START}' + g * interval '{step} seconds', now(), "
            f"CASE WHEN k % 2 = 1 THEN 1 ELSE 4 END, CASE WHEN k % 2 = 1 THEN 2 ELSE 5 END, "
            f"{extra[2]}, CASE WHEN k % 2 = 1 THEN '销售收款' ELSE '采购付款' END, "
            f"'manual'{extra[1]} "
            f"FROM (SELECT g, g / {ACCOUNTS} + 1 AS k FROM generate_series(0, {entries - 1}) g) s"
        )
        log(f"  entries loaded ({time.perf_counter() - t0:.0f} s)")
        conn.execute("SELECT setval(pg_get_serial_sequence('postings', 'id'), %s)", (entries,))
        conn.execute("SELECT setval(pg_get_serial_sequence('entries', 'id'), %s)", (entries + 1,))
        conn.execute(
            "UPDATE accounts SET balance = s.total FROM (SELECT account_id, sum(amount) AS total "
            "FROM entries GROUP BY account_id) s WHERE accounts.id = s.account_id"
        )
        for sql in saved.values():
            conn.execute(sql)
        for name, definition in constraints:
            conn.execute(f"ALTER TABLE entries ADD CONSTRAINT {name} {definition}")
        log(f"  indexes built ({time.perf_counter() - t0:.0f} s)")
        conn.execute("VACUUM ANALYZE")
        log(f"  analyzed ({time.perf_counter() - t0:.0f} s)")
