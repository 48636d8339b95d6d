"""Fixtures of the REST API tests: a client with an API key, two funded accounts. (API keys
and sessions are made by ``make_key`` and ``make_session`` in tests/conftest.py.)"""

from __future__ import annotations

import pytest

from tests.api.support import bearer


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
