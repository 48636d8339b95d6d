"""Single postings before and after a change: two checkouts' cores, interleaved in rounds.

    .venv/bin/python -m bench.ab --before ../zhangben-old [--rounds 7] [--seconds 4]

``--before`` is another checkout of zhangben with its own ``.venv`` (``make install`` there).
On one durable PostgreSQL server, each checkout's migrations prepare their own database the
way ``bench.postings`` does (100 accounts, pre-filled, ANALYZEd) and the reference function
gets its own. Every round then runs, in a shuffled order, the reference, the old core and the
new core, with 1 and with 8 client processes started together; SQLite runs each checkout's
core and the raw-``sqlite3`` reference of the same round. Each figure is a ratio to the
reference *of the same round*, and the table gives the median over rounds with the range: on
a machine whose disk and CPUs are shared, runs a minute apart differ by more than a change
does, so only ratios taken side by side mean anything.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, append_results, create_db, start_postgres, table

#: runs in a checkout (cwd) with that checkout's interpreter: one client of one figure
_WORKER = """
import json, sys, time
sys.path.insert(0, ".")
from bench import postings as P
kind, target, seconds, seed, start = sys.argv[1:]
time.sleep(max(0.0, float(start) - time.time()))
if kind == "core":
    count, _, refused = P._core_worker((target, float(seconds), int(seed)))
elif kind == "reference":
    count, _, refused = P._reference_worker((target, float(seconds), int(seed)))
elif kind == "sqlite_core":
    count, refused = P.sqlite_core(target, float(seconds))["tps"] * float(seconds), 0
else:
    count, refused = P.sqlite_raw(target, float(seconds))["tps"] * float(seconds), 0
print(json.dumps([count, refused]))
"""

_PREPARE = """
import sys
sys.path.insert(0, ".")
from bench.postings import prepare_core
prepare_core(sys.argv[1], int(sys.argv[2]))
"""


def _python(tree: Path) -> str:
    return str(tree / ".venv" / "bin" / "python")


def _run(tree: Path, kind: str, target: str, clients: int, seconds: float, tmp: str) -> float:
    """transfers/s of ``clients`` processes of ``tree`` started together."""
    start = time.time() + 2.5 + 0.25 * clients  # every client imported before the clock starts
    procs = []
    for i in range(clients):
        where = target
        if kind.startswith("sqlite"):
            where = os.path.join(tmp, f"{kind}-{tree.name}-{random.random():.9f}.db")
        procs.append(
            subprocess.Popen(
                [
                    _python(tree),
                    "-c",
                    _WORKER,
                    kind,
                    where,
                    str(seconds),
                    str(i * 7919 + clients),
                    str(start),
                ],
                cwd=tree,
                stdout=subprocess.PIPE,
                env={**os.environ, "TMPDIR": tmp},
            )  # fmt: skip
        )
    total = refused = 0
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"{kind} worker in {tree} failed")
        count, ref = json.loads(out.decode().strip().splitlines()[-1])
        total += count
        refused += ref
    if refused:
        raise SystemExit(f"{kind} in {tree}: {refused} transfers refused")
    return total / seconds


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}× ({min(values):.2f}–{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", required=True, type=Path, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--print-only", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument(
        "--closed-period",
        action="store_true",
        help="close a past month in each database first (a checkout that has periods; the "
        "postings, dated now, then pass the period guard's check of the closed periods)",
    )
    args = parser.parse_args()
    if args.closed_period:
        os.environ["ZHANGBEN_BENCH_CLOSED_PERIOD"] = "1"
    before, after = args.before.resolve(), ROOT
    rev = {
        t: subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=t, capture_output=True,
                          text=True).stdout.strip() or t.name
        for t in (before, after)
    }  # fmt: skip
    server = start_postgres()
    tmp = tempfile.mkdtemp(prefix="zb-ab-")
    pg: dict[tuple[str, int], list[float]] = {}
    lite: dict[str, list[float]] = {}
    try:
        urls = {}
        for tree, name in ((before, "zb_before"), (after, "zb_after")):
            url = create_db(server, name).replace("postgresql://", "postgresql+psycopg://")
            subprocess.run([_python(tree), "-c", _PREPARE, url, str(args.entries)], cwd=tree,
                           check=True, env={**os.environ, "TMPDIR": tmp})  # fmt: skip
            urls[tree] = url
        ref_dsn = create_db(server, "zb_ref")
        sys.path.insert(0, str(ROOT))
        from bench.postings import prepare_reference

        prepare_reference(ref_dsn, args.entries)
        for r in range(args.rounds):
            for clients in (1, 8):
                order = ["reference", before, after]
                random.shuffle(order)
                tps = {}
                for what in order:
                    if what == "reference":
                        tps[what] = _run(after, "reference", ref_dsn, clients, args.seconds, tmp)
                    else:
                        tps[what] = _run(what, "core", urls[what], clients, args.seconds, tmp)
                for tree in (before, after):
                    pg.setdefault((str(tree), clients), []).append(tps[tree] / tps["reference"])
                print(f"round {r + 1}, {clients} client(s): "
                      + ", ".join(f"{k if k == 'reference' else rev[k]} {v:,.0f}/s"
                                  for k, v in tps.items()), flush=True)  # fmt: skip
            order = ["sqlite_raw", before, after]
            random.shuffle(order)
            tps = {}
            for what in order:
                if what == "sqlite_raw":
                    tps[what] = _run(after, "sqlite_raw", "", 1, args.seconds, tmp)
                else:
                    tps[what] = _run(what, "sqlite_core", "", 1, args.seconds, tmp)
            for tree in (before, after):
                lite.setdefault(str(tree), []).append(tps[tree] / tps["sqlite_raw"])
            print(f"round {r + 1}, SQLite: "
                  + ", ".join(f"{k if k == 'sqlite_raw' else rev[k]} {v:,.0f}/s"
                              for k, v in tps.items()), flush=True)  # fmt: skip
    finally:
        server.stop()

    def row(label: str, b: list[float], a: list[float]) -> list[str]:
        paired = statistics.median(x / y for x, y in zip(a, b, strict=True))
        return [label, _summary(b), _summary(a), f"{paired:.2f}×"]

    rows = [
        row(f"PostgreSQL, {clients} client(s), ÷ one-round-trip function",
            pg[(str(before), clients)], pg[(str(after), clients)])
        for clients in (1, 8)
    ]  # fmt: skip
    rows.append(row("SQLite, 1 process, ÷ raw sqlite3", lite[str(before)], lite[str(after)]))
    body = table(
        ["single transfers through the core", f"before ({rev[before]})", f"after ({rev[after]})",
         "after ÷ before, same round"],
        rows,
    )  # fmt: skip
    body += (
        f"\n\nMedian over {args.rounds} rounds (range in brackets) of each core's transfers/s "
        f"divided by its round's reference; {args.seconds:g} s per figure, the three figures of "
        "a round in shuffled order; 8 clients are 8 processes started together."
    )
    if args.closed_period:
        body += " A month (2020-01) closed in each database of a checkout that has periods."
    if args.print_only:
        print(body)
    else:
        append_results(
            "Single postings, before and after (bench/ab.py)",
            f".venv/bin/python -m bench.ab --before <checkout of {rev[before]}> "
            f"--rounds {args.rounds} --seconds {args.seconds:g}",
            body,
        )


if __name__ == "__main__":
    main()
