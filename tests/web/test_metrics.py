"""Prometheus metrics at ``/metrics``: off by default; requests by surface, method (ShopEx
method or route template, never a raw path or id) and status; latency histograms; postings
by kind and outcome; imports; rate-limit, replay and login-throttle refusals; the pool; the
optional bearer token. Real requests through the whole app, on SQLite and PostgreSQL.
(Several worker processes: tests/e2e/test_metrics_workers.py.)"""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from tests.api.support import bearer
from tests.shopex.support import ENDPOINT, signed
from tests.web.conftest import PASSWORD
from tests.web.support import database_down
from tests.yichuan.support import cheap_argon2  # noqa: F401 - autouse
from zhangben.app import create_app
from zhangben.demo import bills
from zhangben.imports.service import Imports

TOKEN = "metrics-token-7f3a9c"  # noqa: S105 - a test's


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of an exposition: (name, labels) → value."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def metrics_app(settings, ledger):
    def make(**changes):
        return TestClient(
            create_app(settings.model_copy(update={"metrics": True, **changes}), ledger)
        )

    return make


@pytest.fixture
def metered(metrics_app):
    with metrics_app() as client:
        yield client


def scrape(client, **headers) -> dict:
    r = client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return samples(r.text)


def test_metrics_are_off_by_default(client):
    assert client.get("/metrics").status_code == 404
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_requests_are_counted_by_surface_method_and_status(
    metered, make_key, shopex_app, user, ledger
):
    key = make_key()
    flag, token = shopex_app
    auth = bearer(key)
    r = metered.post("/api/v1/accounts", json={"number": "ACC001", "name": "一"}, headers=auth)
    assert r.status_code == 201
    for _ in range(3):
        assert metered.get("/api/v1/accounts/ACC001", headers=auth).status_code == 200
    assert metered.get("/api/v1/accounts/SECRET-ID-42", headers=auth).status_code == 404
    assert metered.get("/api/v1/no/such/path", headers=auth).status_code == 404
    assert (
        metered.post(ENDPOINT, data=signed(flag, token, "finance.getAccountBalance")).json()["code"]
        == 0
    )
    bogus = metered.post(ENDPOINT, data=signed(flag, token, "finance.noSuchMethodXyz"))
    assert bogus.json()["code"] == 2003
    login = metered.post("/v3/login", data={"username": "finance", "password": PASSWORD})
    assert login.json()["code"] == 0
    text = metered.get("/metrics").text
    found = samples(text)
    requests = "zhangben_http_requests_total"
    assert value(found, requests, surface="rest", method="POST /api/v1/accounts", status="201") == 1
    assert (
        value(found, requests, surface="rest", method="GET /api/v1/accounts/{number}", status="200")
        == 3
    )
    assert (
        value(found, requests, surface="rest", method="GET /api/v1/accounts/{number}", status="404")
        == 1
    )
    assert value(found, requests, surface="rest", method="GET unmatched", status="404") == 1
    shopex = {"surface": "shopex", "status": "200"}
    assert value(found, requests, method="finance.getAccountBalance", **shopex) == 1
    assert value(found, requests, method="unknown", **shopex) == 1
    assert value(found, requests, surface="yichuan", method="POST /v3/login", status="200") == 1
    # never a raw path, id or caller-supplied method name in a label
    for raw in ("SECRET-ID-42", "ACC001", "noSuchMethodXyz", "/no/such/path", key, token):
        assert raw not in text
    latency = "zhangben_http_request_duration_seconds"
    rest_reads = {"surface": "rest", "method": "GET /api/v1/accounts/{number}"}
    assert value(found, latency + "_count", **rest_reads) == 4
    assert value(found, latency + "_bucket", le="+Inf", **rest_reads) == 4
    assert 0 < value(found, latency + "_sum", **rest_reads) < 60


def test_postings_are_counted_by_kind_and_outcome(metered, make_key):
    auth = bearer(make_key())
    for number in ("ACC001", "ACC002"):
        metered.post("/api/v1/accounts", json={"number": number, "name": number}, headers=auth)
    income = {"type": "income", "account": "ACC001", "amount": "100.00", "trade_no": "T-1"}
    assert metered.post("/api/v1/postings", json=income, headers=auth).status_code == 201
    assert metered.post("/api/v1/postings", json=income, headers=auth).status_code == 200
    too_much = {"type": "expense", "account": "ACC002", "amount": "5.00"}
    assert metered.post("/api/v1/postings", json=too_much, headers=auth).status_code == 422
    move = {"from_account": "ACC001", "to_account": "ACC002", "amount": "30.00"}
    transfer = metered.post("/api/v1/transfers", json=move, headers=auth)
    assert transfer.status_code == 201
    found = scrape(metered)
    postings = "zhangben_postings_total"
    assert value(found, postings, kind="income", outcome="written") == 1
    assert value(found, postings, kind="income", outcome="replayed") == 1
    assert value(found, postings, kind="expense", outcome="insufficient_funds") == 1
    assert value(found, postings, kind="transfer", outcome="written") == 1


def test_the_ledger_observer_leaves_with_the_app(settings, ledger):
    with TestClient(create_app(settings.model_copy(update={"metrics": True}), ledger)):
        assert len(ledger.observers) == 1
    assert ledger.observers == []


@pytest.mark.usefixtures("same_minute")
def test_refusals_are_counted(metered, make_key, shopex_app, user):
    flag, token = shopex_app
    call = signed(flag, token, "finance.getAccountBalance")
    assert metered.post(ENDPOINT, data=call).json()["code"] == 0
    assert metered.post(ENDPOINT, data=call).json()["code"] == 401  # the same sign again
    limited = bearer(make_key(rate=1))
    statuses = [metered.get("/api/v1/accounts", headers=limited).status_code for _ in range(2)]
    assert statuses == [200, 429]
    wrong = {"username": "finance", "password": "wrong-" + PASSWORD}
    codes = [metered.post("/v3/login", data=wrong).json()["code"] for _ in range(6)]
    assert codes[-1] != codes[0]  # the sixth is throttled
    found = scrape(metered)
    refusals = "zhangben_refusals_total"
    assert value(found, refusals, surface="shopex", reason="replayed") == 1
    assert value(found, refusals, surface="rest", reason="rate_limited") == 1
    assert value(found, refusals, surface="yichuan", reason="login_throttled") >= 1
    assert value(found, "zhangben_http_requests_total", surface="rest",
                 method="GET /api/v1/accounts", status="429") == 1  # fmt: skip


def test_imports_and_the_pool(metered, ledger, tmp_path):
    ledger.open_account(number="ALI001", name="支付宝", type="alipay", allow_overdraft=True)
    txns = list(bills.chained_txns(12, seed=3))
    imports = Imports(ledger)
    imports.import_file(bills.write_alipay_csv(tmp_path / "a.csv", txns), account="ALI001")
    imports.import_file(bills.write_alipay_csv(tmp_path / "b.csv", txns[4:]), account="ALI001")
    found = scrape(metered)
    assert value(found, "zhangben_imports_total", platform="alipay", status="ok") == 2
    rows = "zhangben_import_rows_total"
    assert value(found, rows, platform="alipay", result="new") == 12
    assert value(found, rows, platform="alipay", result="duplicate") == 8
    assert value(found, rows, platform="alipay", result="rejected") == 0
    size, checked_out = ledger.pool_status()
    assert value(found, "zhangben_db_pool_size") == size > 0
    assert value(found, "zhangben_db_pool_checked_out") == checked_out
    assert value(found, "process_resident_memory_bytes") > 0  # one process: its own figures


def test_a_scrape_during_an_outage_still_answers(metered, engine, caplog):
    from zhangben.web import outage

    outage.reset()
    caplog.set_level(logging.INFO, logger="zhangben")
    assert metered.get("/healthz").status_code == 200
    with database_down(engine):
        found = scrape(metered)
    assert value(found, "zhangben_http_requests_total", surface="service",
                 method="GET /healthz", status="200") == 1  # fmt: skip
    assert not any(name.startswith("zhangben_import") for name, _ in found)
    assert all(r.exc_info is None for r in caplog.records)
    outage.reset()


def test_the_token_guards_the_metrics_and_never_reaches_the_log(metrics_app, caplog):
    caplog.set_level(logging.DEBUG)
    with metrics_app(metrics_token=SecretStr(TOKEN), log_format="json") as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            r = client.get("/metrics", headers=headers)
            assert r.status_code == 401 and r.json()["status"] == "unauthorized"
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert scrape(client, Authorization=f"Bearer {TOKEN}")
    assert TOKEN not in caplog.text
    assert any(r.name == "zhangben.request" for r in caplog.records)  # the log was on
