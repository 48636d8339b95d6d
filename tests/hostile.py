"""Hostile input for the fuzz tests of the ShopEx and 壹川 surfaces (REST has schemathesis):
Hypothesis strategies for text, values and bodies, and the checks every answer must pass.

``ZHANGBEN_FUZZ_EXAMPLES`` sets the examples per fuzz test: a few dozen by default, so that the
default suite stays fast; a nightly run raises it (``make test-reliability``).
"""

from __future__ import annotations

import json
import logging
import operator
import os
from urllib.parse import quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Examples per fuzz test (and per backend).
EXAMPLES = int(os.environ.get("ZHANGBEN_FUZZ_EXAMPLES", "30"))

#: The fuzz tests' Hypothesis settings: a client and a database per test, not per example.
fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Text a driver chokes on, or that is merely odd.
NASTY = [
    "",
    "0",
    " ",
    "\x00",
    "ACC001\x00",
    "\ud800",
    "\udfff",
    "a\udc80b",
    "A" * 5000,
    "测试账户",
    "S001#S002#\x00",
    "'; DROP TABLE entries; --",
    "%s%s%n",
    "{}",
    "[]",
    "\u202e\ufeff",
    "9" * 40,
    "-1",
    "2024-01-01 00:00:00",
    "2024-13-45 25:61:61",
]

#: Any text: printable, control characters, lone surrogates, very long.
texts = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=5),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    # long: one character repeated (cheap to generate and to shrink)
    st.builds(operator.mul, st.characters(codec="utf-8"), st.integers(1000, 3000)),
)

#: A JSON-ish value: text, numbers (huge ones too), booleans, null, nested maps and lists.
scalars = st.one_of(
    texts,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)


def json_body(params: dict) -> bytes:
    """JSON with every non-ASCII character escaped: a lone surrogate travels as ``\\ud800``."""
    return json.dumps(params, ensure_ascii=True, default=str).encode()


def form_body(params: dict[str, str]) -> bytes:
    """application/x-www-form-urlencoded, percent-encoding each text as UTF-8 (a lone
    surrogate as the bytes ``surrogatepass`` gives it, which are not valid UTF-8)."""
    return "&".join(f"{_pct(k)}={_pct(v)}" for k, v in params.items()).encode("ascii")


def _pct(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def deep_json(depth: int) -> bytes:
    return b'{"a": ' + b"[" * depth + b"]" * depth + b"}"


def assert_quiet(caplog) -> None:
    """Nothing logged at ERROR, and no record carries a traceback; then forget the records
    (one check per example)."""
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not loud, [r.getMessage()[:300] for r in loud]
    caplog.clear()
