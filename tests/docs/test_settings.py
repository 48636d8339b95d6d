"""Every setting is documented: each ``ZHANGBEN_*`` variable that :class:`Settings` reads has
a row in docs/operations.md's table, with its default."""

from __future__ import annotations

from pathlib import Path

import pytest

from zhangben.settings import Settings

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_has_a_row_in_operations_md(name):
    variable = f"`ZHANGBEN_{name.upper()}`"
    rows = [
        line for line in OPERATIONS.read_text(encoding="utf-8").splitlines() if line.startswith("|")
    ]
    assert any(variable in row.split("|")[1] for row in rows), f"{variable} not in operations.md"
