"""Benchmark: the finance console's pages on the benchmark ledger, beside the REST API's
figure for the same data, in the same run.

    .venv/bin/python -m bench.console [--entries 200000] [--big 1000000] [--repeat 60]

``bench/bigledger.py`` (the ledger of ``bench.queries`` and ``bench.reports``: 1,000 accounts
in 20 shops, N entries over 2023-2024) is bulk-loaded into a durable PostgreSQL, plus one more
account with ``--big`` entries of its own (the same alternating income and expense); the
summaries are rebuilt as ``bench.reports`` does. Each page is then asked for through the
whole app in this process (FastAPI's TestClient: the app's own time, no network and no
server process; the same for both surfaces), logged in as an admin (console cookie, and the
same session as a REST bearer token), p50 / p99 over ``--repeat`` calls after a warm-up,
with random accounts where the page is an account's. The big account's flow is asked for at
several keyset depths (``?before=<entry id>``: the console's; ``cursor``: the REST API's).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import subprocess
import time

import psycopg
from fastapi.testclient import TestClient

from bench import bigledger
from bench.common import append_results, create_db, median, pct, start_postgres, table
from bench.http import ZHANGBEN

WARMUP = 5
PASSWORD = "bench-console-pass"
MONTH = "2024-06"
PAGE_TARGET, DEEP_TARGET = 50.0, 100.0


def load_big_account(dsn: str, entries: int) -> tuple[str, int, int]:
    """One more account (``BIG…``) with ``entries`` entries after the bulk load; returns its
    number and its first and last entry ids."""
    number = "BIG0000000000001"
    with psycopg.connect(dsn, autocommit=True) as conn:
        account_id = conn.execute(
            "INSERT INTO accounts (number, name, type, currency, shop_code, status, "
            "allow_overdraft, balance, created_at) VALUES (%s, '大账户', 'main', 'CNY', 'S001', "
            "'open', false, 0, now()) RETURNING id",
            (number,),
        ).fetchone()[0]
        base = conn.execute("SELECT coalesce(max(id), 0) FROM postings").fetchone()[0] + 1
        step = bigledger.SPAN_SECONDS / entries
        conn.execute(
            "INSERT INTO postings (id, kind, trade_no, created_at) "
            f"SELECT {base} + g, CASE WHEN g % 2 = 0 THEN 'income' ELSE 'expense' END, "
            f"'BIG' || g, timestamptz '{bigledger.START}' + g * interval '{step} seconds' "
            f"FROM generate_series(0, {entries - 1}) g"
        )
        first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM entries").fetchone()[0]
        # k-th entry (1-based): odd +2.0000, even -1.0000, as in bigledger
        conn.execute(
            "INSERT INTO entries (id, posting_id, account_id, type, amount, balance_after, "
            "trade_no, trade_time, recorded_at, category_id, subject_id, description, remark, "
            "source) "
            f"SELECT {first} + g, {base} + g, {account_id}, "
            "CASE WHEN k % 2 = 1 THEN 'income' ELSE 'expense' END, "
            "CASE WHEN k % 2 = 1 THEN 20000 ELSE -10000 END, "
            "((k + 1) / 2) * 20000 - (k / 2) * 10000, 'BIG' || g, "
            f"timestamptz '{bigledger.START}' + g * interval '{step} seconds', now(), "
            "CASE WHEN k % 2 = 1 THEN 1 ELSE 4 END, CASE WHEN k % 2 = 1 THEN 2 ELSE 5 END, "
            "'', CASE WHEN k % 2 = 1 THEN '销售收款' ELSE '采购付款' END, 'manual' "
            f"FROM (SELECT g, g::bigint + 1 AS k FROM generate_series(0, {entries - 1}) g) s"
        )
        last = first + entries - 1
        for table_name in ("postings", "entries"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "
                f"(SELECT max(id) FROM {table_name}))"
            )
        conn.execute(
            "UPDATE accounts SET balance = (SELECT sum(amount) FROM entries "
            "WHERE account_id = %s) WHERE id = %s",
            (account_id, account_id),
        )
        conn.execute("VACUUM ANALYZE")
    return number, first, last


def timed(client: TestClient, urls: list[str], headers: dict | None = None):
    """p50 and p99 in ms of GETs of ``urls`` (each must answer 200), after a warm-up."""
    for url in urls[:WARMUP]:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
    lat = []
    for url in urls[WARMUP:]:
        t0 = time.perf_counter()
        answer = client.get(url, headers=headers)
        lat.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)
    return median(lat), pct(lat, 0.99)


def cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(str(entry_id).encode()).decode().rstrip("=")


def run(url: str, args, big: tuple[str, int, int]) -> list[list[str]]:
    from tests.console.support import login
    from zhangben.access.service import Access
    from zhangben.app import create_app
    from zhangben.core.ledger import Ledger
    from zhangben.settings import Settings

    ledger = Ledger.from_url(url)
    Access(ledger).add_user(username="bench", role="admin", password=PASSWORD)
    rnd = random.Random(7)
    n = args.repeat + WARMUP
    numbers = [f"{rnd.randint(1, bigledger.ACCOUNTS):016d}" for _ in range(n)]
    rows = []
    with TestClient(create_app(Settings(database_url=url), ledger)) as client:
        assert login(client, "bench", PASSWORD).status_code == 303
        bearer = {"Authorization": f"Bearer {client.cookies['zb_console']}"}

        def row(label, console_urls, rest_urls=None, target=PAGE_TARGET):
            page = timed(client, console_urls)
            rest = timed(client, rest_urls, bearer) if rest_urls else None
            ratio = f"{page[0] / rest[0]:.1f}×" if rest else "—"
            figures = f"{rest[0]:.1f} / {rest[1]:.1f}" if rest else "—"
            met = "yes" if page[0] <= target else "no"
            rows.append(
                [label, f"{page[0]:.1f} / {page[1]:.1f}", figures, ratio, f"≤ {target:.0f}", met]
            )
            print(rows[-1], flush=True)

        same = [None] * n
        row("总览 `/console/`", ["/console/" for _ in same], ["/api/v1/accounts"] * n)
        row("总览 chart `/console/overview/daily.json`", ["/console/overview/daily.json"] * n)
        row("账户 `/console/accounts`", ["/console/accounts"] * n, ["/api/v1/accounts"] * n)
        row(
            "an account's flow, page 1",
            [f"/console/accounts/{a}" for a in numbers],
            [f"/api/v1/entries?account={a}&limit=50" for a in numbers],
        )
        row(
            "an account's flow, type=income",
            [f"/console/accounts/{a}?type=income" for a in numbers],
            [f"/api/v1/entries?account={a}&type=income&limit=50" for a in numbers],
        )
        row(
            "报表 `/console/reports` (a month by day)",
            [f"/console/reports?month={MONTH}&by=day"] * n,
            [f"/api/v1/reports/daily?month={MONTH}"] * n,
        )
        row(
            "报表 chart `/console/reports/chart.json`",
            [f"/console/reports/chart.json?month={MONTH}&by=day"] * n,
            [f"/api/v1/reports/daily?month={MONTH}"] * n,
        )
        row(
            "报表 by month (12 months)",
            [f"/console/reports?month={MONTH}&by=month"] * n,
            ["/api/v1/reports/monthly?from=2023-07-01&to=2024-06-30"] * n,
        )
        row("账期 `/console/periods`", [f"/console/periods?month={MONTH}"] * n)
        few = WARMUP + max(5, args.repeat // 6)  # the checks read the whole month: slow
        row(
            "账期 close checklist (`?check=1`: the checks)",
            [f"/console/periods?month={MONTH}&check=1"] * few,
            [f"/api/v1/periods/{MONTH}/checks"] * few,
        )
        row("导入 `/console/imports`", ["/console/imports"] * n)
        row("设置 `/console/settings`", ["/console/settings"] * n)
        number, first, last = big
        for share in (0.0, 0.1, 0.5, 0.99):
            before = last + 1 - int((last - first + 1) * share)
            depth = "page 1" if share == 0 else f"keyset at {share:.0%} depth"
            console_urls = [f"/console/accounts/{number}" + (f"?before={before}" if share else "")]
            rest_urls = [
                f"/api/v1/entries?account={number}&limit=50"
                + (f"&cursor={cursor(before)}" if share else "")
            ]
            row(
                f"{args.big:,}-entry account's flow, {depth}",
                console_urls * n,
                rest_urls * n,
                DEEP_TARGET,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--print-only", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    server = start_postgres()
    try:
        dsn = create_db(server, "zb_console")
        url = dsn.replace("postgresql://", "postgresql+psycopg://")
        env = {**os.environ, "ZHANGBEN_DATABASE_URL": url}
        subprocess.run([ZHANGBEN, "db", "upgrade"], env=env, check=True, capture_output=True)
        t0 = time.perf_counter()
        print(f"loading {args.entries:,} entries …", flush=True)
        bigledger.load(dsn, args.entries)
        print(f"loading the {args.big:,}-entry account …", flush=True)
        big = load_big_account(dsn, args.big)
        from zhangben.core.ledger import Ledger

        Ledger.from_url(url).refresh_summaries(rebuild=True)
        print(f"loaded and summarized in {time.perf_counter() - t0:.0f} s", flush=True)
        load_avg = os.getloadavg()
        rows = run(url, args, big)
        load_after = os.getloadavg()
    finally:
        server.stop()
    body = (
        f"{args.entries:,} entries over 2 years for 1,000 accounts in 20 shops (bench/bigledger.py)"
        f" plus one account of {args.big:,} entries, durable PostgreSQL, summaries rebuilt. "
        "Each page through the whole app in one process (TestClient: the app's own time, "
        "no network), logged in as an admin; the REST API asked with the same session in the "
        f"same run. p50 / p99 in ms over {args.repeat} calls after a warm-up (random accounts "
        "for an account's flow). Load average (1 min) before / after: "
        f"{load_avg[0]:.1f} / {load_after[0]:.1f} — the machine is shared: compare the "
        "same-run ratios.\n\n"
        + table(
            ["page", "console p50 / p99", "REST API p50 / p99", "console ÷ REST", "target", "met?"],
            rows,
        )
    )
    if args.print_only:
        print(body)
        return
    append_results(
        "Benchmark: the finance console's pages (bench/console.py)",
        f".venv/bin/python -m bench.console --entries {args.entries} --big {args.big} "
        f"--repeat {args.repeat}",
        body,
    )


if __name__ == "__main__":
    main()
