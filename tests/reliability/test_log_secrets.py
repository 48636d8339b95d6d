"""The server's log, through the error paths of every surface, never shows a secret: ShopEx
tokens and signs, passwords, API keys, session tokens (also when sent as ``?token=``), the
metrics token. In both log formats: text, and JSON (``ZHANGBEN_LOG_FORMAT=json``: one JSON
line per request, naming the caller by flag, key id or user)."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.reliability.support import Server, record
from tests.shopex.support import ENDPOINT, signed
from zhangben.access import apikeys, integrators, sessions
from zhangben.shopex.wire.signature import sign_params
from zhangben.store.engine import make_engine, run_write

PASSWORD = "right-password-log-scan"  # noqa: S105 - a test user's
METRICS_TOKEN = "metrics-token-log-scan-5b1e"  # noqa: S105 - a test's


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_reaches_the_log(db_url, backend, tmp_path, log_format):
    engine = make_engine(db_url)
    cipher = integrators.fernet_for(TEST_SECRET_KEY, db_url)

    def setup(conn):
        app, token = integrators.create_integrator(
            conn, name="ERP", flag="erp01", secret_key=cipher
        )
        _, key = apikeys.create_key(conn, app.id, scopes=("read", "write"))
        sessions.add_user(conn, username="finance", password=PASSWORD, role="staff")
        return token, key

    token, key = run_write(engine, setup)
    engine.dispose()
    log = tmp_path / "serve.log"
    settings = {"ZHANGBEN_LOG_FORMAT": log_format}
    if log_format == "json":
        settings |= {"ZHANGBEN_METRICS": "true", "ZHANGBEN_METRICS_TOKEN": METRICS_TOKEN}
    server = Server(db_url, log, workers=1, env=settings).start()
    secrets_sent = {"shopex token": token, "api key": key, "password": PASSWORD}
    if log_format == "json":
        secrets_sent["metrics token"] = METRICS_TOKEN
    sent: list[str] = []  # each request's path, as the client sends it
    hooks = {"request": [lambda request: sent.append(request.url.path)]}
    try:
        with httpx.Client(base_url=server.base, timeout=30, event_hooks=hooks) as http:
            # ShopEx: a good call, a wrong sign, a replay, the token as a parameter, a bad body
            good = signed("erp01", token, "finance.getAccountBalance")
            bad = {**signed("erp01", token, "finance.getAccountBalance"), "sign": "F" * 32}
            leaky = signed("erp01", token, "finance.getTransactionList", page_no="x")
            leaky["token"] = token  # a caller that sends its token as a parameter
            leaky["sign"] = sign_params({k: v for k, v in leaky.items() if k != "sign"}, token)
            for params in (good, good, bad, leaky):
                http.post(ENDPOINT, data=params)
            http.post(
                ENDPOINT,
                content=b"{" + token.encode(),
                headers={"Content-Type": "application/json"},
            )
            secrets_sent |= {"sign": good["sign"], "leaky sign": leaky["sign"]}
            # 壹川: wrong and right passwords, the session token in the header and in ?token=
            http.post("/v3/login", data={"username": "finance", "password": "wrong-" + PASSWORD})
            http.post("/v3/login", json={"username": "finance", "password": PASSWORD + "x" * 70000})
            session = http.post(
                "/v3/login", data={"username": "finance", "password": PASSWORD}
            ).json()["data"]["token"]
            secrets_sent["session token"] = session
            http.get("/v3/accountlog", params={"token": session, "page": "-1"})
            http.get("/v3/accountlog", params={"token": session, "account_id": "nope"})
            http.get("/v3/accountlog", headers={"Authorization": "Bearer " + session[::-1]})
            # REST: a wrong key, a good key with bad requests, a session as a Bearer token
            http.get("/api/v1/balances", headers={"Authorization": "Bearer " + key + "x"})
            auth = {"Authorization": "Bearer " + key}
            http.post("/api/v1/transfers", json={"amount": "1e999"}, headers=auth)
            http.post("/api/v1/transfers", content=b"x" * (2 << 20), headers=auth)
            http.get("/api/v1/accounts/NOPE", headers=auth)
            http.get("/api/v1/balances", headers={"Authorization": "Bearer " + session})
            if log_format == "json":  # the metrics token, wrong and right
                for given in (METRICS_TOKEN + "x", METRICS_TOKEN):
                    http.get("/metrics", headers={"Authorization": "Bearer " + given})
    finally:
        server.stop()
    text = log.read_text(errors="replace")
    if log_format == "text":
        assert "shopex method=finance.getAccountBalance flag=erp01 code=0" in text  # the log is on
    else:
        requests = [r for r in json_request_lines(text) if r["method"] != "GET /healthz"]
        assert len(requests) == len(sent)  # one line per request
        good = [r for r in requests if r["method"] == "finance.getAccountBalance"]
        assert {(r["flag"], r["code"]) for r in good} >= {("erp01", 0)}
        assert {r["username"] for r in requests if "username" in r} == {"finance"}
        assert any("key_id" in r for r in requests)
        assert [r["status"] for r in requests if r["method"] == "GET /metrics"] == [401, 200]
    found = {
        name: value
        for name, value in secrets_sent.items()
        if value in text or quote(value, safe="") in text
    }
    assert not found, f"secrets in the log: {sorted(found)}"
    assert "Traceback" not in text
    record(
        "log scan through error paths",
        backend=backend,
        log_format=log_format,
        requests=len(sent),
        secrets_checked=len(secrets_sent),
        secrets_found=len(found),
        log_lines=len(text.splitlines()),
    )


def json_request_lines(text: str) -> list[dict]:
    """The request lines of a JSON log; every line but ``serve``'s banner (stdout) is JSON."""
    parsed = [
        json.loads(line) for line in text.splitlines() if not line.startswith("zhangben serving")
    ]
    return [line for line in parsed if line["logger"] == "zhangben.request"]
