"""Benchmark 6: reports (日报/月结) on a large ledger, each beside a plain GROUP BY over the
entries computing the same figures, in the same run.

    .venv/bin/python -m bench.reports [--entries 10000000] [--repeat 100] [--plain-repeat 5]

``bench/bigledger.py`` (the ledger of ``bench.queries``: 1,000 accounts in 20 shops, N entries
over 2023-2024) is bulk-loaded into a durable PostgreSQL, then folded into the daily and
monthly summaries by ``Ledger.refresh_summaries(rebuild=True)`` — what ``zhangben summaries
rebuild`` does; timed — and the summary tables VACUUM ANALYZEd as autovacuum would. Each
report is then timed through the core (``Ledger.report`` / ``Ledger.balances_as_of``: what
the CLI, the REST API and the SDK call; p50 / p99 over ``--repeat`` calls with random shops
and months after a warm-up) and as one plain statement over ``entries`` grouping the same
figures (opening = every entry before the range; ``--plain-repeat`` calls). The first calls
of every figure are checked equal, number for number.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from bench import bigledger
from bench.common import append_results, create_db, median, pct, start_postgres, table
from bench.http import ZHANGBEN

TZ = ZoneInfo("Asia/Shanghai")
MONTHS = [date(2023 + m // 12, 1 + m % 12, 1) for m in range(24)]
WARMUP = 5
CHECKED = 3  # calls of each figure whose core and plain answers are compared


def month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def instant(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TZ)


def shop(s: int) -> str:
    return f"S{s:03d}"


def timed(op, picks, warm: int = WARMUP) -> tuple[float, float, list]:
    for args in picks[:warm]:
        op(*args)
    lat, answers = [], []
    for args in picks[warm:]:
        t0 = time.perf_counter()
        answers.append(op(*args))
        lat.append((time.perf_counter() - t0) * 1000)
    return median(lat), pct(lat, 0.99), answers


class Plain:
    """The same figures from ``entries`` alone: one statement per report (flows by the
    report's groups in the range, and the balances before it), assembled like the core's."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True)

    def report(self, start: date, end: date, by: str, shops: list[str] | None):
        period = {
            "day": "(e.trade_time AT TIME ZONE 'Asia/Shanghai')::date",
            "month": "date_trunc('month', e.trade_time AT TIME ZONE 'Asia/Shanghai')::date",
            "account": "a.number",
        }[by]
        where = "AND a.shop_code = ANY(%(shops)s)" if shops else ""
        opening_key = "a.number" if by == "account" else "NULL::text"
        sql = f"""
            SELECT 'f', {period}::text, a.currency, count(*),
                   sum(CASE WHEN e.amount > 0 THEN e.amount ELSE 0 END),
                   sum(CASE WHEN e.amount < 0 THEN -e.amount ELSE 0 END)
            FROM entries e JOIN accounts a ON a.id = e.account_id
            WHERE e.trade_time >= %(start)s AND e.trade_time < %(end)s {where}
            GROUP BY 2, 3
            UNION ALL
            SELECT 'o', {opening_key}, a.currency, 0, sum(e.amount), 0
            FROM entries e JOIN accounts a ON a.id = e.account_id
            WHERE e.trade_time < %(start)s {where}
            GROUP BY 2, 3
        """  # noqa: S608 - fixed texts
        params = {"start": instant(start), "end": instant(end + timedelta(days=1)),
                  "shops": shops}  # fmt: skip
        return self.conn.execute(sql, params).fetchall()

    def balances(self, day: date):
        return self.conn.execute(
            "SELECT a.number, coalesce(sum(e.amount), 0) FROM accounts a "
            "LEFT JOIN entries e ON e.account_id = a.id AND e.trade_time < %s "
            "GROUP BY a.number",
            (instant(day + timedelta(days=1)),),
        ).fetchall()


def assemble(rows, by: str) -> dict:
    """Plain rows → {group: (opening, income, expense, closing, entries)} in minor units."""
    opening = defaultdict(int)
    flows = {}
    for part, key, _currency, n, income, expense in rows:
        if part == "o":
            opening[key] += int(income)
        else:
            flows[key] = (int(n), int(income), int(expense))
    out = {}
    if by == "account":
        for key in set(flows) | {k for k, v in opening.items() if v}:
            n, income, expense = flows.get(key, (0, 0, 0))
            base = opening[key]
            out[key] = (base, income, expense, base + income - expense, n)
        return out
    running = sum(opening.values())
    for key in sorted(flows):
        n, income, expense = flows[key]
        out[key] = (running, income, expense, running + income - expense, n)
        running += income - expense
    return out


def core_figures(report, by: str) -> dict:
    def minor(x):
        return int(x * 10000)

    out = {}
    for r in report.rows:
        key = r.day.isoformat() if by == "day" else f"{r.month}-01" if by == "month" else r.account
        if r.entries or by == "account":
            out[key] = (minor(r.opening), minor(r.income), minor(r.expense), minor(r.closing),
                        r.entries)  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--plain-repeat", type=int, default=5)
    parser.add_argument("--print-only", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    server = start_postgres()
    try:
        dsn = create_db(server, "zb_reports")
        url = dsn.replace("postgresql://", "postgresql+psycopg://")
        env = {**os.environ, "ZHANGBEN_DATABASE_URL": url}
        subprocess.run([ZHANGBEN, "db", "upgrade"], env=env, check=True, capture_output=True)
        t0 = time.perf_counter()
        print(f"loading {args.entries:,} entries …", flush=True)
        bigledger.load(dsn, args.entries)
        load_s = time.perf_counter() - t0
        from zhangben.core.ledger import Ledger

        ledger = Ledger.from_url(url)
        t0 = time.perf_counter()
        status = ledger.refresh_summaries(rebuild=True)
        rebuild_s = time.perf_counter() - t0
        print(f"summaries rebuilt in {rebuild_s:.0f} s ({status.folded:,} entries)", flush=True)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE daily_summaries")
            conn.execute("VACUUM ANALYZE monthly_summaries")
            sizes = conn.execute(
                "SELECT (SELECT count(*) FROM daily_summaries), "
                "(SELECT count(*) FROM monthly_summaries)"
            ).fetchone()
        rows, notes = run_all(ledger, Plain(dsn), args)
    finally:
        server.stop()
    body = (
        f"{args.entries:,} entries over 2 years, 1,000 accounts in 20 shops (bulk load "
        f"{load_s:.0f} s), durable PostgreSQL; summaries rebuilt from the entries in "
        f"{rebuild_s:.0f} s ({sizes[0]:,} daily rows, {sizes[1]:,} monthly rows). p50 / p99 in "
        f"ms, core over {args.repeat} calls with random shops and months, plain GROUP BY over "
        f"{args.plain_repeat} calls, one client, after a warm-up. Targets: one shop's month "
        "p50 ≤ 50 ms, a 24-month report ≤ 200 ms.\n\n"
        + table(
            [
                "report",
                "core (summaries)",
                "plain GROUP BY over entries",
                "plain ÷ core",
                "target",
                "met?",
            ],
            rows,
        )  # fmt: skip
        + ("\n\n" + "\n".join(f"* {x}" for x in notes) if notes else "")
    )
    if args.print_only:
        print(body)
        return
    append_results(
        "Benchmark 6: reports on a large ledger (bench/reports.py)",
        f".venv/bin/python -m bench.reports --entries {args.entries} --repeat {args.repeat}",
        body,
    )


def run_all(ledger, plain: Plain, args) -> tuple[list, list]:
    rng = random.Random(15)
    rows, notes = [], []
    n, m = args.repeat + WARMUP, args.plain_repeat + 1

    def add(label, by, core_op, plain_op, picks, target=None):
        core = timed(core_op, picks[:n])
        flat = timed(plain_op, picks[:m], warm=1)
        for args in picks[:CHECKED]:
            got, expected = core_op(*args), plain_op(*args)
            if by is None:
                assert got == expected, label
            else:
                assert core_figures(got, by) == assemble(expected, by), label
        met = "—" if target is None else ("yes" if core[0] <= target else "no")
        goal = f"≤ {target} ms" if target else "—"
        rows.append([label, f"{core[0]:.1f} / {core[1]:.1f}", f"{flat[0]:.1f} / {flat[1]:.1f}",
                     f"{flat[0] / core[0]:.0f}×", goal, met])  # fmt: skip
        print(rows[-1], flush=True)

    months = [(rng.choice(MONTHS), shop(rng.randint(1, bigledger.SHOPS))) for _ in range(n)]
    add(
        "one shop's month, by day (日报: 28-31 rows)",
        "day",
        lambda mo, s: ledger.report(mo, month_end(mo), ("day",), shop_codes=[s]),
        lambda mo, s: plain.report(mo, month_end(mo), "day", [s]),
        months,
        50,
    )
    add(
        "one shop's month, by account (月结: 50 rows)",
        "account",
        lambda mo, s: ledger.report(mo, month_end(mo), ("account",), shop_codes=[s]),
        lambda mo, s: plain.report(mo, month_end(mo), "account", [s]),
        months,
        50,
    )
    span = (MONTHS[0], month_end(MONTHS[-1]))
    add(
        "24 months, whole ledger, by month (24 rows)",
        "month",
        lambda: ledger.report(*span, ("month",)),
        lambda: plain.report(*span, "month", None),
        [()] * n,
        200,
    )
    shops = [(shop(rng.randint(1, bigledger.SHOPS)),) for _ in range(n)]
    add(
        "24 months, one shop, by day (731 rows)",
        "day",
        lambda s: ledger.report(*span, ("day",), shop_codes=[s]),
        lambda s: plain.report(*span, "day", [s]),
        shops,
        200,
    )
    days = [(MONTHS[0] + timedelta(days=rng.randrange(730)),) for _ in range(n)]
    add(
        "balances of all 1,000 accounts as of a day",
        None,
        lambda d: sorted((a.number, int(b * 10000)) for a, b in ledger.balances_as_of(d)),
        lambda d: sorted((k, int(v)) for k, v in plain.balances(d)),
        days,
    )
    notes.append(
        f"Correctness: the first {CHECKED} calls of every figure gave the same numbers through "
        "the core as by the plain GROUP BY (opening, income, expense, closing, entries)."
    )
    return rows, notes


if __name__ == "__main__":
    main()
