"""Benchmark 4: queries on a large ledger, through the core, over HTTP and as direct SQL.

    .venv/bin/python -m bench.queries [--entries 10000000] [--repeat 300]

``bench/bigledger.py`` bulk-loads N entries over two years for 1,000 accounts in 20 shops into
a durable PostgreSQL; then, in the same run, each query is timed (p50/p99 over ``--repeat``
calls with random accounts/shops, after a warm-up) three ways:

* core: the Python call a surface makes (``Ledger``/core query functions);
* HTTP: one client on a keep-alive connection to ``zhangben serve --workers 2`` on the same
  database — ShopEx methods signed with the SDK (pre-signed outside the timing), the REST API
  with an API key, ``accountlog`` with a 壹川 staff session token;
* SQL: the statements the core issues (compiled from its own query builders), run directly
  with psycopg 3 on an autocommit connection.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import psycopg
from sqlalchemy.dialects import postgresql

from bench import bigledger
from bench.common import append_results, create_db, median, pct, start_postgres, table
from bench.http import ZHANGBEN, free_port, stop, wait_up

TZ = ZoneInfo("Asia/Shanghai")
SECRET_KEY = "bench-queries-secret-key"
PAGE_SIZE = 100  # finance.getTransactionList clamps page_size to 100
FLOW_LIMIT = 50  # page 1 of an account's flows (REST default)
ROW = 15  # accountlog's default row
START = datetime(2023, 1, 1, tzinfo=TZ)
DAYS = 730


def number(a: int) -> str:
    return f"{a:016d}"


def shop(s: int) -> str:
    return f"S{s:03d}"


WARMUP = 20


def timed(op, args_list) -> tuple[float, float]:
    """Warm up on the first WARMUP argument tuples, time the rest (signed requests are each
    used once, so the warm-up must not reuse the timed ones)."""
    for args in args_list[:WARMUP]:
        op(*args)
    lat = []
    for args in args_list[WARMUP:]:
        t0 = time.perf_counter()
        op(*args)
        lat.append((time.perf_counter() - t0) * 1000)
    return median(lat), pct(lat, 0.99)


def fmt(t: tuple[float, float] | None) -> str:
    return "—" if t is None else f"{t[0]:.2f} / {t[1]:.2f}"


class Sql:
    """The core's statements, compiled from its own query builders before the timing, run with
    psycopg on an autocommit connection (as the core does for a one-statement read)."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True)

    @staticmethod
    def compile(query, params: dict | None = None) -> tuple[str, dict]:
        if params:  # bind the values (expanding lists included), then compile
            query = query.params(**params)
        compiled = query.compile(
            dialect=postgresql.dialect(), compile_kwargs={"render_postcompile": True}
        )
        return str(compiled), compiled.params

    def entries(
        self, f, *, limit: int, offset: int = 0, before_id=None, with_total=True, order="id_desc"
    ):
        """The statement ``queries.list_entries`` runs (page and count in one)."""
        from zhangben.core.queries import list_statement

        statement, params = list_statement(f, limit, offset, before_id, with_total, order)
        return [self.compile(statement, params)]

    def run(self, *stmts: tuple[str, dict]) -> None:
        for text, params in stmts:
            self.conn.execute(text, params).fetchall()


def setup(url: str, env: dict) -> dict:
    def cli(*args: str) -> str:
        done = subprocess.run([ZHANGBEN, *args], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"zhangben {' '.join(args)}: {done.stdout}{done.stderr}")
        return done.stdout + done.stderr

    out = cli("app", "add", "bench-queries")
    flag = re.search(r"flag:\s+(\S+)", out).group(1)
    token = re.search(r"token:\s+(\S+)", out).group(1)
    out = cli("apikey", "add", "--integrator", flag, "--scope", "read")
    key = re.search(r"(zb_[0-9a-f]{12}_\S+)", out).group(1)
    cli("user", "add", "benchstaff", "--role", "staff", "--password", "bench-staff-pw")
    return {"flag": flag, "token": token, "key": key}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    n, rng = args.repeat + WARMUP, random.Random(4)
    server = start_postgres()
    proc = None
    try:
        dsn = create_db(server, "zb_big")
        url = dsn.replace("postgresql://", "postgresql+psycopg://")
        env = {**os.environ, "ZHANGBEN_DATABASE_URL": url, "ZHANGBEN_SECRET_KEY": SECRET_KEY}
        subprocess.run([ZHANGBEN, "db", "upgrade"], env=env, check=True, capture_output=True)
        t0 = time.perf_counter()
        print(f"loading {args.entries:,} entries …")
        bigledger.load(dsn, args.entries)
        load_s = time.perf_counter() - t0
        creds = setup(url, env)
        port = free_port()
        proc = subprocess.Popen(
            [ZHANGBEN, "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        wait_up(base, proc)
        rows, notes = run_all(url, dsn, base, creds, args.entries, n, rng)
    finally:
        if proc is not None:
            stop(proc)
        server.stop()
    body = (
        f"{args.entries:,} entries over 2 years, 1,000 accounts in 20 shops (bulk load "
        f"{load_s:.0f} s), durable PostgreSQL; p50 / p99 in ms over {args.repeat} calls each "
        "with random accounts/shops, one client, after a warm-up. HTTP: "
        "`zhangben serve --workers 2`, keep-alive. Targets: balance p50 ≤ 0.5 ms and flows "
        "page 1 p50 ≤ 2 ms through the core, ≤ 5 ms through signed HTTP, "
        "core ≤ 1.5× direct SQL; getTransactionList page 1,000 ≤ 3× page 1 "
        "(with its count); cursor depth 10,000 ≤ 1.2× depth 1.\n\n"
        + table(["query", "core", "HTTP", "direct SQL", "core / SQL", "notes"], rows)
        + ("\n\n" + "\n".join(f"* {x}" for x in notes) if notes else "")
    )
    append_results(
        "Benchmark 4: queries on a large ledger",
        f"python -m bench.queries --entries {args.entries}",
        body,
    )


def run_all(url, dsn, base, creds, entries, n, rng):  # noqa: PLR0915
    from zhangben.core.ledger import Ledger
    from zhangben.core.queries import EntryFilter
    from zhangben.sdk.shopex import build_request
    from zhangben.settings import Settings
    from zhangben.yichuan.http import accountlog_data

    ledger = Ledger.from_url(url)
    sql = Sql(dsn)
    http = httpx.Client(base_url=base, timeout=60)
    rpc = "/index.php/openapi/rpc/service/"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    rest = {"Authorization": f"Bearer {creds['key']}"}
    login = http.post("/v3/login", data={"username": "benchstaff", "password": "bench-staff-pw"})
    yc = {"Authorization": f"Bearer {login.json()['data']['token']}"}
    staff = ledger.user("benchstaff")
    settings = Settings(database_url=url)
    rows, notes = [], []

    def signed(method: str, params: dict) -> bytes:
        return build_request(creds["flag"], creds["token"], method, params)

    def call_signed(body: bytes) -> None:
        r = http.post(rpc, content=body, headers=form)
        assert r.status_code == 200 and r.content.startswith(b'{"code":0'), r.text[:300]

    def get(path: str, headers: dict) -> None:
        r = http.get(path, headers=headers)
        assert r.status_code == 200, r.text[:300]

    def accounts(k: int) -> list[int]:
        return [rng.randint(1, bigledger.ACCOUNTS) for _ in range(k)]

    def add(label, core, via_http, direct, note=""):
        ratio = f"{core[0] / direct[0]:.2f}×" if core and direct else "—"
        rows.append([label, fmt(core), fmt(via_http), fmt(direct), ratio, note])
        print(rows[-1], flush=True)

    # 1. a balance
    acc = accounts(n)
    add(
        "balance of one account",
        timed(lambda a: ledger.balance(number(a)), [(a,) for a in acc]),
        timed(
            call_signed,
            [(signed("finance.getAccountBalance", {"account_id": number(a)}),) for a in acc],
        ),
        timed(
            lambda a: sql.conn.execute(
                "SELECT * FROM accounts WHERE number = %s", (number(a),)
            ).fetchall(),
            [(a,) for a in acc],
        ),
        "HTTP: signed finance.getAccountBalance",
    )

    # 2. page 1 of one account's flows
    acc = accounts(n)
    add(
        f"flows of one account, page 1 ({FLOW_LIMIT}, newest first)",
        timed(
            lambda a: ledger.entries(
                EntryFilter(account_numbers=[number(a)]), limit=FLOW_LIMIT, with_total=False
            ),
            [(a,) for a in acc],
        ),
        timed(
            get, [(f"/api/v1/entries?account={number(a)}&limit={FLOW_LIMIT}", rest) for a in acc]
        ),
        timed(
            sql.run,
            [
                sql.entries(
                    EntryFilter(account_numbers=[number(a)]), limit=FLOW_LIMIT, with_total=False
                )
                for a in acc
            ],
        ),
        "HTTP: REST `GET /api/v1/entries?account=…&limit=50` (API key)",
    )

    # 3. finance.getTransactionList pages
    per_account = entries / bigledger.ACCOUNTS
    scopes = [
        ("one account over a month", 30, False, per_account * 30 / DAYS),
        ("one account over a year", 365, False, per_account * 365 / DAYS),
        ("one shop's accounts over a day", 1, True, entries / bigledger.SHOPS / DAYS),
    ]
    for label, days, by_shop, expected in scopes:
        pages_total = max(1, -(-int(expected) // PAGE_SIZE))
        for page in (1, 100, 1000):
            picks = []
            for _ in range(n):
                day = rng.randint(0, DAYS - days)
                start = START + timedelta(days=day)
                end = start + timedelta(days=days)
                who = shop(rng.randint(1, bigledger.SHOPS)) if by_shop else number(accounts(1)[0])
                picks.append((who, start, end))

            def filt(who, start, end, by_shop=by_shop):
                if by_shop:
                    return EntryFilter(shop_codes=[who], start=start, end=end)
                return EntryFilter(account_numbers=[who], start=start, end=end)

            def params(who, start, end, page=page, by_shop=by_shop):
                p = {
                    "start_time": start.strftime("%Y-%m-%d %H:%M:%S"),
                    "end_time": end.strftime("%Y-%m-%d %H:%M:%S"),
                    "page_no": page,
                    "page_size": PAGE_SIZE,
                }
                p["shop_bn" if by_shop else "account_id"] = who
                return p

            offset = (page - 1) * PAGE_SIZE
            note = f"≈{expected:,.0f} matches"
            if page > pages_total:
                note += f"; page {page} is past the end (≈{pages_total} pages)"
            add(
                f"getTransactionList, {label}, page {page:,} (+count)",
                timed(  # what the method runs: the page in time order, then its trans_ids
                    lambda *w, offset=offset: ledger.entry_references(
                        ledger.entries(
                            filt(*w), limit=PAGE_SIZE, offset=offset, order="time_asc"
                        ).items
                    ),
                    picks,
                ),
                timed(
                    call_signed,
                    [(signed("finance.getTransactionList", params(*w)),) for w in picks],
                ),
                timed(
                    sql.run,
                    [
                        sql.entries(filt(*w), limit=PAGE_SIZE, offset=offset, order="time_asc")
                        for w in picks
                    ],
                ),
                note,
            )

    # 4. REST cursor pages over the whole ledger, depth 1 and 10,000
    from zhangben.api.routes.entries import encode_cursor

    top = sql.conn.execute("SELECT max(id) FROM entries").fetchone()[0]
    depth = min(10_000, entries // 50 - 1)
    for d in (1, depth):
        before = None if d == 1 else top + 1 - 50 * (d - 1)
        path = "/api/v1/entries?limit=50" + (f"&cursor={encode_cursor(before)}" if before else "")
        add(
            f"REST cursor page at depth {d:,} (50 per page, whole ledger)",
            timed(
                lambda b=before: ledger.entries(
                    EntryFilter(), limit=50, before_id=b, with_total=False
                ),
                [()] * n,
            ),
            timed(get, [(path, rest)] * n),
            timed(
                sql.run,
                [sql.entries(EntryFilter(), limit=50, before_id=before, with_total=False)] * n,
            ),
            "cursor built from an id the way the API encodes it"
            + ("" if d == 1 or depth == 10_000 else f" (the ledger holds only {d + 1:,} pages)"),
        )

    # 5. 壹川 accountlog page 1 (staff, one account, row 15, with total_count)
    acc = accounts(n)
    ids = {a: ledger.account(number(a)).id for a in set(acc)}
    add(
        "壹川 accountlog page 1 (row 15, +total_count)",
        timed(
            lambda a: accountlog_data(ledger, settings, staff, {"account_id": number(a)}),
            [(a,) for a in acc],
        ),
        timed(get, [(f"/v3/accountlog?account_id={number(a)}", yc) for a in acc]),
        timed(
            sql.run,
            [
                [
                    ("SELECT * FROM accounts WHERE number = %(n)s", {"n": number(a)}),
                    *sql.entries(EntryFilter(account_ids=[ids[a]]), limit=ROW),
                ]
                for a in acc
            ],
        ),
        "HTTP: staff session token",
    )
    return rows, notes


if __name__ == "__main__":
    main()
