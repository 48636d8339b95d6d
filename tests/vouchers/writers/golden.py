"""Golden files: each writer's output for the sample, in ``tests/vouchers/golden/``.

``ZHANGBEN_REGEN_GOLDEN=1 .venv/bin/pytest tests/vouchers/writers`` rewrites them (review the
diff before committing); otherwise the written file, read back, must equal the golden file read
back the same way (and, for formats without a timestamp inside, byte for byte)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

from openpyxl import load_workbook

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def check_golden(name: str, data: bytes, read: Callable[[bytes], object], *, exact: bool) -> None:
    path = GOLDEN / name
    if os.environ.get("ZHANGBEN_REGEN_GOLDEN") == "1":
        # rewritten only when it reads differently (an xlsx holds the time it was saved)
        if not path.exists() or read(path.read_bytes()) != read(data) or exact:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    golden = path.read_bytes()
    assert read(data) == read(golden), f"{name} differs from the golden file"
    if exact:
        assert data == golden, f"{name} differs from the golden file byte for byte"


def xlsx_cells(data: bytes) -> dict[str, list[list[tuple]]]:
    """Every sheet as rows of (value, number format) per cell."""
    wb = load_workbook(io.BytesIO(data))
    return {
        ws.title: [[(c.value, c.number_format) for c in row] for row in ws.iter_rows()]
        for ws in wb.worksheets
    }
