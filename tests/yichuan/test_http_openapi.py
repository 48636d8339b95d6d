"""The 壹川 routes in OpenAPI: plain JSON operations whose 405s name every allowed method."""

from __future__ import annotations

import warnings


def test_routes_are_documented_with_unique_operation_ids(client):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI warns on duplicate operation ids
        doc = client.get("/openapi.json").json()
    assert set(doc["paths"]["/v3/accountlog"]) == {"get", "post"}
    assert set(doc["paths"]["/v3/login"]) == {"post"}
    for path in ("/v3/login", "/v3/logout", "/v3/me", "/v3/accountlog"):
        for operation in doc["paths"][path].values():
            assert operation["summary"] and "parameters" not in operation


def test_a_wrong_method_is_a_405_naming_the_allowed_ones(client):
    for method in ("PUT", "DELETE", "OPTIONS", "PATCH"):
        response = client.request(method, "/v3/accountlog")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"
    assert client.get("/v3/login").headers["allow"] == "POST"
