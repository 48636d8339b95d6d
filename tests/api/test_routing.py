"""What every REST route shares, as its OpenAPI shows it: problem responses for every error,
Bearer security, money as strings; the docs are served."""

from __future__ import annotations

import pytest

from zhangben.access.apikeys import SCOPES

V1 = "/api/v1"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
                [security] = op["security"]  # the bearer, and the scopes a route declares
                assert set(security) == {"HTTPBearer"}, (method, path)
                assert set(security["HTTPBearer"]) <= set(SCOPES), (method, path)
                if path.startswith(f"{V1}/recon"):
                    assert security["HTTPBearer"], (method, path)
                assert "401" in responses
            ok = responses.get("200") or responses.get("201")
            if path.endswith(".xlsx"):  # a download: the workbook itself, errors as problems
                assert list(ok["content"]) == [XLSX], (method, path)
            else:
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


# -- unknown query parameters (issue 14, point 8) ------------------------------------------------


def _every_route(client) -> list[tuple[str, str, set[str]]]:
    """(method, concrete path, declared query parameters) of every REST operation."""
    spec = client.get("/openapi.json").json()
    concrete = {"{number}": "ACC001", "{entry_id}": "1", "{transfer_id}": "2", "{code}": "internal"}
    routes = []
    for path, ops in spec["paths"].items():
        if not path.startswith(V1):
            continue
        for name, value in concrete.items():
            path = path.replace(name, value)
        for method, op in ops.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            routes.append((method.upper(), path, declared))
    return routes


def test_an_unknown_query_parameter_is_refused_on_every_route(two_accounts):
    """``?acount=`` would filter nothing and answer every account's entries: a 422 naming the
    parameter instead, on every route, reads and writes alike, and nothing is written."""
    api = two_accounts
    api.post(
        f"{V1}/transfers", json={"from_account": "ACC001", "to_account": "ACC002", "amount": "1"}
    )
    before = api.get(f"{V1}/entries", params={"with_total": "true"}).json()["total"]
    routes = _every_route(api)
    assert len(routes) >= 14
    for method, path, _declared in routes:
        r = api.request(
            method, path, params={"acount": "ACC001"}, json={} if method == "POST" else None
        )
        body = _problem(r, 422, "validation")
        assert body["errors"] == [{"field": "acount", "message": body["errors"][0]["message"]}], (
            method,
            path,
        )
        assert "acount" in body["detail"] and "not a query parameter" in body["detail"]
    assert api.get(f"{V1}/entries", params={"with_total": "true"}).json()["total"] == before


def test_the_declared_query_parameters_are_accepted(two_accounts):
    """What each route declares (its OpenAPI parameters), paging included, is still accepted,
    and the message lists them."""
    api = two_accounts
    api.post(
        f"{V1}/transfers", json={"from_account": "ACC001", "to_account": "ACC002", "amount": "1"}
    )
    declared = {path: names for method, path, names in _every_route(api) if method == "GET"}
    assert {"account", "limit", "cursor", "with_total"} <= declared[f"{V1}/entries"]
    page = api.get(f"{V1}/entries", params={"account": "ACC001", "limit": 1, "with_total": "true"})
    assert page.status_code == 200, page.text
    cursor = page.json()["next_cursor"]
    r = api.get(f"{V1}/entries", params={"account": "ACC001", "limit": 1, "cursor": cursor})
    assert r.status_code == 200 and r.json()["items"][0]["account"] == "ACC001"
    r = api.get(f"{V1}/entries", params={"acount": "ACC001", "limit": 1})
    detail = _problem(r, 422, "validation")["detail"]
    assert detail.startswith("acount: is not a query parameter of this route (known: ")
    known = detail.split("(known: ")[1].rstrip(")").split(", ")
    assert set(known) == declared[f"{V1}/entries"] and known == sorted(known)
    assert api.get(f"{V1}/balances", params={"shop": "S001", "status": "open"}).status_code == 200
    r = api.get(f"{V1}/accounts/ACC001", params={"as_of": "2024-01-01"})  # the balance's, not this
    assert "(known: none)" in _problem(r, 422, "validation")["detail"]
    r = api.get(f"{V1}/problems", params={"x": "1"})  # public routes too
    _problem(r, 422, "validation")
    r = api.get(f"{V1}/balances", params={"shop": "S001", "sort": "x", "y" * 100: "1"})
    fields = [e["field"] for e in _problem(r, 422, "validation")["errors"]]
    assert fields == ["sort", "y" * 64 + "…"]  # every unknown one, each name cut at 64


def test_an_unknown_parameter_is_refused_before_the_idempotency_key_is_claimed(two_accounts):
    api = two_accounts
    body = {"from_account": "ACC001", "to_account": "ACC002", "amount": "1"}
    headers = {"Idempotency-Key": "k-unknown-param"}
    r = api.post(f"{V1}/transfers", params={"dry_run": "true"}, json=body, headers=headers)
    _problem(r, 422, "validation")
    r = api.post(f"{V1}/transfers", json=body, headers=headers)
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers


# -- bodies that are not JSON (issue 14, point 10) -----------------------------------------------

_TRANSFER = '{"from_account":"ACC001","to_account":"ACC002","amount":"1"}'


@pytest.mark.parametrize(
    ("content", "content_type", "says"),
    [
        (b"{not json", "application/json", "the body is not JSON: Expecting property name"),
        (b'{"amount": "1",}', "application/json", "the body is not JSON"),
        (b"\xff\xfe{}", "application/json", "not valid UTF-8 (byte 0)"),
        ('{"remark":"é"}'.encode("latin-1"), "application/json", "not valid UTF-8"),
        (_TRANSFER.encode("utf-16-le"), "application/json", "holds a NUL byte"),
        (_TRANSFER.encode(), "text/plain", "(not text/plain)"),
        (b"from_account=ACC001&to_account=ACC002&amount=1", "application/x-www-form-urlencoded",
         "Content-Type: application/json (not application/x-www-form-urlencoded)"),
        (_TRANSFER.encode(), None, "(none was given)"),
    ],
)  # fmt: skip
def test_a_body_that_is_not_json_is_a_400_not_json(two_accounts, content, content_type, says):
    api = two_accounts
    headers = {"Idempotency-Key": "k-not-json"}
    if content_type:
        headers["Content-Type"] = content_type
    r = api.post(f"{V1}/transfers", content=content, headers=headers)
    body = _problem(r, 400, "not_json")
    assert says in body["detail"] and body["title"] == "The request body is not JSON"
    assert api.get(f"{V1}/entries", params={"type": "transfer_in"}).json()["items"] == []
    # the refusal was not stored under the key: the same key with a good body posts
    r = api.post(f"{V1}/transfers", content=_TRANSFER, headers={**headers, "Content-Type":
                 "application/json"})  # fmt: skip
    assert r.status_code == 201, r.text


def test_json_bodies_are_still_read(two_accounts):
    api = two_accounts
    with_bom = b"\xef\xbb\xbf" + _TRANSFER.encode()
    for content_type in ("application/json", "application/json; charset=utf-8",
                         "application/merge-patch+json"):  # fmt: skip
        r = api.post(f"{V1}/transfers", content=with_bom, headers={"Content-Type": content_type})
        assert r.status_code == 201, r.text
    transfer_id = r.json()["transfer_id"]
    r = api.post(f"{V1}/transfers/{transfer_id}/reversal")  # no body: the body is optional
    assert r.status_code == 201, r.text


def test_openapi_documents_not_json_on_the_routes_that_take_a_body(client):
    spec = client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if not path.startswith(V1):
                continue
            described = op["responses"]["400"]["description"]
            takes_json = "application/json" in op.get("requestBody", {}).get("content", {})
            assert ("`not_json`" in described) == takes_json, (method, path)
    assert client.get(f"{V1}/problems/not_json").json()["status"] == 400
