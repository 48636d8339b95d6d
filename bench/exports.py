"""Flow exports: CSV and XLSX of 100k and 1M entries, beside the bare writers, with peak memory.

    .venv/bin/python -m bench.exports [--entries 1000000] [--small 100000]

``bench/bigledger.py`` bulk-loads ``--entries`` entries (with counterparties, flow numbers and
descriptions, as imported bill rows have them) into a durable PostgreSQL. Then each export
runs in a fresh process (so that its peak RSS is its own) exactly as ``zhangben flows
--export`` runs it: :func:`zhangben.exports.flows.export_flows` over every entry with an id
up to N (keyset pages from the database), written to a file. The references, in the same run,
write the same rows with no database:

* **CSV, bare**: the standard library's ``csv.writer`` writing the export's own cells (one
  page of them, produced by the export's conversion, written over and over to N rows) to a
  UTF-8 file;
* **XLSX, bare**: zhangben's streaming writer (:class:`zhangben.exports.xlsx.XlsxStream`)
  writing the export's typed cells the same way; beside it the libraries not chosen, on the
  same rows: XlsxWriter (``constant_memory``) and openpyxl (``write_only``), at the small
  size only (they take minutes for 1M rows). XlsxWriter is not a dependency of zhangben:
  ``.venv/bin/pip install -e '.[bench]'``;
* **fetch only**: the export's reads alone (:meth:`Ledger.entry_pages`), no writing.
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


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ledger(url: str):
    from zhangben.core.ledger import Ledger

    return Ledger.from_url(url, TZ)


def _export(args) -> tuple[float, float, int]:
    """One export in its own process: (seconds, peak RSS MB, file bytes). ``path``: ``copy``
    (PostgreSQL renders the CSV), ``python`` (the CSV written from the rows read), ``xlsx``."""
    url, way, rows, path = args
    from zhangben.core.queries import EntryFilter
    from zhangben.exports.flows import Format, export_flows

    ledger = _ledger(url)
    fmt = Format.xlsx if way == "xlsx" else Format.csv
    extra = {} if way == "xlsx" else {"in_database": way == "copy"}
    t0 = time.perf_counter()
    with open(path, "wb") as out:
        for chunk in export_flows(ledger, EntryFilter(), fmt, before_id=rows + 1, **extra):
            out.write(chunk)
    return time.perf_counter() - t0, _rss_mb(), os.path.getsize(path)


_BEFORE = """
import json, os, resource, sys, time
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith(
    "__editable__")]
sys.path.insert(0, {tree!r})
from zoneinfo import ZoneInfo
import zhangben
assert zhangben.__file__.startswith({tree!r}), zhangben.__file__
from zhangben.core.ledger import Ledger
from zhangben.core.queries import EntryFilter
from zhangben.exports.flows import Format, export_flows
ledger = Ledger.from_url({url!r}, ZoneInfo("Asia/Shanghai"))
t0 = time.perf_counter()
with open({path!r}, "wb") as out:
    for chunk in export_flows(ledger, EntryFilter(), Format({fmt!r}), before_id={rows} + 1):
        out.write(chunk)
seconds = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps([seconds, rss, os.path.getsize({path!r})]))
"""


def _export_before(tree: str, url: str, fmt: str, rows: int, path: str) -> tuple:
    """The same export by the code of another commit (``--before``), extracted to ``tree``."""
    code = _BEFORE.format(tree=tree, url=url, fmt=fmt, rows=rows, path=path)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
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


def _bare(args) -> float:
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
    t0 = time.perf_counter()
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
    return time.perf_counter() - t0


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
                        seconds, rss, size = _export_before(tree, url, way, n, path)
                    else:
                        seconds, rss, size = _in_process(_export, (url, way, n, path))
                    os.remove(path)
                    if bare_writer not in bares:
                        bares[bare_writer] = n / _in_process(_bare, (url, bare_writer, n, path))
                        os.remove(path)
                    bare, rate = bares[bare_writer], n / seconds
                    results.append(
                        [
                            f"{n:,}",
                            label,
                            f"{rate:,.0f}",
                            f"{bare:,.0f}",
                            f"{rate / bare:.2f}×",
                            f"{fetch:,.0f}",
                            f"{rss:.0f}",
                            f"{size / 1e6:,.0f}",
                            f"{load:.1f}",
                        ]
                    )
                    print(results[-1], flush=True)
                for lib in others if n == args.small else []:
                    libraries.append([lib, f"{n / _in_process(_bare, (url, lib, n, path)):,.0f}"])
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
