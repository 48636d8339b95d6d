"""What every REST route shares, as its OpenAPI shows it: problem responses for every error,
Bearer security, money as strings; the docs are served."""

from __future__ import annotations

import pytest

V1 = "/api/v1"


def test_openapi_documents_every_route(client):
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    api_paths = {p: ops for p, ops in spec["paths"].items() if p.startswith(V1)}
    assert len(api_paths) >= 14
    for path, ops in api_paths.items():
        for method, op in ops.items():
            responses = op["responses"]
            assert "422" in responses and "500" in responses, (method, path)
            problem = responses["500"]["content"]["application/problem+json"]["schema"]
            assert problem["$ref"].endswith("/Problem")
            if not path.startswith(f"{V1}/problems"):
                assert op["security"] == [{"HTTPBearer": []}]
                assert "401" in responses
            ok = responses.get("200") or responses.get("201")
            assert "application/json" in ok["content"], (method, path)
    money = spec["components"]["schemas"]["TransferIn"]["properties"]["amount"]
    assert money["type"] == "string" and "pattern" in money
    assert client.get("/docs").status_code == 200


def _problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == f"{V1}/problems/{code}" and body["code"] == code
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_unknown_routes_and_wrong_methods_are_problems(client, make_key):
    """Under /api/v1 even the router's own refusals are problem+json (issue 13, point 10)."""
    assert _problem(client.get(f"{V1}/nothing"), 404, "not_found")["instance"] == f"{V1}/nothing"
    _problem(client.get(f"{V1}/accounts/ACC001/nothing"), 404, "not_found")
    _problem(client.get(V1), 404, "not_found")
    r = client.delete(f"{V1}/accounts")
    _problem(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, POST"
    _problem(
        client.put(f"{V1}/accounts/ACC001", headers={"Authorization": "Bearer x"}),
        405,
        "method_not_allowed",
    )
    assert client.get(f"{V1}/problems/method_not_allowed").json()["status"] == 405
    # the other surfaces keep their own formats
    assert client.get("/nothing").headers["content-type"] == "application/json"
    assert client.delete("/v3/accountlog").status_code == 405


@pytest.mark.parametrize("value", ["yes", "1", "0", "on", "True", "TRUE", "t", ""])
def test_boolean_parameters_are_true_or_false_only(api, value):
    """``with_total`` accepts ``true`` and ``false``, nothing else (issue 13, point 10)."""
    r = api.get(f"{V1}/entries", params={"with_total": value})
    body = _problem(r, 422, "validation")
    assert body["errors"][0]["field"] == "with_total"


def test_boolean_parameters_true_and_false(api):
    assert api.get(f"{V1}/entries", params={"with_total": "true"}).json()["total"] == 0
    assert api.get(f"{V1}/entries", params={"with_total": "false"}).json()["total"] is None
    assert api.get(f"{V1}/entries").json()["total"] is None


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "1", None])
def test_boolean_fields_are_json_true_or_false_only(api, value):
    r = api.post(f"{V1}/accounts", json={"number": "B1", "name": "b", "allow_overdraft": value})
    assert _problem(r, 422, "validation")["errors"][0]["field"] == "allow_overdraft"
    ok = api.post(f"{V1}/accounts", json={"number": "B1", "name": "b", "allow_overdraft": True})
    assert ok.status_code == 201 and ok.json()["allow_overdraft"] is True
