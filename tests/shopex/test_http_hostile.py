"""Hostile text never reaches the database driver: a NUL, a lone surrogate or an overlong
value in a system or application parameter, a JSON body nested thousands deep, a form of
more than 1,000 fields. Each is the gateway's parameter error (2002, or e000006 in the
shopex style once the sign is verified), never a 500, and nothing is logged with a traceback
(issue 13, point 7)."""

from __future__ import annotations

import json
import logging

import pytest

from tests.shopex.support import ENDPOINT, RANGE, body, signed
from zhangben.access.integrators import grant
from zhangben.store.engine import run_write

BAL = "finance.getAccountBalance"
TX = "finance.getTransactionList"
HOSTILE = {
    "nul": "ACC\x00001",
    "lone surrogate": "ACC\ud800",
    "overlong": "A" * 5000,
}
JSON = {"content-type": "application/json"}


def _json(params: dict) -> bytes:
    # ensure_ascii: a lone surrogate travels as the escape \ud800, which json.loads decodes
    return json.dumps(params, ensure_ascii=True).encode()


def assert_quiet(caplog) -> None:
    """Nothing logged at ERROR, and no record carries a traceback."""
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not loud, [r.getMessage() for r in loud]


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_flag_without_credentials_is_2002(client, value, caplog):
    params = {
        "flag": value,
        "method": BAL,
        "timestamp": "1764000000",
        "sign": "0" * 32,
        "type": "json",
    }
    data = body(client.post(ENDPOINT, content=_json(params), headers=JSON))
    assert data["code"] == 2002 and data["msg"] == "非法的请求参数"
    assert "flag" in data["sub_msg"]
    assert_quiet(caplog)


@pytest.mark.parametrize("name", ["method", "sign", "timestamp"])
@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_system_parameter_is_2002(erp, name, value, caplog):
    params = {**erp.params(BAL), name: value}
    data = body(erp.client.post(ENDPOINT, content=_json(params), headers=JSON))
    assert data["code"] == 2002 and name in data["sub_msg"]
    assert_quiet(caplog)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize(
    ("method", "name"),
    [
        (BAL, "account_id"),
        (BAL, "shop_bn"),
        (BAL, "account_type"),
        (TX, "account_id"),
        (TX, "shop_code"),
        (TX, "trans_type"),
        (TX, "start_time"),
    ],
)
def test_hostile_application_parameter_is_2002(erp, method, name, value, caplog):
    params = signed(erp.flag, erp.token, method, **{**RANGE, name: value})
    data = body(erp.client.post(ENDPOINT, content=_json(params), headers=JSON))
    assert data["code"] == 2002, data
    assert name in data["sub_msg"]
    assert_quiet(caplog)


def test_a_nul_in_a_form_or_query_string_is_2002(erp, caplog):
    params = erp.params(BAL, account_id="ACC\x00001")
    assert body(erp.client.post(ENDPOINT, data=params))["code"] == 2002
    params = erp.params(BAL, shop_bn="S001\x00")
    assert body(erp.client.get(ENDPOINT, params=params))["code"] == 2002
    unsigned = {"flag": "erp\x0001", "method": BAL, "timestamp": "1", "sign": "A" * 32}
    assert body(erp.client.post(ENDPOINT, data=unsigned))["code"] == 2002
    assert_quiet(caplog)


def test_the_shopex_style_answers_e000006_once_the_sign_is_verified(erp, engine, caplog):
    run_write(engine, lambda c: grant(c, "erp01", response_style="shopex"))
    system = {**erp.params(BAL), "timestamp": "1\x00"}  # before the sign: the seed style
    data = body(erp.client.post(ENDPOINT, content=_json(system), headers=JSON))
    assert data["code"] == 2002
    app = signed(erp.flag, erp.token, BAL, account_id="\ud800")
    data = body(erp.client.post(ENDPOINT, content=_json(app), headers=JSON))
    assert data["error_response"] == {
        "code": "e000006",
        "msg": "application params error",
        "sub_msg": None,
    }
    assert_quiet(caplog)


def test_a_json_body_5000_levels_deep_is_2002(client, caplog):
    deep = b'{"flag": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    data = body(client.post(ENDPOINT, content=deep, headers=JSON))
    assert data["code"] == 2002
    assert_quiet(caplog)


def test_a_json_body_deep_but_parseable_is_2002(erp, caplog):
    """Deep enough to parse, too deep to sign or read: refused before either."""
    nested: object = "x"
    for _ in range(900):
        nested = {"a": nested}
    params = {**erp.params(BAL), "filter": nested}
    data = body(erp.client.post(ENDPOINT, content=_json(params), headers=JSON))
    assert data["code"] == 2002
    assert_quiet(caplog)


def test_a_form_of_more_than_1000_fields_is_2002(erp, caplog):
    fields = {f"f{i}": "x" for i in range(1500)}
    form = body(erp.client.post(ENDPOINT, data={**erp.params(BAL), **fields}))
    assert form["code"] == 2002
    files = {"attachment": ("a.txt", b"x", "text/plain")}
    multipart = erp.client.post(ENDPOINT, data={**erp.params(BAL), **fields}, files=files)
    assert body(multipart)["code"] == 2002
    query = body(erp.client.get(ENDPOINT, params={**erp.params(BAL), **fields}))
    assert query["code"] == 2002
    assert_quiet(caplog)


def test_a_sign_error_echoing_a_lone_surrogate_is_valid_json(erp, caplog):
    """The server's concatenation in a 1003 holds every parameter as sent: a lone surrogate
    is written as the JSON escape it came in as, not a 500 (found by tests/shopex/
    test_http_fuzz.py)."""
    params = {**erp.params(BAL), "remark": "收款\ud800", "sign": "A" * 32}
    response = erp.client.post(ENDPOINT, content=_json(params), headers=JSON)
    assert response.status_code == 200 and b"\\ud800" in response.content
    data = json.loads(response.content)
    assert data["code"] == 1003
    assert "remark收款\ud800" in json.loads(data["sub_msg"])["assemble_str"]
    assert_quiet(caplog)
