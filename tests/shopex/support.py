"""Helpers of the ShopEx tests: the endpoint, a signed call's parameters, a signing caller."""

from __future__ import annotations

import json
import secrets
import time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from zhangben.shopex.wire.signature import sign_params

SH = ZoneInfo("Asia/Shanghai")
ENDPOINT = "/index.php/openapi/rpc/service/"
RANGE = {"start_time": "2024-01-01 00:00:00", "end_time": "2024-02-01 00:00:00"}


def signed(flag: str, token: str, method: str, *, ts: Any = None, **app_params) -> dict:
    """System parameters (fresh timestamp, a nonce) plus ``app_params``, signed."""
    params = {
        "flag": flag,
        "method": method,
        "ver": "1",
        "charset": "utf-8",
        "type": "json",
        "timestamp": str(int(time.time())) if ts is None else ts,
        "nonce": secrets.token_hex(6),
        **app_params,
    }
    params["sign"] = sign_params(params, token)
    return params


def body(response) -> dict:
    assert response.headers["content-type"].startswith("application/json")
    return json.loads(response.content, parse_float=Decimal)


class Caller:
    """Signs and posts form-encoded calls through a test client."""

    def __init__(self, client, flag: str, token: str) -> None:
        self.client, self.flag, self.token = client, flag, token

    def params(self, method: str, **app_params) -> dict:
        return signed(self.flag, self.token, method, **app_params)

    def post(self, method: str, **app_params):
        return self.client.post(ENDPOINT, data=self.params(method, **app_params))

    def __call__(self, method: str, **app_params) -> dict:
        response = self.post(method, **app_params)
        assert response.status_code == 200
        return body(response)
