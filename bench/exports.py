"""Flow exports: CSV and XLSX of 100k and 1M entries, beside the bare writers, with peak memory.

    .venv/bin/python -m bench.exports [--entries 1000000] [--small 100000] [--before main]
                                      [--libraries]

``bench/bigledger.py`` bulk-loads ``--entries`` entries (with counterparties, flow numbers and
descriptions, as imported bill rows have them) into a durable PostgreSQL. Then each export
runs in a fresh process (so that its peak RSS is its own) exactly as ``zhangben flows
--export`` runs it: :func:`zhangben.exports.flows.export_flows` over every entry with an id
up to N (keyset pages from the database), written to a file, by each path: the CSV rendered
by PostgreSQL (``COPY``), the CSV written by Python from the rows read (the SQLite path), the
XLSX; with ``--before REF`` also the exports of that commit's code (extracted with ``git
archive``), in the same run. The references, in the same run, write the same rows with no
database:

* **CSV, bare**: the standard library's ``csv.writer`` writing the export's own cells (one
  page of them, produced by the export's conversion, written over and over to N rows) to a
  UTF-8 file;
* **XLSX, bare**: zhangben's streaming writer (:class:`zhangben.exports.xlsx.XlsxStream`)
  writing the export's typed cells the same way; with ``--libraries`` beside it the libraries
  not chosen, on the same rows: XlsxWriter (``constant_memory``) and openpyxl
  (``write_only``), at the small size only (they take minutes for 1M rows). XlsxWriter is not
  a dependency of zhangben: ``.venv/bin/pip install -e '.[bench]'``;
* **fetch only**: the export's reads alone (:meth:`Ledger.entry_pages`), no writing.

The load average (1 minute) is noted beside each figure: the machine may be shared.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from zoneinfo import ZoneInfo

from bench import bigledger
from bench.common import append_results, create_db, start_postgres, table

TZ = ZoneInfo("Asia/Shanghai")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ledger(url: str):
    from zhangben.core.ledger import Ledger

    return Ledger.from_url(url, TZ)


def cpu_of_children(parent: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of each child of ``parent`` (PostgreSQL's
    backends, children of the postmaster)."""
    tick, found = os.sysconf("SC_CLK_TCK"), {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found[int(name)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _export(args) -> tuple[float, float, int, float, float]:
    """One export in its own process: (seconds, peak RSS MB, file bytes, its CPU seconds,
    PostgreSQL's CPU seconds meanwhile). ``way``: ``copy`` (PostgreSQL renders the CSV),
    ``python`` (the CSV written from the rows read), ``xlsx``."""
    url, way, rows, path, postmaster = args
    from zhangben.core.queries import EntryFilter
    from zhangben.exports.flows import Format, export_flows

    ledger = _ledger(url)
    fmt = Format.xlsx if way == "xlsx" else Format.csv
    extra = {} if way == "xlsx" else {"in_database": way == "copy"}
    pg, cpu, t0 = cpu_of_children(postmaster), _cpu(), time.perf_counter()
    with open(path, "wb") as out:
        for chunk in export_flows(ledger, EntryFilter(), fmt, before_id=rows + 1, **extra):
            out.write(chunk)
    seconds, cpu = time.perf_counter() - t0, _cpu() - cpu
    pg = sum(t - pg.get(pid, 0.0) for pid, t in cpu_of_children(postmaster).items())
    return seconds, _rss_mb(), os.path.getsize(path), cpu, pg


_BEFORE = """
import json, os, resource, sys, time
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith(
    "__editable__")]
sys.path.insert(0, {tree!r})
from zoneinfo import ZoneInfo
import zhangben
assert zhangben.__file__.startswith({tree!r}), zhangben.__file__
from bench.exports import cpu_of_children, _cpu
from zhangben.core.ledger import Ledger
from zhangben.core.queries import EntryFilter
from zhangben.exports.flows import Format, export_flows
ledger = Ledger.from_url({url!r}, ZoneInfo("Asia/Shanghai"))
pg, cpu, t0 = cpu_of_children({postmaster}), _cpu(), time.perf_counter()
with open({path!r}, "wb") as out:
    for chunk in export_flows(ledger, EntryFilter(), Format({fmt!r}), before_id={rows} + 1):
        out.write(chunk)
seconds, cpu = time.perf_counter() - t0, _cpu() - cpu
pg = sum(t - pg.get(pid, 0.0) for pid, t in cpu_of_children({postmaster}).items())
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps([seconds, rss, os.path.getsize({path!r}), cpu, pg]))
"""


def _export_before(tree: str, url: str, fmt: str, rows: int, path: str, postmaster: int) -> tuple:
    """The same export by the code of another commit (``--before``), extracted to ``tree``
    (bench/ stays this commit's: its CPU accounting)."""
    code = _BEFORE.format(tree=tree, url=url, fmt=fmt, rows=rows, path=path, postmaster=postmaster)
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return tuple(json.loads(out.stdout.strip().splitlines()[-1]))


def _fetch(args) -> float:
    url, rows = args
    from zhangben.core.queries import EntryFilter

    ledger = _ledger(url)
    t0 = time.perf_counter()
    got = sum(len(p.rows) for p in ledger.entry_pages(EntryFilter(), before_id=rows + 1))
    assert got == rows, got
    return time.perf_counter() - t0


def _one_page(url: str):
    from zhangben.core.queries import EntryFilter

    return next(iter(_ledger(url).entry_pages(EntryFilter())))


def _bare(args) -> tuple[float, float]:
    """A writer alone, on one page of the export's own cells repeated to ``rows`` rows."""
    url, writer, rows, path = args
    from zhangben.exports import flows
    from zhangben.exports.clock import LocalClock
    from zhangben.exports.layout import FLOW_COLUMNS
    from zhangben.exports.xlsx import XlsxStream

    page = _one_page(url)
    if writer == "csv":
        cells = list(flows.csv_rows(page, LocalClock(TZ)))
    else:
        cells = list(flows.xlsx_rows(page))
    batches, rest = divmod(rows, len(cells))
    todo = [cells] * batches + ([cells[:rest]] if rest else [])
    cpu, t0 = _cpu(), time.perf_counter()
    if writer == "csv":
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.write(flows.header_csv())
            w = csv.writer(out)
            for batch in todo:
                w.writerows(batch)
    elif writer == "zhangben-xlsx":
        stream = XlsxStream(FLOW_COLUMNS, TZ, "流水")
        with open(path, "wb") as out:
            for batch in todo:
                out.write(stream.add(batch))
            out.write(stream.close())
    elif writer == "xlsxwriter":
        _xlsxwriter(path, todo, FLOW_COLUMNS)
    else:
        _openpyxl(path, todo, FLOW_COLUMNS)
    return time.perf_counter() - t0, _cpu() - cpu


def _plain(value, kind):
    """A typed cell as the libraries take it: money as a float, instants naive local."""
    if value is None:
        return None
    if kind == "money":
        return value / 10000
    if kind == "datetime":
        return value.astimezone(TZ).replace(tzinfo=None)
    return value


def _xlsxwriter(path, batches, columns) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = book.add_worksheet("流水")
    formats = {
        k: book.add_format({"num_format": c.number_format})
        for c in columns
        if c.number_format
        for k in [c.kind]
    }
    bold = book.add_format({"bold": True})
    for i, c in enumerate(columns):
        sheet.set_column(i, i, c.width, formats.get(c.kind))
        sheet.write_string(0, i, c.header, bold)
    sheet.freeze_panes(1, 0)
    kinds = [c.kind for c in columns]
    r = 0
    for batch in batches:
        for row in batch:
            r += 1
            for i, (kind, value) in enumerate(zip(kinds, row, strict=True)):
                if value is None:
                    continue
                if kind == "text":
                    sheet.write_string(r, i, value)
                elif kind == "datetime":
                    sheet.write_datetime(r, i, _plain(value, kind), formats[kind])
                else:
                    sheet.write_number(r, i, _plain(value, kind), formats[kind])
    book.close()


def _openpyxl(path, batches, columns) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("流水")
    sheet.freeze_panes = "A2"
    sheet.append([c.header for c in columns])
    kinds = [c.kind for c in columns]
    formats = [c.number_format for c in columns]
    for batch in batches:
        for row in batch:
            cells = []
            for kind, fmt, value in zip(kinds, formats, row, strict=True):
                cell = WriteOnlyCell(sheet, _plain(value, kind))
                if fmt and value is not None:
                    cell.number_format = fmt
                cells.append(cell)
            sheet.append(cells)
    book.save(path)


def _in_process(func, args):
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(func, (args,))


def _extract(ref: str, into: str) -> str:
    """``zhangben/`` as it is at ``ref``, in ``into``."""
    tar = subprocess.run(["git", "archive", ref, "zhangben"], check=True, capture_output=True)
    with tarfile.open(fileobj=io.BytesIO(tar.stdout)) as archive:
        archive.extractall(into, filter="data")
    return into


#: (label, how the export runs, the bare writer beside it)
WAYS = [
    ("CSV, PostgreSQL COPY", "copy", "csv"),
    ("CSV, Python path", "python", "csv"),
    ("XLSX", "xlsx", "zhangben-xlsx"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--before", help="also run the exports of this commit (e.g. main)")
    parser.add_argument(
        "--libraries", action="store_true", help="XlsxWriter and openpyxl at the small size"
    )
    parser.add_argument("--print-only", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    others = []
    if args.libraries:
        try:
            import xlsxwriter  # noqa: F401

            others = ["xlsxwriter", "openpyxl"]
        except ImportError:
            print("XlsxWriter not installed: its reference is left out")
            others = ["openpyxl"]
    server = start_postgres()
    results, libraries = [], []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            before = _extract(args.before, os.path.join(tmp, "before")) if args.before else None
            dsn = create_db(server, "zb_exports")
            with open(os.path.join(server.datadir, "postmaster.pid")) as f:
                postmaster = int(f.readline())
            url = dsn.replace("postgresql://", "postgresql+psycopg://")
            from zhangben.store.engine import make_engine
            from zhangben.store.migrate import upgrade

            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            t0 = time.perf_counter()
            print(f"loading {args.entries:,} entries …")
            bigledger.load(dsn, args.entries, texts=True)
            print(f"  loaded in {time.perf_counter() - t0:.0f} s")
            for n in (args.small, args.entries):
                fetch = n / _in_process(_fetch, (url, n))
                bares = {}
                ways = [(label, way, bare, None) for label, way, bare in WAYS]
                if before:
                    ways += [
                        (f"CSV, before ({args.before})", "csv", "csv", before),
                        (f"XLSX, before ({args.before})", "xlsx", "zhangben-xlsx", before),
                    ]
                for label, way, bare_writer, tree in ways:
                    path = os.path.join(tmp, f"export-{n}.{'xlsx' if 'xlsx' in way else 'csv'}")
                    load = os.getloadavg()[0]
                    if tree:
                        seconds, rss, size, cpu, pg = _export_before(
                            tree, url, way, n, path, postmaster
                        )
                    else:
                        seconds, rss, size, cpu, pg = _in_process(
                            _export, (url, way, n, path, postmaster)
                        )
                    os.remove(path)
                    if bare_writer not in bares:
                        bare_s, bare_cpu = _in_process(_bare, (url, bare_writer, n, path))
                        bares[bare_writer] = (n / bare_s, n / bare_cpu)
                        os.remove(path)
                    (bare, bare_per_cpu), rate = bares[bare_writer], n / seconds
                    results.append(
                        [
                            f"{n:,}",
                            label,
                            f"{rate:,.0f}",
                            f"{bare:,.0f}",
                            f"{rate / bare:.2f}×",
                            f"{n / (cpu + pg):,.0f}",
                            f"{cpu:.1f} + {pg:.1f}",
                            f"{bare_per_cpu:,.0f}",
                            f"{fetch:,.0f}",
                            f"{rss:.0f}",
                            f"{size / 1e6:,.0f}",
                            f"{load:.1f}",
                        ]
                    )
                    print(results[-1], flush=True)
                for lib in others if n == args.small else []:
                    lib_s = _in_process(_bare, (url, lib, n, path))[0]
                    libraries.append([lib, f"{n / lib_s:,.0f}"])
                    os.remove(path)
                    print(libraries[-1])
        finally:
            server.stop()
    body = table(
        [
            "rows",
            "export",
            "export rows/s",
            "bare writer, same rows, rows/s",
            "export ÷ bare",
            "export rows per CPU-second",
            "CPU s: Python + PostgreSQL",
            "bare writer rows per CPU-second",
            "fetch only rows/s",
            "peak RSS MB",
            "file MB",
            "load (1 min)",
        ],
        results,
    )
    if libraries:
        body += (
            f"\n\nThe XLSX libraries not chosen, writing the same {args.small:,} rows "
            "(typed cells: floats for money, naive local datetimes; number formats, bold frozen "
            "header):\n\n" + table(["library", "rows/s"], libraries)
        )
    if args.print_only:
        print(body)
        return
    append_results(
        "Flow exports (bench/exports.py)",
        f".venv/bin/python -m bench.exports --entries {args.entries} --small {args.small}"
        + (f" --before {args.before}" if args.before else ""),
        body,
    )


if __name__ == "__main__":
    main()
