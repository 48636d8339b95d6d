"""A database outage while the app runs: every surface answers 503 with Retry-After in its own
format, the log has one line per failure class and no stack trace, and the app recovers when
the database is back, without a restart. (The same against a live server and a PostgreSQL
stopped with ``pg_ctl stop -m immediate``: tests/reliability/test_database_restart.py.)"""

from __future__ import annotations

import json
import logging

import pytest

from tests.shopex.support import ENDPOINT, signed
from tests.web.conftest import PASSWORD
from tests.web.support import database_down


@pytest.fixture(autouse=True)
def fresh_outage_log():
    """Each test starts with the outage log quiet (it logs once per class and minute)."""
    from zhangben.web import outage

    outage.reset()
    yield
    outage.reset()


def _calls(client, key, flag, token):
    """One request per surface (and the readiness check), each needing the database."""
    return {
        "rest": client.get("/api/v1/balances", headers={"Authorization": f"Bearer {key}"}),
        "rest-write": client.post(
            "/api/v1/accounts",
            json={"number": "ACC009", "name": "新账户"},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "open-acc009"},
        ),
        "shopex": client.post(ENDPOINT, data=signed(flag, token, "finance.getAccountBalance")),
        "yichuan": client.post("/v3/login", data={"username": "finance", "password": PASSWORD}),
        "ready": client.get("/readyz"),
    }


def test_every_surface_answers_503_while_the_database_is_down(
    client, engine, make_key, shopex_app, user, caplog
):
    key = make_key()
    flag, token = shopex_app
    caplog.set_level(logging.INFO, logger="zhangben")
    with database_down(engine):
        answers = [_calls(client, key, flag, token) for _ in range(5)]
        alive = client.get("/healthz")  # liveness needs no database
    assert alive.status_code == 200 and alive.json()["status"] == "ok"
    for round_ in answers:
        for name, r in round_.items():
            assert r.status_code == 503, (name, r.status_code, r.text)
            assert int(r.headers["Retry-After"]) >= 1, name
        problem = round_["rest"].json()
        assert round_["rest"].headers["content-type"] == "application/problem+json"
        assert problem["code"] == "unavailable" and problem["status"] == 503
        assert round_["rest-write"].json()["code"] == "unavailable"
        assert json.loads(round_["shopex"].content)["code"] == 503
        envelope = round_["yichuan"].json()
        assert envelope["code"] == 50300 and envelope["data"] is None
        ready = round_["ready"].json()
        assert ready["status"] == "unavailable" and ready["checks"]["database"].startswith(
            "unavailable: "
        )
    # 25 refused requests: a few lines (one per failure class), never a stack trace
    zhangben_records = [r for r in caplog.records if r.name.startswith("zhangben")]
    assert all(r.exc_info is None and r.levelno < logging.ERROR for r in zhangben_records)
    outage_lines = [r for r in zhangben_records if r.name == "zhangben.outage"]
    assert 1 <= len(outage_lines) <= 3, [r.getMessage() for r in outage_lines]
    classes = {r.getMessage().split("(")[1].split(")")[0] for r in outage_lines}
    assert len(classes) == len(outage_lines)
    # back without a restart: the same calls succeed (the write was never applied)
    for _ in range(3):  # a pooled connection may still be the dead one's
        recovered = _calls(client, key, flag, token)
        if all(r.status_code < 500 for r in recovered.values()):
            break
    assert {n: r.status_code for n, r in recovered.items()} == {
        "rest": 200,
        "rest-write": 201,
        "shopex": 200,
        "yichuan": 200,
        "ready": 200,
    }
    assert json.loads(recovered["shopex"].content)["code"] == 0
    assert recovered["yichuan"].json()["code"] == 0
