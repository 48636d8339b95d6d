"""Hypothesis over the 壹川 routes: hostile usernames, passwords, tokens, ``account_id``,
``page`` and ``row`` and any other parameter, as a query string, a form or a JSON body, and
bodies nested deep or wide. Every answer is the envelope (HTTP 200, or 405 for a method a
route does not serve) and never code 50000, and nothing is logged with a traceback
(issue 13). ``ZHANGBEN_FUZZ_EXAMPLES`` raises the example count."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile import (
    assert_quiet,
    deep_json,
    form_body,
    fuzz_settings,
    json_body,
    texts,
    values,
)
from tests.yichuan.support import (
    STAFF_PW,
    add_user,
    cheap_argon2,  # noqa: F401 - autouse fixture
    token_of,
)

SERVER_ERROR = 50000
NAMES = ("username", "password", "token", "account_id", "page", "row")
ROUTES = st.sampled_from(
    [("POST", "/v3/login"), ("POST", "/v3/logout"), ("GET", "/v3/me")]
    + [(m, "/v3/accountlog") for m in ("GET", "POST")]
)
ENCODINGS = st.sampled_from(["query", "form", "json"])
names = st.one_of(st.sampled_from(NAMES), texts)


@pytest.fixture
def staff_token(client, ledger):
    add_user(ledger, "finance", STAFF_PW, role="staff")
    ledger.open_account(number="ACC001", name="主账户")
    ledger.income("ACC001", "10")
    return token_of(client, "finance", STAFF_PW)


def _flat(params: dict) -> dict[str, str]:
    return {k: v if isinstance(v, str) else json.dumps(v, default=str) for k, v in params.items()}


def send(client, method: str, path: str, params: dict, encoding: str, headers=None):
    headers = dict(headers or {})
    if method == "GET" or encoding == "query":
        query = form_body(_flat(params)).decode()
        if len(query) < 8000:  # longer: httpx refuses the URL
            return client.request(method, f"{path}?{query}", headers=headers)
        encoding = "form"
    if encoding == "json":
        headers["content-type"] = "application/json"
        return client.request(method, path, content=json_body(params), headers=headers)
    headers["content-type"] = "application/x-www-form-urlencoded"
    return client.request(method, path, content=form_body(_flat(params)), headers=headers)


def check(response) -> dict:
    """The envelope, never a server error (a body over the surface's limit is its 413)."""
    assert response.status_code in (200, 413), response.text[:300]
    body = json.loads(response.content)
    assert set(body) == {"code", "msg", "time", "data"}, body
    assert body["code"] != SERVER_ERROR, body
    assert (response.status_code == 413) == (body["code"] == 41301), body
    return body


@fuzz_settings
@given(
    route=ROUTES,
    params=st.dictionaries(names, values, max_size=6),
    encoding=ENCODINGS,
    bearer=st.none() | texts.filter(lambda t: t.isascii() and t.isprintable()),
)
def test_anonymous_requests(client, caplog, route, params, encoding, bearer):
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else None
    check(send(client, *route, params, encoding, headers))
    client.cookies.clear()
    assert_quiet(caplog)


@fuzz_settings
@given(
    method=st.sampled_from(["GET", "POST"]),
    params=st.dictionaries(names, values, max_size=6),
    encoding=ENCODINGS,
)
def test_logged_in_accountlog(client, staff_token, caplog, method, params, encoding):
    """Staff reach the ledger's queries: account numbers, pages and rows of any shape."""
    params = {k: v for k, v in params.items() if k != "token"}
    auth = {"Authorization": f"Bearer {staff_token}"}
    check(send(client, method, "/v3/accountlog", params, encoding, auth))
    assert_quiet(caplog)


@fuzz_settings
@given(
    depth=st.integers(min_value=1, max_value=20_000),
    fields=st.integers(min_value=0, max_value=2_500),
    encoding=ENCODINGS,
)
def test_deep_and_wide_bodies(client, caplog, depth, fields, encoding):
    deep = client.post(
        "/v3/login", content=deep_json(depth), headers={"content-type": "application/json"}
    )
    check(deep)
    wide = {f"f{i}": "x" for i in range(fields)}
    check(send(client, "POST", "/v3/login", {"username": "u", **wide}, encoding))
    assert_quiet(caplog)
