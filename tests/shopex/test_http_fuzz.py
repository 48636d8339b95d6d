"""Hypothesis over the signed gateway: hostile system and application parameters, unsigned
and validly signed, as a form, a query string, multipart or JSON, and bodies nested deep or
wide. No answer is a server error (HTTP 5xx, code 500 or e000005) and nothing is logged with
a traceback (issue 13). ``ZHANGBEN_FUZZ_EXAMPLES`` raises the example count."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.hostile import (
    assert_quiet,
    deep_json,
    form_body,
    fuzz_settings,
    json_body,
    texts,
    values,
)
from tests.shopex.support import ENDPOINT
from zhangben.access.integrators import grant
from zhangben.shopex.gateway import REGISTRY  # the gateway registers every method
from zhangben.shopex.wire.signature import sign_params
from zhangben.store.engine import run_write

SYSTEM = ("flag", "method", "sign", "timestamp", "type", "charset", "ver")
APP = (
    "account_id", "account_type", "shop_bn", "shop_code", "trans_type", "start_time",
    "end_time", "page_no", "page_size", "platform_type", "trade_start_time", "trade_end_time",
    "pay_serial_number", "account", "trade_type", "member_id", "account_no", "trade_no", "token",
    "max_entry_id",
)  # fmt: skip
METHODS = st.one_of(st.sampled_from(REGISTRY.names()), st.just("finance.nope"), texts)
ENCODINGS = st.sampled_from(["form", "query", "multipart", "json"])
names = st.one_of(st.sampled_from(APP), texts)


def _flat(params: dict[str, Any]) -> dict[str, str]:
    """What a form can carry: text (anything else as its JSON)."""
    return {k: v if isinstance(v, str) else json.dumps(v, default=str) for k, v in params.items()}


def _multipart(params: dict[str, str]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(8)
    parts = []
    for key, value in params.items():
        name = key.replace('"', "%22").replace("\r", "").replace("\n", "")
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(head.encode("utf-8", "surrogatepass"))
        parts.append(value.encode("utf-8", "surrogatepass") + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def send(client, params: dict[str, Any], encoding: str):
    if encoding == "json":
        headers = {"content-type": "application/json"}
        return client.post(ENDPOINT, content=json_body(params), headers=headers)
    flat = _flat(params)
    if encoding == "query" and len(form_body(flat)) < 8000:  # longer: httpx refuses the URL
        return client.get(ENDPOINT + "?" + form_body(flat).decode())
    if encoding == "multipart":
        content, ctype = _multipart(flat)
        return client.post(ENDPOINT, content=content, headers={"content-type": ctype})
    form = {"content-type": "application/x-www-form-urlencoded"}
    return client.post(ENDPOINT, content=form_body(flat), headers=form)


def check(response) -> dict:
    """An answer of the gateway's own, never a server error."""
    assert response.status_code in (200, 429), response.text[:300]
    data = json.loads(response.content)
    if "response" in data:  # a success in the shopex style
        return data
    code = data["code"] if "code" in data else data["error_response"]["code"]
    assert code not in (500, "e000005"), data
    return data


@fuzz_settings
@given(
    system=st.dictionaries(st.sampled_from(SYSTEM), values, max_size=7),
    extra=st.dictionaries(names, values, max_size=4),
    encoding=ENCODINGS,
)
def test_unsigned_requests(erp, caplog, system, extra, encoding):
    check(send(erp.client, {**extra, **system}, encoding))
    assert_quiet(caplog)


@fuzz_settings
@given(
    method=METHODS,
    params=st.dictionaries(names, values, max_size=5),
    encoding=ENCODINGS,
    style=st.sampled_from(["seed", "shopex"]),
)
def test_signed_requests(erp, engine, caplog, method, params, encoding, style):
    run_write(engine, lambda c: grant(c, "erp01", response_style=style))
    erp.client.app.state.shopex_gateway.apps.clear()
    call = {
        **params,
        "flag": "erp01",
        "method": method,
        "ver": "1",
        "charset": "utf-8",
        "type": "json",
        "timestamp": str(int(time.time())),
        "nonce": secrets.token_hex(6),
    }
    if encoding != "json":
        call = _flat(call)
    call["sign"] = sign_params(call, erp.token)
    check(send(erp.client, call, encoding))
    assert_quiet(caplog)


@fuzz_settings
@given(
    depth=st.integers(min_value=1, max_value=20_000),
    fields=st.integers(min_value=0, max_value=2_500),
    encoding=ENCODINGS,
)
def test_deep_and_wide_bodies(client, caplog, depth, fields, encoding):
    deep = client.post(
        ENDPOINT, content=deep_json(depth), headers={"content-type": "application/json"}
    )
    check(deep)
    wide = {f"f{i}": "x" for i in range(fields)}
    check(send(client, {"flag": "erp01", "method": "finance.x", **wide}, encoding))
    assert_quiet(caplog)
