"""Every request observed once: a request id (the caller's ``X-Request-ID`` when it is fit,
else a new one) in every response, also refusals before any surface runs; and, with
``ZHANGBEN_LOG_FORMAT=json``, one JSON line per request naming surface, method, status,
latency, request id and who called, never a credential. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from tests.api.support import bearer
from tests.shopex.support import ENDPOINT, signed
from tests.web.conftest import PASSWORD
from tests.web.support import database_down
from tests.yichuan.support import cheap_argon2  # noqa: F401 - autouse
from zhangben.access.service import Access
from zhangben.app import create_app
from zhangben.web.logs import JsonFormatter

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_client(settings, ledger):
    with TestClient(create_app(settings.model_copy(update={"log_format": "json"}), ledger)) as c:
        yield c


@pytest.fixture
def json_log():
    """The ``zhangben`` log as ``zhangben serve`` writes it with ZHANGBEN_LOG_FORMAT=json:
    returns the lines so far, each parsed (every line must be JSON)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("zhangben")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(previous)


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "zhangben.request"]


@pytest.mark.parametrize(
    "given", ["abc-123", "0f8c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f", "trace:1/2+x=y@z", "x" * 128]
)
def test_a_fit_request_id_is_kept(client, given):
    r = client.get("/healthz", headers={"X-Request-ID": given})
    assert r.headers["X-Request-ID"] == given


@pytest.mark.parametrize(
    "given", ["", "x" * 129, "has space", "semi;colon", 'quote"d', "new\nline", "ümlaut", "<b>"]
)
def test_an_unfit_request_id_is_replaced(client, given):
    r = client.get("/healthz", headers=[("X-Request-ID", given.encode("utf-8"))])
    assert GENERATED.fullmatch(r.headers["X-Request-ID"])


def test_every_answer_has_its_own_request_id(client, engine):
    """Each surface, the router's 404 and a body refused before any surface runs."""
    answers = [
        client.get("/healthz"),
        client.get("/api/v1/accounts"),  # 401
        client.get("/nowhere"),  # 404
        client.post(ENDPOINT, data={"flag": "x"}),
        client.get("/v3/me"),
        client.post("/api/v1/transfers", content=b"x" * (2 << 20)),  # 413
    ]
    with database_down(engine):
        answers.append(client.get("/readyz"))  # 503
    ids = [r.headers["X-Request-ID"] for r in answers]
    assert all(GENERATED.fullmatch(i) for i in ids) and len(set(ids)) == len(ids)
    assert [r.status_code for r in answers][-2:] == [413, 503]


def test_one_json_line_per_request(json_client, make_key, shopex_app, user, ledger, json_log):
    flag, token = shopex_app
    key = make_key()
    key_id = Access(ledger).authenticate_key(key).id
    headers = {**bearer(key), "X-Request-ID": "rest-1"}
    json_client.get("/api/v1/accounts", headers=headers)
    json_client.post(
        ENDPOINT,
        data=signed(flag, token, "finance.getAccountBalance"),
        headers={"X-Request-ID": "shopex-1"},
    )
    json_client.post(
        "/v3/login",
        data={"username": "finance", "password": PASSWORD},
        headers={"X-Request-ID": "yichuan-1"},
    )
    json_client.post("/v3/login", data={"username": "finance", "password": "wrong-" + PASSWORD})
    json_client.get("/healthz", headers={"X-Request-ID": "health-1"})
    every = json_log()
    lines = request_lines(every)
    assert len(lines) == 5
    by_id = {line["request_id"]: line for line in lines}
    for line in lines:
        assert line["logger"] == "zhangben.request" and line["level"] == "INFO"
        assert isinstance(line["latency_ms"], float) and 0 <= line["latency_ms"] < 60_000
        assert {"surface", "method", "status", "time", "pid", "message"} <= set(line)
    rest = by_id["rest-1"]
    assert (rest["surface"], rest["method"], rest["status"]) == (
        "rest",
        "GET /api/v1/accounts",
        200,
    )
    assert rest["key_id"] == key_id
    shopex = by_id["shopex-1"]
    assert (shopex["surface"], shopex["method"], shopex["status"]) == (
        "shopex",
        "finance.getAccountBalance",
        200,
    )
    assert (shopex["flag"], shopex["code"]) == (flag, 0)
    yichuan = by_id["yichuan-1"]
    assert (yichuan["surface"], yichuan["method"], yichuan["username"]) == (
        "yichuan",
        "POST /v3/login",
        "finance",
    )
    failed = next(
        line for line in lines if line["method"] == "POST /v3/login" and line is not yichuan
    )
    assert "username" not in failed  # only a user who proved who they are is named
    assert by_id["health-1"]["surface"] == "service"
    # the ShopEx text line is left out: the request line says it all
    assert len(every) == len(lines)
    text = "\n".join(json.dumps(line) for line in every)
    for secret in (key, token, PASSWORD):
        assert secret not in text


def test_a_rest_session_names_its_user(json_client, make_session, json_log):
    session, _ = make_session("merchant1")
    json_client.get("/api/v1/accounts", headers=bearer(session))
    [line] = request_lines(json_log())
    assert line["username"] == "merchant1" and "key_id" not in line


def test_lines_written_during_a_request_carry_its_id(json_client, engine, make_key, json_log):
    from zhangben.web import outage

    outage.reset()
    key = make_key()
    with database_down(engine):
        json_client.get("/api/v1/balances", headers={**bearer(key), "X-Request-ID": "down-1"})
    outage.reset()
    lines = json_log()
    [warning] = [line for line in lines if line["logger"] == "zhangben.outage"]
    assert warning["request_id"] == "down-1" and warning["level"] == "WARNING"
    [line] = request_lines(lines)
    assert (line["request_id"], line["status"]) == ("down-1", 503)


def test_text_format_has_no_request_lines(client, shopex_app, caplog):
    caplog.set_level(logging.INFO, logger="zhangben")
    flag, token = shopex_app
    client.post(ENDPOINT, data=signed(flag, token, "finance.getAccountBalance"))
    assert not [r for r in caplog.records if r.name == "zhangben.request"]
    assert [r for r in caplog.records if r.name == "zhangben.shopex"]  # as before
