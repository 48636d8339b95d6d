"""Request encodings: form (flat and PHP-nested), multipart, JSON, GET; every path; a client
that builds its body as PHP's http_build_query does, token among the signed fields."""

import json
from decimal import Decimal
from urllib.parse import quote_plus, urlencode

import pytest

from tests.shopex.support import ENDPOINT, RANGE, body
from zhangben.sdk.shopex import build_request
from zhangben.shopex.wire.signature import sign_params

BAL = "finance.getAccountBalance"
TX = "finance.getTransactionList"
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    "path",
    [
        "/index.php/openapi/rpc/service/",
        "/index.php/openapi/rpc/service",
        "/openapi/rpc/service/",
        "/openapi/rpc/service",
    ],
)
def test_every_path_answers_post_and_get(erp, path):
    response = erp.client.post(path, data=erp.params(BAL, account_id="ACC001"))
    assert response.status_code == 200 and body(response)["code"] == 0
    response = erp.client.get(path, params=erp.params(BAL, account_id="ACC001"))
    assert response.status_code == 200 and body(response)["accounts"][0]["account_id"] == "ACC001"


def test_get_query_string_with_encoded_specials(erp):
    params = erp.params(TX, **RANGE, remark="销售收款 & 退款+1", shop_bn="S001#S002")
    response = erp.client.get(ENDPOINT + "?" + urlencode(params))
    assert body(response)["count"] == 5


def test_nested_form_fields_are_signed_php_style(erp):
    extra = {"filter": {"b": "2", "a": ["x", "y"]}, "tags": ["t0", "t1"]}
    content = build_request("erp01", erp.token, BAL, {**extra, "account_id": "ACC002"})
    assert b"filter%5Ba%5D%5B0%5D=x" in content
    response = erp.client.post(ENDPOINT, content=content, headers=FORM)
    data = body(response)
    assert data["code"] == 0 and data["accounts"][0]["account_id"] == "ACC002"


def test_multipart_body(erp):
    params = erp.params(BAL, account_id="ACC001")
    response = erp.client.post(
        ENDPOINT, data=params, files={"attachment": ("a.txt", b"ignored", "text/plain")}
    )
    assert body(response)["accounts"][0]["balance"] == Decimal("10000.00")


def test_json_body_with_numbers(erp):
    params = {
        "flag": "erp01",
        "method": TX,
        "ver": 1,
        "charset": "utf-8",
        "type": "json",
        "timestamp": int(erp.params(BAL)["timestamp"]),
        "page_no": 1,
        "page_size": Decimal("20.0"),
        "hint": Decimal("10000.00"),
        "strict": True,
        "nothing": None,
        **RANGE,
    }
    params["sign"] = sign_params(params, erp.token)  # 20.0 → "20", 10000.00 → "10000", True → "1"
    text = json.dumps({k: (float(v) if isinstance(v, Decimal) else v) for k, v in params.items()})
    assert '"hint": 10000.0' in text
    response = erp.client.post(ENDPOINT, content=text, headers={"content-type": "application/json"})
    data = body(response)
    assert data["code"] == 0 and data["count"] == 7 and len(data["lists"]) == 7


def test_post_without_body_reads_the_query_string(erp):
    response = erp.client.post(ENDPOINT + "?" + urlencode(erp.params(BAL)))
    assert body(response)["code"] == 0


def test_json_body_must_be_an_object(erp):
    response = erp.client.post(
        ENDPOINT, content=b"[1]", headers={"content-type": "application/json"}
    )
    assert body(response)["code"] == 2002


# -- a PHP client -------------------------------------------------------------------------------


def http_build_query(data: dict, prefix: str = "") -> str:
    """PHP's http_build_query (PHP_QUERY_RFC1738: spaces as '+', brackets encoded)."""
    parts = []
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            parts.append(http_build_query(value, name))
        elif isinstance(value, list):
            parts.append(http_build_query(dict(enumerate(value)), name))
        elif value is not None:
            text = {True: "1", False: "0"}.get(value, value) if isinstance(value, bool) else value
            parts.append(quote_plus(name) + "=" + quote_plus(str(text)))
    return "&".join(p for p in parts if p)


def php_client_body(token: str, method: str, timestamp: str, **app_params) -> str:
    """As public PHP clients do: the token sits in the signed array and is POSTed too."""
    params = {
        "method": method,
        "flag": "erp01",
        "type": "json",
        "charset": "utf-8",
        "ver": "1",
        "timestamp": timestamp,
        "token": token,
        **app_params,
    }
    params["sign"] = sign_params(params, token)
    return http_build_query(params)


def test_php_client_with_token_in_the_signed_params(erp):
    ts = erp.params(BAL)["timestamp"]
    content = php_client_body(
        erp.token,
        TX,
        ts,
        start_time=RANGE["start_time"],
        end_time=RANGE["end_time"],
        shop_bn="S001#S002",
        filter={"remark": "销售 收款"},
        page_no=1,
        page_size=100,
    )
    assert "start_time=2024-01-01+00%3A00%3A00" in content and "filter%5Bremark%5D=" in content
    response = erp.client.post(ENDPOINT, content=content, headers=FORM)
    data = body(response)
    assert data["code"] == 0 and data["count"] == 5
    assert erp.token.encode() not in response.content


def test_php_client_sign_mismatch_never_echoes_the_token(erp):
    ts = erp.params(BAL)["timestamp"]
    content = php_client_body(erp.token, BAL, ts).replace("sign=", "sign=00")
    response = erp.client.post(ENDPOINT, content=content, headers=FORM)
    data = body(response)
    assert data["code"] == 1003
    assert "token******" in json.loads(data["sub_msg"])["assemble_str"]
    assert erp.token.encode() not in response.content
