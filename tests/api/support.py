"""Helpers of the REST API tests."""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
