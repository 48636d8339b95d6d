"""Every error code of the gateway, and the order in which the checks run."""

import json
import time

import pytest
from fastapi.testclient import TestClient

from tests.shopex.support import ENDPOINT, RANGE, body, signed
from zhangben.access.integrators import grant, set_enabled
from zhangben.store.engine import run_write

BAL = "finance.getAccountBalance"
TX = "finance.getTransactionList"


def post(client, params):
    return body(client.post(ENDPOINT, data=params))


@pytest.mark.parametrize("name", ["flag", "method", "sign", "timestamp"])
def test_missing_system_param_is_2001(erp, name):
    params = erp.params(BAL)
    del params[name]
    data = post(erp.client, params)
    assert data["code"] == 2001 and data["msg"] == "缺少必要的参数"
    assert name in data["sub_msg"]


def test_php_empty_values_count_as_missing(erp):
    for value in ("", "0"):
        data = post(erp.client, {**erp.params(BAL), "flag": value})
        assert data["code"] == 2001


def test_method_without_class_part_is_2002(erp):
    data = post(erp.client, signed("erp01", erp.token, "getAccountBalance"))
    assert data["code"] == 2002


def test_expired_timestamp_beats_a_bad_sign(erp):
    params = {**erp.params(BAL, ts="1000000000"), "sign": "0" * 32}
    data = post(erp.client, params)
    assert data["code"] == 1002 and data["msg"] == "请求已过期"


def _without_flag(data: dict) -> dict:
    """A sign-mismatch answer with the flag's name taken out of the server's concatenation."""
    detail = json.loads(data["sub_msg"])
    concat = detail["assemble_str"]
    start = concat.index("flag") + len("flag")
    detail["assemble_str"] = concat[:start] + concat[concat.index("method", start) :]
    return {**data, "sub_msg": detail}


def test_an_unknown_flag_answers_exactly_like_a_known_flag_with_a_bad_sign(erp):
    """Nothing tells an unknown flag from a known one without its token (issue 13, point 10):
    both are 1003 with the same detail, after the same timestamp check."""
    ts, sign = str(int(time.time())), "A" * 32
    same = {"ts": ts, "nonce": "n1"}
    unknown = erp.client.post(ENDPOINT, data={**signed("nobody", "x", BAL, **same), "sign": sign})
    known = erp.client.post(ENDPOINT, data={**signed("erp01", "x", BAL, **same), "sign": sign})
    assert unknown.status_code == known.status_code == 200
    assert unknown.headers["content-type"] == known.headers["content-type"]
    assert body(unknown)["code"] == 1003 and body(unknown)["msg"] == "签名错误"
    assert _without_flag(body(unknown)) == _without_flag(body(known))
    assert post(erp.client, signed("nobody", "x", BAL, ts="1000000000"))["code"] == 1002


def test_bad_sign_on_unknown_method_is_1003_with_the_server_concatenation(erp):
    params = {**erp.params("finance.nope"), "sign": "0123456789ABCDEF0123456789ABCDEF"}
    data = post(erp.client, params)
    assert data["code"] == 1003 and data["msg"] == "签名错误"
    detail = json.loads(data["sub_msg"])
    assert detail["request_sign"] == "0123456789ABCDEF0123456789ABCDEF"
    assert detail["assemble_str"].startswith("charsetutf-8flagerp01methodfinance.nope")
    assert erp.token not in data["sub_msg"]


def test_lowercase_sign_is_a_mismatch(erp):
    params = erp.params(BAL)
    params["sign"] = params["sign"].lower()
    assert post(erp.client, params)["code"] == 1003


def test_replayed_sign_is_401(erp):
    params = erp.params(BAL)
    assert post(erp.client, params)["code"] == 0
    data = post(erp.client, params)
    assert data["code"] == 401 and "already used" in data["sub_msg"]


def test_a_sign_is_used_up_even_when_a_later_check_fails(erp):
    params = erp.params("finance.nope")
    assert post(erp.client, params)["code"] == 2003
    assert post(erp.client, params)["code"] == 401


def test_disabled_flag_refused_after_sign_and_replay(erp, engine):
    params = erp.params(BAL)
    run_write(engine, lambda c: set_enabled(c, "erp01", False))
    data = post(erp.client, params)
    assert data["code"] == 1001 and "disabled" in data["sub_msg"]
    assert post(erp.client, params)["code"] == 401  # replay is checked before enablement
    bad = {**erp.params(BAL), "sign": "F" * 32}
    assert post(erp.client, bad)["code"] == 1003  # the token still counts


def test_unknown_method_is_2003(erp):
    data = post(erp.client, erp.params("finance.getNothing"))
    assert data["code"] == 2003 and data["msg"] == "接口不存在"


def test_method_not_granted_is_403(erp, engine):
    run_write(engine, lambda c: grant(c, "erp01", methods=[TX]))
    data = erp(BAL)
    assert data["code"] == 403 and BAL in data["sub_msg"]
    assert erp(TX, **RANGE)["code"] == 0


def test_class_wildcard_grant(erp, engine):
    run_write(engine, lambda c: grant(c, "erp01", methods=["finance.*"]))
    assert erp(BAL)["code"] == 0


def test_ip_allow_list(erp, engine, client):
    run_write(engine, lambda c: grant(c, "erp01", ip_allow=["10.1.0.0/16"]))
    data = erp(BAL)  # the test client's address is not an IP in the list
    assert data["code"] == 403 and "not allowed" in data["sub_msg"]
    with TestClient(client.app, client=("10.1.2.3", 4000)) as inside:
        assert post(inside, erp.params(BAL))["code"] == 0
    with TestClient(client.app, client=("10.2.0.1", 4000)) as outside:
        assert post(outside, erp.params(BAL))["code"] == 403


@pytest.mark.usefixtures("same_minute")
def test_rate_limit_answers_429_with_retry_after(erp, engine):
    run_write(engine, lambda c: grant(c, "erp01", rate_limit_per_minute=2))
    assert erp(BAL)["code"] == 0
    assert erp(BAL)["code"] == 0
    response = erp.post(BAL)
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60
    data = body(response)
    assert data["code"] == 403 and "rate limit" in data["sub_msg"]


def test_type_other_than_json_is_1004(erp):
    data = post(erp.client, signed("erp01", erp.token, BAL, type="xml"))
    assert data["code"] == 1004 and data["msg"] == "不支持的type格式"


def test_charset_other_than_utf8_is_2002(erp):
    assert post(erp.client, signed("erp01", erp.token, BAL, charset="gbk"))["code"] == 2002


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"end_time": "2024-02-01 00:00:00"}, 2001),
        ({"start_time": "2024-01-01 00:00:00"}, 2001),
        ({"start_time": "2024/01/01", "end_time": "2024-02-01 00:00:00"}, 2002),
        ({"start_time": "2024-02-01 00:00:00", "end_time": "2024-01-01 00:00:00"}, 2002),
        ({**RANGE, "page_no": "0"}, 2002),
        ({**RANGE, "page_no": "-1"}, 2002),
        ({**RANGE, "page_no": "abc"}, 2002),
        ({**RANGE, "page_size": "ten"}, 2002),
        ({**RANGE, "trans_type": "gift"}, 2002),
    ],
)
def test_application_params(erp, params, code):
    data = erp(TX, **params)
    assert data["code"] == code and data["sub_msg"]


def test_a_map_where_a_value_belongs_is_2002(erp):
    params = signed("erp01", erp.token, TX, **RANGE, account_id={"x": "ACC001"})
    response = erp.client.post(ENDPOINT, json=params)
    assert body(response)["code"] == 2002


def test_internal_error_is_500_without_details(erp, gateway, monkeypatch, caplog):
    def boom(ctx, params):
        raise RuntimeError("secret internals")

    monkeypatch.setitem(gateway.registry._handlers, "test.boom", boom)
    data = erp("test.boom")
    assert data == {"code": 500, "msg": "服务器内部错误", "sub_msg": "internal error"}
    assert "RuntimeError" in caplog.text


def test_malformed_json_body_is_2002(erp):
    response = erp.client.post(
        ENDPOINT, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 200 and body(response)["code"] == 2002


def test_empty_request_is_2001(client):
    assert body(client.post(ENDPOINT))["code"] == 2001
    assert body(client.get(ENDPOINT))["code"] == 2001


# -- the original's envelopes and e-codes ----------------------------------------------------


@pytest.fixture
def shopex_erp(erp, engine):
    run_write(engine, lambda c: grant(c, "erp01", response_style="shopex"))
    return erp


def _e(data):
    return data["error_response"]["code"], data["error_response"]["sub_msg"]


def test_shopex_style_error_codes_once_the_sign_is_verified(shopex_erp, engine):
    erp = shopex_erp
    params = erp.params(BAL)
    assert "response" in post(erp.client, params)
    assert _e(post(erp.client, params))[0] == "e000009"
    assert _e(erp("finance.nope"))[0] == "e000003"
    assert _e(erp(TX, start_time="bad", end_time="bad")) == ("e000006", None)
    run_write(engine, lambda c: grant(c, "erp01", methods=[TX]))
    assert _e(erp(BAL))[0] == "e000004"
    run_write(engine, lambda c: set_enabled(c, "erp01", False))
    assert _e(erp(TX, **RANGE))[0] == "e000004"  # the original: disabled → no permission


def test_shopex_style_is_not_recognisable_before_the_sign_is_verified(shopex_erp):
    """Until the sign is verified an app of the shopex style answers in the default style,
    like an unknown flag: its style would tell that the flag exists (issue 13, point 10)."""
    erp = shopex_erp
    missing = erp.params(BAL)
    del missing["sign"]
    assert post(erp.client, missing)["code"] == 2001
    assert post(erp.client, {**erp.params(BAL), "flag": "erp01\x00"})["code"] == 2002
    assert erp(BAL, ts="1000000000")["code"] == 1002
    data = post(erp.client, {**erp.params(BAL), "sign": "A" * 32})
    assert data["code"] == 1003 and json.loads(data["sub_msg"])["request_sign"] == "A" * 32
    assert post(erp.client, signed("nobody", "x", BAL))["code"] == 1003
