"""The one check of text a surface hands to the database, and nesting depth."""

from __future__ import annotations

import pytest

from zhangben.core.texts import MAX_NESTING, nesting_depth, text_problem


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("ACC001", None),
        ("销售收款 & 退款", None),
        ("", None),
        ("x" * 64, None),
        ("x" * 65, "is longer than 64 characters"),
        ("a\x00b", "contains a NUL character"),
        ("a\ud800", "is not valid UTF-8 text"),
        ("\udcff", "is not valid UTF-8 text"),
    ],
)
def test_text_problem(value, problem):
    assert text_problem(value, 64) == problem


def test_nesting_depth_is_counted_without_recursion():
    assert nesting_depth("x") == 0
    assert nesting_depth({"a": "x", "b": ["y", {"c": "z"}]}) == 3
    deep: object = "x"
    for _ in range(100_000):  # far past the interpreter's recursion limit
        deep = [deep]
    assert nesting_depth(deep) == MAX_NESTING + 1
    assert nesting_depth(deep, limit=10) == 11
