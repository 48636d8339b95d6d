"""Writing an export of the flow to a file: ``zhangben flows … --export f.csv|f.xlsx``."""

from __future__ import annotations

import os
import time
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from zhangben.cli.common import console, err, fail, ledger
from zhangben.core.queries import EntryFilter
from zhangben.exports.flows import PAGE_SIZE, export_flows, format_of

#: exports of more rows than this show a progress bar (on stderr)
PROGRESS_FROM = PAGE_SIZE


def export_to_file(f: EntryFilter, target: str, *, force: bool) -> None:
    """Every entry matching ``f`` into ``target`` (format by suffix). The file is written
    beside it under a temporary name and renamed when complete: an export that fails leaves
    no partial file and an existing file as it was; an existing file is replaced only with
    ``force``."""
    fmt = format_of(target)
    path = Path(target)
    if path.exists() and not force:
        fail(f"{target} exists: give --force to overwrite it")
    if not path.parent.is_dir():
        fail(f"{path.parent} is not a directory")
    lg = ledger()
    total = lg.count_entries(f)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    started = time.perf_counter()
    written = 0
    columns = (
        TextColumn("exporting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("entries"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with (
            Progress(*columns, console=err, disable=total <= PROGRESS_FROM) as progress,
            partial.open("wb") as out,
        ):
            task = progress.add_task("export", total=total)

            def on_rows(n: int) -> None:
                nonlocal written
                written += n
                progress.update(task, completed=written)

            for chunk in export_flows(lg, f, fmt, on_rows=on_rows):
                out.write(chunk)
        if path.exists() and not force:
            fail(f"{target} exists: give --force to overwrite it")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    size, seconds = path.stat().st_size, time.perf_counter() - started
    console.print(
        f"exported {written:,} entries to {target} ({size:,} bytes, {seconds:.1f} s)",
        highlight=False,
        soft_wrap=True,
    )
