"""A second reader for the hand-written XLSX: LibreOffice (when ``soffice`` is installed, e.g.
``apt-get install libreoffice-calc-nogui``; skipped otherwise) converts an export to CSV, and
every cell equals the CSV export's: money to the fourth place, local times, texts with their
control characters and escapes."""

from __future__ import annotations

import csv
import shutil
import subprocess
from decimal import Decimal

import pytest

from zhangben.core.queries import EntryFilter
from zhangben.exports.flows import Format, export_flows

from .support import books, read_csv

SOFFICE = shutil.which("soffice")
# comma, double quote, UTF-8, from row 1; "as shown" off: the cells' values
FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false"


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_reads_what_the_csv_holds(ledger, tmp_path, backend):
    if backend != "sqlite":
        pytest.skip("the file is the same on both databases")
    books(ledger, tmp_path)
    (tmp_path / "flows.xlsx").write_bytes(
        b"".join(export_flows(ledger, EntryFilter(), Format.xlsx))
    )
    ours = read_csv(b"".join(export_flows(ledger, EntryFilter(), Format.csv)))
    out = tmp_path / "out"
    subprocess.run(
        [SOFFICE, "--headless", "--convert-to", FILTER, "--outdir", str(out), "flows.xlsx"],
        cwd=tmp_path, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    with open(out / "flows.csv", encoding="utf-8", newline="") as f:
        read = list(csv.reader(f))[1:]
    assert len(read) == len(ours) == 36
    for theirs, mine in zip(read, ours, strict=True):
        for i, (a, b) in enumerate(zip(theirs, mine, strict=True)):
            if i in (7, 8, 9) and b:
                assert Decimal(a) == Decimal(b), (theirs, mine)  # the exact 4-place value
            elif b.startswith("'"):
                assert a == b[1:]  # the CSV's formula guard; XLSX text is never a formula
            else:
                assert a == b, (i, theirs, mine)
