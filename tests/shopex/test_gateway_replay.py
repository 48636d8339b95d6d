"""The replay guard lives in the database: it holds across app instances and expires."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.shopex.support import ENDPOINT, body, signed
from zhangben.app import create_app
from zhangben.store.access_tables import replay_signs
from zhangben.store.engine import read_transaction

BAL = "finance.getAccountBalance"


def test_replay_refused_across_two_app_instances(settings, make_app, books):
    _, token = make_app("erp01")
    params = signed("erp01", token, BAL)
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        assert body(one.post(ENDPOINT, data=params))["code"] == 0
        assert body(two.post(ENDPOINT, data=params))["code"] == 401
        assert body(one.post(ENDPOINT, data=params))["code"] == 401


def test_the_sign_is_kept_past_the_window(erp, gateway, engine):
    params = erp.params(BAL)
    assert body(erp.client.post(ENDPOINT, data=params))["code"] == 0
    with read_transaction(engine) as conn:
        (row,) = conn.execute(replay_signs.select()).all()
    ts = datetime.fromtimestamp(int(params["timestamp"]), UTC)
    assert row.flag == "erp01" and row.sign == params["sign"]
    assert row.expires_at >= ts + timedelta(seconds=gateway.window_seconds)
