"""PHP-style parsing of form fields into the nested array the original server signs.

Mirrors PHP's ``php_register_variable_ex`` (how ``$_POST``/``$_GET`` are built):

* leading spaces of a name are dropped, and the name ends at a NUL byte;
* in the base name (before the first ``[``) ``.`` and space become ``_``;
* ``a[x]=1`` nests (``a[x][y]`` deeper), ``a[]=1`` appends; text after a ``]`` that is not
  ``[`` is ignored (``a[x]junk`` is ``a[x]``); a single whitespace right after ``[`` before
  ``]`` still means append (``a[ ]``);
* a ``[`` without a closing ``]`` is not an index: it becomes ``_`` and so do later
  ``.``/space/``[`` (``a[b.c`` → ``a_b_c``), unless it follows an earlier ``]`` (then the
  rest is dropped);
* a repeated name: the last value wins; a scalar where an array is needed is replaced;
* nesting deeper than 64 levels (``max_input_nesting_level``) drops the whole variable.

PHP arrays become ``dict`` with string keys (``"0"``, ``"1"``, ... for appends), which sign
the same as PHP's integer keys. ``a[]`` appends at ``max(0, largest integer key + 1)``
(PHP before 8.3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["parse_php_fields"]

PhpArray = dict[str, Any]

_INT_KEY = re.compile(r"(?:0|-?[1-9][0-9]*)", re.ASCII)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_SPACE = frozenset(" \t\n\v\f\r")


def _int_key(key: str) -> int | None:
    if _INT_KEY.fullmatch(key):
        number = int(key)
        if _INT64_MIN <= number <= _INT64_MAX:
            return number
    return None


def _split(name: str, max_nesting: int) -> tuple[str, list[str | None] | None] | None:
    """Base name and index path (``None`` step = append; ``None`` path = too deep).

    ``None`` overall when the name is empty and PHP ignores the field.
    """
    name = name.split("\0", 1)[0].lstrip(" ")
    bracket = name.find("[")
    base = (name if bracket < 0 else name[:bracket]).replace(" ", "_").replace(".", "_")
    if not base:
        return None
    path: list[str | None] = []
    pos = bracket  # at a '[' (or -1: a plain name)
    while pos >= 0:
        if len(path) >= max_nesting:
            return base, None
        start = pos + 1
        probe = start + 1 if name[start : start + 1] in _SPACE else start
        if name[probe : probe + 1] == "]":
            path.append(None)
            end = probe
        else:
            end = name.find("]", probe)
            if end < 0:  # not an index
                if path:
                    return base, path
                rest = name[start:]
                for ch in " .[":
                    rest = rest.replace(ch, "_")
                return base + "_" + rest, []
            path.append(name[start:end])
        pos = end + 1 if name[end + 1 : end + 2] == "[" else -1
    return base, path


class _Builder:
    """Assigns values like PHP, remembering each array's next free integer key."""

    def __init__(self) -> None:
        self.root: PhpArray = {}
        # id -> (array, next free key); holding the array keeps its id from being reused
        self._next: dict[int, tuple[PhpArray, int]] = {}

    def _free(self, array: PhpArray) -> int:
        entry = self._next.get(id(array))
        return entry[1] if entry else 0

    def _store(self, array: PhpArray, key: str, value: Any) -> None:
        array[key] = value
        number = _int_key(key)
        if number is not None and number >= self._free(array):
            self._next[id(array)] = (array, number + 1)

    def assign(self, key: str, path: list[str | None], value: str) -> None:
        target = self.root
        for step in path:
            child = target.get(key)
            if not isinstance(child, dict):
                child = {}
                self._store(target, key, child)
            target = child
            key = str(self._free(target)) if step is None else step
        self._store(target, key, value)


def parse_php_fields(pairs: Iterable[tuple[str, str]], *, max_nesting: int = 64) -> PhpArray:
    """Build PHP's ``$_POST`` array from decoded ``(name, value)`` pairs, in order."""
    builder = _Builder()
    for name, value in pairs:
        split = _split(name, max_nesting)
        if split is None:
            continue
        base, path = split
        if path is None:  # PHP drops the whole top-level variable
            builder.root.pop(base, None)
        else:
            builder.assign(base, path, value)
    return builder.root
