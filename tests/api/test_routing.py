"""What every REST route shares, as its OpenAPI shows it: problem responses for every error,
Bearer security, money as strings; the docs are served."""

from __future__ import annotations

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
