"""Error codes and the two response envelopes."""

from __future__ import annotations

import json

import pytest

from zhangben.shopex.wire.codes import (
    E_MESSAGES,
    REASON_CODES,
    SEED_MESSAGES,
    Reason,
    render_error,
    render_success,
    sign_mismatch_detail,
)


def test_seed_messages():
    assert SEED_MESSAGES == {
        0: "成功",
        1: "参数错误",
        400: "参数错误",
        401: "未授权访问",
        403: "禁止访问",
        500: "服务器内部错误",
        1001: "非法的flag",
        1002: "请求已过期",
        1003: "签名错误",
        1004: "不支持的type格式",
        2001: "缺少必要的参数",
        2002: "非法的请求参数",
        2003: "接口不存在",
        # not the seed's: zhangben's answer to a database outage (HTTP 503, Retry-After)
        503: "服务暂不可用,请稍后重试",
    }


def test_e_messages():
    assert E_MESSAGES["e000001"] == "system params lost or error"
    assert E_MESSAGES["e000002"] == "sign error"
    assert E_MESSAGES["e000009"] == "repeat request invalid"
    assert sorted(E_MESSAGES) == [f"e00000{i}" for i in range(1, 10)]


@pytest.mark.parametrize(
    ("reason", "seed", "ecode"),
    [
        (Reason.MISSING_PARAM, 2001, "e000001"),
        (Reason.BAD_SYSTEM_PARAM, 2002, "e000001"),
        (Reason.MISSING_APP_PARAM, 2001, "e000006"),
        (Reason.BAD_PARAM, 2002, "e000006"),
        (Reason.TIMESTAMP_OUT_OF_WINDOW, 1002, "e000008"),
        (Reason.UNKNOWN_FLAG, 1001, "e000002"),
        (Reason.SIGN_MISMATCH, 1003, "e000002"),
        (Reason.REPLAYED, 401, "e000009"),
        (Reason.UNKNOWN_METHOD, 2003, "e000003"),
        (Reason.FORBIDDEN, 403, "e000004"),
        (Reason.RATE_LIMITED, 403, "e000004"),
        (Reason.BAD_TYPE, 1004, "e000001"),
        (Reason.INTERNAL, 500, "e000005"),
    ],
)
def test_reason_codes(reason, seed, ecode):
    assert REASON_CODES[reason] == (seed, ecode)
    assert render_error(reason, "d", "seed") == {
        "code": seed,
        "msg": SEED_MESSAGES[seed],
        "sub_msg": "d",
    }
    shopex = render_error(reason, "d", "shopex")["error_response"]
    assert shopex["code"] == ecode and shopex["msg"] == E_MESSAGES[ecode]


def test_every_reason_mapped():
    assert set(REASON_CODES) == set(Reason)


def test_app_param_error_has_null_sub_msg_in_shopex_style():
    body = render_error(Reason.BAD_PARAM, "page_no must be > 0", "shopex")
    assert body == {
        "error_response": {"code": "e000006", "msg": "application params error", "sub_msg": None}
    }
    assert render_error(Reason.BAD_PARAM, "page_no must be > 0", "seed")["sub_msg"]


def test_render_success():
    data = {"count": 1, "lists": [{"a": "1"}]}
    assert render_success(data, "seed") == {"code": 0, "msg": "成功", **data}
    assert list(render_success(data, "seed"))[:2] == ["code", "msg"]
    assert render_success(data, "shopex") == {"response": data}
    assert render_success({}, "shopex") == {"response": []}


def test_unknown_style():
    with pytest.raises(ValueError):
        render_success({}, "xml")
    with pytest.raises(ValueError):
        render_error(Reason.INTERNAL, None, "xml")


def test_sign_mismatch_detail_is_valid_json():
    detail = sign_mismatch_detail("ABC", 'remark"引号"')
    assert json.loads(detail) == {"request_sign": "ABC", "assemble_str": 'remark"引号"'}
    assert "引号" in detail
