"""Vouchers (issue 18): a month of N flows aggregated per day and type into vouchers and
written as the 金蝶云星空 workbook, beside a plain ``GROUP BY`` of the same flows into the same
groups, in the same run; peak memory per size (each size in a process of its own).

    .venv/bin/python -m bench.vouchers [--flows 100000 1000000] [--backend sqlite postgresql]

The month (March 2024) is bulk-loaded straight into the tables, not through the core: 4 Alipay
accounts of one shop, N entries spread evenly over the month, alternating income of 2.0000
(subject 平台收入) and expense of 1.0000 (平台支出), so that the default rules take every flow
(平台收入 → 借 1012.01 贷 1122.01; 平台支出待查 → 借 1221.99 贷 1012.01). Then, timed:
``Vouchers.generate`` (the flows streamed, classified, aggregated, checked, the batch and one
``voucher_sources`` row per flow written) and ``Vouchers.export`` (the batch read back and the
workbook written), and the plain statement grouping the same flows by account, day and subject.
PostgreSQL is a throwaway durable cluster; SQLite a file under ``$TMPDIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bench.common import append_results, create_db, start_postgres, table
from zhangben.core.ledger import Ledger
from zhangben.store.engine import make_engine
from zhangben.store.migrate import upgrade
from zhangben.vouchers.service import Vouchers

TZ = ZoneInfo("Asia/Shanghai")
ACCOUNTS = 4
START_UTC = "2024-02-29 16:00:00"  # 2024-03-01 00:00 in Asia/Shanghai
SPAN = 31 * 86400 - 60

PLAIN = {
    "postgresql": (
        "SELECT account_id, (trade_time AT TIME ZONE 'Asia/Shanghai')::date AS day, subject_id, "
        "sum(amount), count(*) FROM entries WHERE trade_time >= :a AND trade_time < :b "
        "GROUP BY 1, 2, 3"
    ),
    "sqlite": (
        "SELECT account_id, date(trade_time, '+8 hours') AS day, subject_id, sum(amount), "
        "count(*) FROM entries WHERE trade_time >= :a AND trade_time < :b GROUP BY 1, 2, 3"
    ),
}


def load(engine: sa.Engine, n: int) -> None:
    """N flows of March 2024 in ACCOUNTS alipay accounts of shop S1, set-based."""
    pg = engine.dialect.name == "postgresql"
    series = (
        f"generate_series(1, {n}) AS g(x)"
        if pg
        else f"(WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {n}) "
        "SELECT x FROM s) AS g"
    )
    when = (
        f"timestamptz '{START_UTC}+00' + (x::bigint * {SPAN} / {n}) * interval '1 second'"
        if pg
        else f"datetime('{START_UTC}', '+' || (x * {SPAN} / {n}) || ' seconds')"
    )
    now = "now()" if pg else "datetime('now')"
    with engine.begin() as conn:
        for a in range(1, ACCOUNTS + 1):
            conn.execute(sa.text(
                "INSERT INTO accounts (id, number, name, type, currency, shop_code, status, "
                f"allow_overdraft, balance, created_at) VALUES ({a}, 'ALI{a}', '支付宝 {a}', "
                f"'alipay', 'CNY', 'S1', 'open', true, 0, {now})"))  # fmt: skip
        conn.execute(sa.text(
            f"INSERT INTO postings (id, kind, trade_no, created_at) SELECT x, CASE WHEN x % 2 = 0 "
            f"THEN 'expense' ELSE 'income' END, 'V' || x, {now} FROM {series}"))  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO entries (id, posting_id, account_id, type, amount, balance_after, "
            "trade_no, trade_time, recorded_at, category_id, subject_id, source) "
            f"SELECT x, x, 1 + x % {ACCOUNTS}, CASE WHEN x % 2 = 0 THEN 'expense' ELSE 'income' "
            "END, CASE WHEN x % 2 = 0 THEN -10000 ELSE 20000 END, 0, 'V' || x, "
            f"{when}, {now}, 19, CASE WHEN x % 2 = 0 THEN 21 ELSE 20 END, 'bench' FROM {series}"
        ))  # fmt: skip
        if pg:
            conn.execute(sa.text("ANALYZE entries"))
            conn.execute(sa.text("ANALYZE accounts"))


def one(url: str, n: int) -> dict:
    """In this process: load, then time generation, export and the plain GROUP BY."""
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    load(engine, n)
    loaded = time.perf_counter() - t0
    service = Vouchers(Ledger(engine, TZ))
    service.add_book("星空", product="k3cloud_xlsx", shop="S1", book_code="001")
    t0 = time.perf_counter()
    made = service.generate("星空", "2024-03", actor="bench")
    generated = time.perf_counter() - t0
    t0 = time.perf_counter()
    file = service.export(made.batch.id)
    exported = time.perf_counter() - t0
    from datetime import UTC, datetime

    bounds = {
        "a": datetime(2024, 2, 29, 16, tzinfo=UTC),
        "b": datetime(2024, 3, 31, 16, tzinfo=UTC),
    }
    t0 = time.perf_counter()
    with engine.connect() as conn:
        groups = conn.execute(sa.text(PLAIN[engine.dialect.name]), bounds).all()
    plain = time.perf_counter() - t0
    assert made.batch.flows == n and len(made.vouchers) == len(groups)
    assert all(v.debit_total == v.credit_total for v in made.vouchers)
    engine.dispose()
    return {"flows": n, "vouchers": len(made.vouchers), "load_s": loaded,
            "generate_s": generated, "export_s": exported, "plain_s": plain,
            "file_bytes": len(file.content),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--backend", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--one", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return
    server = start_postgres() if "postgresql" in args.backend else None
    rows = []
    try:
        for backend in args.backend:
            for n in args.flows:
                if backend == "postgresql":
                    url = create_db(server, f"vouchers_{n}")
                    url = url.replace("postgresql://", "postgresql+psycopg://")
                else:
                    path = os.path.join(tempfile.mkdtemp(), "v.sqlite3")
                    url = f"sqlite:///{path}"
                done = subprocess.run([sys.executable, "-m", "bench.vouchers", "--one", url,
                                       str(n)], capture_output=True, text=True)  # fmt: skip
                if done.returncode:
                    raise SystemExit(f"{backend} {n}: {done.stderr[-3000:]}")
                r = json.loads(done.stdout.strip().splitlines()[-1])
                print(backend, r, flush=True)
                rows.append([backend, f"{n:,}", str(r["vouchers"]), f"{r['generate_s']:.1f}",
                             f"{r['export_s']:.2f}", f"{r['generate_s'] + r['export_s']:.1f}",
                             f"{r['plain_s']:.2f}", f"{r['maxrss_mb']:.0f}"])  # fmt: skip
    finally:
        if server is not None:
            server.stop()
    body = table(["database", "flows", "vouchers", "generate s", "export s", "total s",
                  "plain GROUP BY s", "peak RSS MB"], rows)  # fmt: skip
    append_results("Vouchers (bench/vouchers.py), issue 18",
                   "python -m bench.vouchers " + " ".join(sys.argv[1:]), body)  # fmt: skip


if __name__ == "__main__":
    main()
