"""One body limit per surface, enforced before parsing and authentication, for a
Content-Length and for a body without one (chunked), answered in the surface's own format.
(A real server's memory under such bodies: tests/reliability/test_body_limits.py.)"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from tests.shopex.support import ENDPOINT, signed

#: The documented limits (docs/operations.md, "Limits")
REST_MAX = 1 << 20
SHOPEX_MAX = 1 << 20
YICHUAN_MAX = 64 << 10


def _chunks(total: int, size: int = 64 << 10):
    """A body without Content-Length: the client streams it in chunks."""
    sent = 0
    while sent < total:
        part = min(size, total - sent)
        sent += part
        yield b" " * part


def _bodies(limit: int):
    over = limit + 1
    return {
        "content-length": dict(content=b"{" + b" " * (over - 1)),
        "chunked": dict(content=_chunks(over)),
    }


@pytest.mark.parametrize("how", ["content-length", "chunked"])
def test_rest_refuses_a_large_body_before_authentication(client, how):
    r = client.post(
        "/api/v1/transfers", headers={"Content-Type": "application/json"}, **_bodies(REST_MAX)[how]
    )
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "payload_too_large" and problem["status"] == 413
    assert str(REST_MAX) in problem["detail"]


@pytest.mark.parametrize("how", ["content-length", "chunked"])
def test_yichuan_refuses_a_large_login_body_in_its_envelope(client, how):
    r = client.post(
        "/v3/login",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        **_bodies(YICHUAN_MAX)[how],
    )
    assert r.status_code == 413
    body = r.json()
    assert body["code"] == 41301 and body["data"] is None
    assert str(YICHUAN_MAX) in body["msg"]


@pytest.mark.parametrize("how", ["content-length", "chunked"])
def test_shopex_refuses_a_large_body_in_its_format(client, how):
    r = client.post(
        ENDPOINT,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        **_bodies(SHOPEX_MAX)[how],
    )
    assert r.status_code == 413
    body = json.loads(r.content)
    assert body["code"] == 2002 and "too large" in body["sub_msg"]


def test_a_body_within_the_limit_still_reaches_each_surface(client, shopex_app):
    # REST: the body is parsed, then authentication answers
    r = client.post(
        "/api/v1/transfers",
        content=json.dumps({"x": " " * 1000}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    # 壹川: a form just under the limit is read and judged (values of at most 1,024 characters)
    pads = {f"pad{i}": "x" * 1000 for i in range((YICHUAN_MAX - 1000) // 1008)}
    r = client.post("/v3/login", data={"username": "nobody", "password": "pw", **pads})
    assert r.status_code == 200 and r.json()["code"] == 40102
    # ShopEx: a signed call with a padding parameter just under the limit, streamed
    flag, token = shopex_app
    params = signed(flag, token, "finance.getAccountBalance", pad="y" * (SHOPEX_MAX - 1000))
    data = urlencode(params).encode()
    assert len(data) <= SHOPEX_MAX
    r = client.post(
        ENDPOINT,
        content=iter([data[:1000], data[1000:]]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and json.loads(r.content)["code"] == 0
