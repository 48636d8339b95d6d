"""Extraction streams: memory stays flat however long the file is."""

import tracemalloc
from decimal import Decimal

from zhangben.demo import bills as s
from zhangben.imports import extract

N = 200_000
WINDOW = 30_000


def write_big_jzt(path, n=N):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(s.JZT_HEADERS) + "\r\n")
        f.writelines(
            f"J{i:012d},jzt_ads_01,2024-03-{1 + i % 28:02d},广告扣费,{880000 + i % 7},"
            f"{i % 9000}.{i % 100:02d}\r\n"
            for i in range(n)
        )
    return path


def traced_peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_200k_rows_extract_in_constant_memory(tmp_path):
    path = write_big_jzt(tmp_path / "big.csv")
    size = path.stat().st_size
    assert size > 10_000_000

    state = {}

    def open_and_read_first_window():  # a read-it-all-first design peaks here
        state["ex"] = ex = extract(path)
        state["rows"] = rows = ex.rows()
        for _ in range(WINDOW):
            state["last"] = next(rows)

    peaks = [traced_peak(open_and_read_first_window)]
    rows, seen = state["rows"], WINDOW
    for _ in range(N - 2 * WINDOW):  # untraced middle, to keep the test quick
        state["last"] = next(rows)
        seen += 1

    def read_last_window():  # an accumulating design grows here
        nonlocal seen
        for row in rows:
            seen += 1
            state["last"] = row

    peaks.append(traced_peak(read_last_window))
    assert seen == N
    last = state["last"]
    assert last.line == N + 1 and last.flow_no == f"J{N - 1:012d}"
    assert last.expense == Decimal(f"{(N - 1) % 9000}.{(N - 1) % 100:02d}")
    assert max(peaks) < size / 20, (peaks, size)
    # no bound on the time: a loaded CI machine took 38 s where an idle one takes 6; the
    # speed of extraction is bench/imports.py's to measure
