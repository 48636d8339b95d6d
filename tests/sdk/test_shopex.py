"""The ShopEx SDK against a mock server that checks every sign the way the original does."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from urllib.parse import parse_qsl

import httpx
import pytest

from zhangben.sdk import (
    AsyncShopexClient,
    InvalidParams,
    PermissionDenied,
    ReplayError,
    ServerError,
    ShopexClient,
    ShopexError,
    SignatureError,
    TimestampError,
    UnknownFlag,
    UnknownMethod,
)
from zhangben.shopex.wire.forms import parse_php_fields
from zhangben.shopex.wire.numbers import dumps
from zhangben.shopex.wire.signature import concat_params, verify_sign

TOKEN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"


class MockServer:
    """Verifies the request like the original, then answers a canned body."""

    def __init__(self, answer: bytes | None = None, status: int = 200) -> None:
        self.answer = answer
        self.status = status
        self.received: list[dict] = []
        self.raw: list[bytes] = []
        self.seen_signs: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path == "/index.php/openapi/rpc/service/"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        body = request.read()
        self.raw.append(body)
        params = parse_php_fields(parse_qsl(body.decode("ascii"), keep_blank_values=True))
        self.received.append(params)
        sign = params.get("sign")
        if not verify_sign(params, TOKEN, sign):
            detail = {"request_sign": sign, "assemble_str": concat_params(params)}
            return httpx.Response(
                200,
                json={
                    "error_response": {"code": "e000002", "msg": "sign error", "sub_msg": detail}
                },
            )
        if sign in self.seen_signs:
            return httpx.Response(
                200,
                json={
                    "error_response": {
                        "code": "e000009",
                        "msg": "repeat request invalid",
                        "sub_msg": None,
                    }
                },
            )
        self.seen_signs.add(sign)
        if self.answer is None:
            return httpx.Response(
                200,
                content=dumps(
                    {
                        "code": 0,
                        "msg": "成功",
                        "echo": {k: v for k, v in params.items() if k != "sign"},
                    }
                ),
            )
        return httpx.Response(self.status, content=self.answer)


def client_for(server: MockServer, token: str = TOKEN) -> ShopexClient:
    return ShopexClient(
        "https://erp.example.com", "erp01", token, transport=httpx.MockTransport(server)
    )


def test_call_adds_system_params_and_signs():
    server = MockServer()
    with client_for(server) as client:
        data = client.call("finance.getTransactionList", account_id="ACC001", page_no=2)
    echo = data["echo"]
    assert echo["flag"] == "erp01" and echo["method"] == "finance.getTransactionList"
    assert (echo["ver"], echo["charset"], echo["type"]) == ("1", "utf-8", "json")
    assert abs(int(echo["timestamp"]) - time.time()) < 5
    assert len(echo["nonce"]) >= 16
    assert echo["account_id"] == "ACC001" and echo["page_no"] == "2"
    assert "code" not in data and "msg" not in data
    assert TOKEN.encode() not in server.raw[0]  # the token never travels
    assert "token" not in server.received[0]


def test_identical_calls_in_one_second_are_not_replays():
    server = MockServer()
    with client_for(server) as client:
        client.call("finance.getAccountBalance", timestamp="1764000000")
        client.call("finance.getAccountBalance", timestamp="1764000000")
    first, second = server.received
    assert first["timestamp"] == second["timestamp"] == "1764000000"
    assert first["nonce"] != second["nonce"] and first["sign"] != second["sign"]


def test_nested_params_go_php_style():
    server = MockServer()
    params = {
        "filter": {"shops": ["S1", "S2"], "kind": {"a": "1"}, "skip": None, "empty": []},
        "flag_on": True,
    }
    with client_for(server) as client:
        data = client.call(
            "finance.getList", params, remark="销售收款 & 退款", amount=Decimal("12.50")
        )
    raw = server.raw[0].decode()
    assert "filter%5Bshops%5D%5B0%5D=S1" in raw  # filter[shops][0]=S1
    assert "filter%5Bkind%5D%5Ba%5D=1" in raw
    assert "skip" not in raw and "empty" not in raw
    echo = data["echo"]
    assert echo["filter"] == {"shops": {"0": "S1", "1": "S2"}, "kind": {"a": "1"}}
    assert echo["remark"] == "销售收款 & 退款"
    assert echo["amount"] == "12.50" and echo["flag_on"] == "1"


def test_bad_params_refused_before_sending():
    server = MockServer()
    with client_for(server) as client:
        for bad in (
            {"amount": 1.5},
            {"a.b": "x"},
            {"a b": "x"},
            {"a[b]": "x"},
            {"sign": "x"},
            {"flag": "x"},
            {"m": {"x]": "1"}},
        ):
            with pytest.raises((TypeError, ValueError)):
                client.call("finance.getList", bad)
    assert server.raw == []


def test_wrong_token_raises_signature_error_with_server_concatenation():
    server = MockServer()
    with client_for(server, token="wrong") as client:
        with pytest.raises(SignatureError) as info:
            client.call("finance.getAccountBalance", account_id="ACC001")
    assert info.value.code == "e000002" and info.value.msg == "sign error"
    assert info.value.server_concatenation.startswith("account_idACC001charsetutf-8flagerp01")


def test_shopex_style_success_unwrapped_with_decimals():
    answer = b'{"response":{"count":1,"lists":[{"money":"12.500","rate":0.1}]}}'
    with client_for(MockServer(answer)) as client:
        data = client.call("finance.getList", start_time="2024-01-01 00:00:00")
    assert data == {"count": 1, "lists": [{"money": "12.500", "rate": Decimal("0.1")}]}


def test_empty_shopex_response_is_empty_dict():
    with client_for(MockServer(b'{"response":[]}')) as client:
        assert client.call("finance.getList") == {}


def test_seed_style_success_amounts_are_decimal():
    answer = dumps({"code": 0, "msg": "成功", "accounts": [{"balance": Decimal("10000.00")}]})
    with client_for(MockServer(answer)) as client:
        data = client.call("finance.getAccountBalance")
    assert data == {"accounts": [{"balance": Decimal("10000.00")}]}
    assert str(data["accounts"][0]["balance"]) == "10000.00"


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (1, InvalidParams),
        (400, InvalidParams),
        (401, ReplayError),
        (403, PermissionDenied),
        (500, ServerError),
        (1001, UnknownFlag),
        (1002, TimestampError),
        (1003, SignatureError),
        (1004, InvalidParams),
        (2001, InvalidParams),
        (2002, InvalidParams),
        (2003, UnknownMethod),
        (9999, ShopexError),
    ],
)
def test_seed_style_errors(code, cls):
    answer = dumps({"code": code, "msg": "m", "sub_msg": "detail"})
    with client_for(MockServer(answer)) as client:
        with pytest.raises(cls) as info:
            client.call("finance.getAccountBalance")
    assert (info.value.code, info.value.msg, info.value.sub_msg) == (code, "m", "detail")
    assert isinstance(info.value, ShopexError)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("e000001", InvalidParams),
        ("e000002", SignatureError),
        ("e000003", UnknownMethod),
        ("e000004", PermissionDenied),
        ("e000005", ServerError),
        ("e000006", InvalidParams),
        ("e000007", ServerError),
        ("e000008", TimestampError),
        ("e000009", ReplayError),
        ("", ShopexError),  # the original's business failure
    ],
)
def test_shopex_style_errors(code, cls):
    answer = dumps({"error_response": {"code": code, "msg": "m", "sub_msg": None}})
    with client_for(MockServer(answer)) as client:
        with pytest.raises(cls) as info:
            client.call("finance.getList")
    assert type(info.value) is cls
    assert (info.value.code, info.value.sub_msg) == (code, None)


def test_replay_detected_by_server():
    server = MockServer()
    with client_for(server) as client:
        client.call("finance.getAccountBalance")
    body = server.raw[0]
    transport = httpx.MockTransport(server)
    with httpx.Client(transport=transport, base_url="https://erp.example.com") as http:
        resp = http.post(
            "/index.php/openapi/rpc/service/",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert resp.json()["error_response"]["code"] == "e000009"


@pytest.mark.parametrize(
    ("status", "body"), [(502, b"<html>bad gateway</html>"), (200, b'{"detail": "x"}')]
)
def test_unusable_answers_are_server_errors(status, body):
    with client_for(MockServer(body, status)) as client:
        with pytest.raises(ServerError) as info:
            client.call("finance.getList")
    assert info.value.code == status


def test_base_url_with_path_prefix():
    seen = []

    def handler(request):
        seen.append(request.url.path)
        return httpx.Response(200, json={"response": []})

    with ShopexClient("https://h/erp", "f", "t", transport=httpx.MockTransport(handler)) as c:
        c.call("finance.getList")
    assert seen == ["/erp/index.php/openapi/rpc/service/"]


def test_repr_hides_token():
    client = client_for(MockServer())
    assert TOKEN not in repr(client)
    client.close()


def test_async_client():
    server = MockServer()

    async def handler(request):
        return server(request)

    async def run():
        async with AsyncShopexClient(
            "https://erp.example.com", "erp01", TOKEN, transport=httpx.MockTransport(handler)
        ) as client:
            return await client.call("finance.getJZT", {"plan_id": "P1"})

    data = asyncio.run(run())
    assert data["echo"]["plan_id"] == "P1" and data["echo"]["method"] == "finance.getJZT"


def test_a_call_during_a_database_outage_is_signed_again_and_retried(client, engine, cipher):
    """Against the real app: the database goes away for a second; the client gets 503s, waits
    Retry-After and retries with a fresh sign, and gets the answer."""
    import threading

    from tests.web.support import database_down
    from zhangben.access.integrators import create_integrator
    from zhangben.store.engine import run_write

    _, token = run_write(
        engine, lambda c: create_integrator(c, name="ERP", flag="erp01", secret_key=cipher)
    )
    down = threading.Event()

    def outage():
        with database_down(engine):
            down.set()
            time.sleep(1.0)

    statuses = []

    def counting(request):
        response = client._transport.handle_request(request)
        statuses.append(response.status_code)
        return response

    worker = threading.Thread(target=outage)
    transport = httpx.MockTransport(counting)
    with ShopexClient("http://testserver", "erp01", token, transport=transport) as sdk:
        worker.start()
        down.wait(10)
        data = sdk.call("finance.getAccountBalance")
        worker.join()
    assert "accounts" in data
    assert statuses[0] == 503 and statuses[-1] == 200, statuses
