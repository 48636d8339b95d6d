"""Text a request may hand to the database: the one check every surface applies to its
parameters before they reach a driver.

SQLite and PostgreSQL disagree on hostile text (PostgreSQL refuses a NUL in ``text``, both
drivers fail to encode a lone surrogate), so a surface refuses such a value in its own
parameter error instead of letting the driver fail. Pure functions; no HTTP here.
"""

from __future__ import annotations

#: Nested parameters (PHP ``a[b][c]``, JSON objects) deeper than this are refused: PHP's own
#: ``max_input_nesting_level``.
MAX_NESTING = 64


def text_problem(value: str, max_length: int) -> str | None:
    """Why ``value`` may not reach the database, or ``None`` when it may: longer than
    ``max_length`` characters, a NUL character, or not encodable as UTF-8 (a lone
    surrogate, which JSON's ``\\ud800`` escape can carry)."""
    if len(value) > max_length:
        return f"is longer than {max_length} characters"
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8 text"
    return None


def nesting_depth(value: object, limit: int = MAX_NESTING) -> int:
    """How deeply ``value`` nests dicts and lists, counted up to ``limit + 1`` (iteratively:
    a hostile depth cannot exhaust the stack)."""
    deepest = 0
    todo: list[tuple[object, int]] = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        todo.extend((child, depth) for child in children)
    return deepest
