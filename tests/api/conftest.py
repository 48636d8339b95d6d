"""Fixtures for the REST API tests: integrators with API keys, staff and user sessions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from tests.api.support import bearer
from tests.conftest import TEST_SECRET_KEY
from zhangben.access import apikeys, integrators, sessions
from zhangben.access.service import Access
from zhangben.store.engine import run_write

_n = itertools.count()


@pytest.fixture
def make_key(ledger):
    """make_key(scopes=("read", "write"), shops=None, accounts=None, rate=None) -> secret."""

    def make(scopes=("read", "write"), shops=None, accounts=None, rate=None, integrator_id=None):
        def work(conn):
            iid = integrator_id
            if iid is None:
                app, _token = integrators.create_integrator(
                    conn,
                    name=f"erp {next(_n)}",
                    secret_key=TEST_SECRET_KEY,
                    rate_limit_per_minute=rate,
                )
                iid = app.id
            return apikeys.create_key(
                conn, iid, scopes=scopes, shop_codes=shops, account_numbers=accounts
            )[1]

        return run_write(ledger.engine, work)

    return make


@pytest.fixture
def make_session(ledger):
    """make_session(username, role="user") -> (session token, user id)."""

    def make(username: str, role: str = "user"):
        run_write(
            ledger.engine,
            lambda c: sessions.add_user(
                c, username=username, role=role, password="password-" + username
            ),
        )
        token, user, _ = Access(ledger).login(
            username,
            "password-" + username,
            ip="127.0.0.1",
            now=datetime.now(UTC),
            ttl_seconds=3600,
        )
        return token, user.id

    return make


@pytest.fixture
def api(client, make_key):
    """The test client with a read+write API key of an unrestricted integrator."""
    client.headers.update(bearer(make_key()))
    return client


@pytest.fixture
def two_accounts(api):
    for number in ("ACC001", "ACC002"):
        r = api.post("/api/v1/accounts", json={"number": number, "name": f"账户 {number}"})
        assert r.status_code == 201, r.text
    r = api.post(
        "/api/v1/postings", json={"type": "income", "account": "ACC001", "amount": "1000.00"}
    )
    assert r.status_code == 201, r.text
    return api
