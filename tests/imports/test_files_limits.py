"""Hostile and damaged files at the reading layer (``imports/files.py``): ZIP bombs by size
and by ratio, over-long lines, rows of too many cells, floods of empty lines, truncated ZIPs
and XLSXs. Each is one :class:`BillFormatError`, found fast, in bounded memory. The same
files through the real CLI, on both databases, are in ``test_runner_hostile.py``."""

import io
import os
import time
import tracemalloc
import zipfile

import pytest

from zhangben.demo import bills as s
from zhangben.imports import BillFormatError, extract
from zhangben.imports.files import DEFAULT_LIMITS, GiB, KiB, Limits, MiB, open_table

HEADER = ",".join(s.JD_WALLET_HEADERS)
ROW = "110123456001,ACC10001,x,2024-03-01 00:12:24,T1,100.00,100.00,0.00,r,2024-03-01"


def zipped(path, text: str | bytes, name: str = "明细.csv"):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr(name, text)
    return path


def refused(source, match: str, *, limits: Limits | None = None, seconds: float = 2.0):
    """Reading ``source`` to its end raises one BillFormatError matching ``match``, fast and
    in little memory (Python allocations; the bombs below would take 10 MiB and more)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(BillFormatError, match=match) as caught:
            ext = extract(source, limits=limits)
            for _ in ext.rows():
                pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < seconds
    assert peak < 4 * MiB, peak
    assert "\n" not in str(caught.value)
    return caught.value


def test_limits_defaults_and_overrides():
    assert DEFAULT_LIMITS == Limits(4 * GiB, 100, 64 * KiB, 1000, 10_000)
    got = Limits.parse(["inflated=8GiB", "ratio = 200", "line=1_000", "empty=5", "cells=2KiB"])
    assert got == Limits(8 * GiB, 200, 1000, 2048, 5)
    for bad in ("inflated", "size=1", "ratio=0", "ratio=-1", "line=1.5MiB", "empty=lots"):
        with pytest.raises(ValueError, match="NAME=VALUE|positive number"):
            Limits.parse([bad])


def test_a_bill_within_the_limits_reads_as_before(tmp_path):
    path = s.write_jd_wallet_csv(tmp_path / "jd.csv", s.chained_txns(50))
    zipped(tmp_path / "jd.zip", path.read_bytes())
    assert len(list(extract(tmp_path / "jd.zip").rows())) == 50


def test_a_zip_bomb_by_ratio_is_refused_before_inflating(tmp_path):
    # the file, scaled down: a header, then 20 MiB of empty lines in a 20 KiB ZIP
    bomb = zipped(tmp_path / "bomb.zip", HEADER + "\r\n" + "\r\n" * (10 * MiB))
    assert bomb.stat().st_size < 64 * KiB
    error = refused(bomb, r"is compressed [\d,]+ to 1: over the limit ratio=100 \(a ZIP bomb\?\)")
    assert error.line is None


def test_a_zip_over_the_inflated_size_is_refused_from_its_declared_sizes(tmp_path):
    rows = "\r\n".join([HEADER] + [ROW.replace("T1", f"T{i}") for i in range(30_000)])
    path = zipped(tmp_path / "big.zip", rows)  # ≈2.5 MiB of text, compressed ≈20 times
    assert len(list(extract(path).rows())) == 30_000
    refused(path, r"would inflate to more than 1 MiB \(at 明细.csv\): over the limit inflated=1MiB",
            limits=Limits(inflated=1 * MiB))  # fmt: skip


def test_an_xlsx_bomb_is_refused_like_a_zip(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", " " * (8 * MiB))
    refused(path, "sheet1.xml is compressed .* over the limit ratio=100")


@pytest.mark.parametrize("where", ["csv", "zip"])
def test_an_endless_line_is_refused_in_bounded_memory(tmp_path, where):
    text = HEADER + "\n" + os.urandom(8 * MiB).hex()  # 16 MiB, no line break: 64 KiB is read
    path = tmp_path / "long.csv"
    path.write_text(text)
    if where == "zip":
        path = zipped(tmp_path / "long.zip", text)
    error = refused(path, r"a record of more than 65,536 characters: over the limit line=64KiB")
    assert error.line == 2


def test_a_quoted_cell_cannot_join_lines_past_the_limit(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text(HEADER + '\n"' + "x\n" * (200 * KiB) + '"\n')
    assert refused(path, "over the limit line=64KiB").line == 2


def test_rows_of_too_many_cells_are_refused(tmp_path):
    # a billion empty cells is 1 GiB of commas: here 20,000 (the line limit bounds the rest)
    path = tmp_path / "wide.csv"
    path.write_text(HEADER + "\n" + ROW + "," * 20_000 + "x\n")
    assert refused(path, r"20,010 cells: over the limit cells=1000").line == 2
    path.write_text(HEADER + "\n" + ROW + "," * 20_000 + "\n")  # trailing empty cells: nothing
    assert len(list(extract(path).rows())) == 1


@pytest.mark.parametrize("cells", ["", ",,,,"])
def test_a_flood_of_empty_lines_is_refused(tmp_path, cells):
    path = tmp_path / "empty.csv"
    path.write_text(HEADER + "\n" + ROW + "\n" + (cells + "\n") * 30_000 + ROW + "\n")
    error = refused(path, r"more than 10,000 empty lines: over the limit empty=10000")
    assert error.line == 10_003
    path.write_text("\n" * (1 * MiB))  # no header at all: the "never finishes"
    refused(path, "over the limit empty=10000")
    refused(path, "over the limit empty=5", limits=Limits(empty=5))


def test_an_xlsx_of_empty_rows_is_refused(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(s.JD_WALLET_HEADERS)
    ws.cell(row=200_000, column=1, value="x")  # read-only mode yields every row between
    wb.save(tmp_path / "gap.xlsx")
    refused(tmp_path / "gap.xlsx", "over the limit empty=10000", seconds=10)


def sample_zip(tmp_path):
    return s.write_alipay_zip(tmp_path / "a.zip", s.chained_txns(200))


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_a_truncated_zip_is_one_error(tmp_path, keep):
    data = sample_zip(tmp_path).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: int(len(data) * keep)])
    refused(cut, r"the ZIP is truncated or damaged \(")


def test_a_zip_whose_data_is_damaged_is_one_error(tmp_path):
    data = bytearray(sample_zip(tmp_path).read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = max(zf.infolist(), key=lambda i: i.compress_size)
    start = info.header_offset + 30 + len(info.orig_filename.encode()) + len(info.extra)
    for i in range(start + 2000, start + 2400):  # garble the middle of the detail CSV
        data[i] ^= 0x5A
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    refused(bad, r"the ZIP is truncated or damaged \(")


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_a_truncated_xlsx_is_one_error(tmp_path, keep):
    data = s.write_jd_wallet_xlsx(tmp_path / "jd.xlsx", s.chained_txns(300)).read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(data[: int(len(data) * keep)])
    refused(cut, r"the (ZIP|XLSX) is truncated or damaged \(", seconds=5)


def test_open_table_applies_the_limits_too(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("a\n" + "\n" * 10_001)
    with pytest.raises(BillFormatError, match="empty=10000"):
        list(open_table(path))
