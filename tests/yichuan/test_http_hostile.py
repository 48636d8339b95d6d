"""Hostile text never reaches the database driver: a NUL, a lone surrogate or an overlong
value in the username, the password, the token or ``account_id``; a JSON body nested
thousands deep; a form of more than 1,000 fields. Each is the envelope's 40001, never a
50000, and nothing is logged with a traceback (issue 13, point 7)."""

from __future__ import annotations

import json
import logging

import pytest

from tests.yichuan.support import (
    STAFF_PW,
    add_user,
    cheap_argon2,  # noqa: F401 - autouse fixture
    token_of,
)

BAD_PARAMETER = 40001
HOSTILE = {
    "nul": "fin\x00ance",
    "lone surrogate": "fin\ud800",
    "overlong": "f" * 5000,
}
JSON = {"content-type": "application/json"}


def _json(params: dict) -> bytes:
    # ensure_ascii: a lone surrogate travels as the escape \ud800, which json.loads decodes
    return json.dumps(params, ensure_ascii=True).encode()


def assert_quiet(caplog) -> None:
    """Nothing logged at ERROR, and no record carries a traceback."""
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not loud, [r.getMessage() for r in loud]


def assert_bad_parameter(response, name: str | None = None) -> None:
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == BAD_PARAMETER and body["data"] is None, body
    if name:
        assert name in body["msg"]


@pytest.fixture
def staff_token(client, ledger):
    add_user(ledger, "finance", STAFF_PW, role="staff")
    ledger.open_account(number="ACC001", name="主账户")
    return token_of(client, "finance", STAFF_PW)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("name", ["username", "password"])
def test_hostile_login_is_40001(client, name, value, caplog):
    params = {"username": "finance", "password": STAFF_PW, name: value}
    assert_bad_parameter(client.post("/v3/login", content=_json(params), headers=JSON), name)
    if "\ud800" not in value:  # a form cannot carry a lone surrogate
        assert_bad_parameter(client.post("/v3/login", data=params), name)
    assert_quiet(caplog)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_account_id_is_40001(client, staff_token, value, caplog):
    auth = {"Authorization": f"Bearer {staff_token}"}
    response = client.post(
        "/v3/accountlog", content=_json({"account_id": value}), headers={**JSON, **auth}
    )
    assert_bad_parameter(response, "account_id")
    if "\ud800" not in value:
        get = client.get("/v3/accountlog", params={"account_id": value}, headers=auth)
        assert_bad_parameter(get, "account_id")
    assert_quiet(caplog)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("path", ["/v3/accountlog", "/v3/logout"])
def test_hostile_token_parameter_is_40001(client, path, value, caplog):
    response = client.post(path, content=_json({"token": value}), headers=JSON)
    assert_bad_parameter(response, "token")
    assert_quiet(caplog)


def test_a_hostile_parameter_name_is_40001(client, caplog):
    response = client.post("/v3/login", content=_json({"user\ud800": "x"}), headers=JSON)
    assert_bad_parameter(response)
    assert_quiet(caplog)


def test_a_json_body_5000_levels_deep_is_40001(client, caplog):
    deep = b'{"username": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert_bad_parameter(client.post("/v3/login", content=deep, headers=JSON))
    assert_quiet(caplog)


def test_a_form_of_more_than_1000_fields_is_40001(client, staff_token, caplog):
    fields = {f"f{i}": "x" for i in range(1500)}
    form = client.post("/v3/accountlog", data={"token": staff_token, **fields})
    assert_bad_parameter(form)
    files = {"attachment": ("a.txt", b"x", "text/plain")}
    multipart = client.post("/v3/login", data={"username": "a", **fields}, files=files)
    # 1,500 multipart fields pass the body limit: refused before the form is parsed at all
    assert multipart.status_code == 413 and multipart.json()["code"] == 41301
    query = client.get("/v3/accountlog", params={"token": staff_token, **fields})
    assert_bad_parameter(query)
    assert_quiet(caplog)
