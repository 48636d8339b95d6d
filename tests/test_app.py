from fastapi.testclient import TestClient

from zhangben.app import create_app
from zhangben.settings import Settings


def test_service_starts_on_a_fresh_sqlite_file_and_migrates_it(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    with TestClient(create_app(settings)) as client:
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["database"] == "sqlite"
        assert client.get("/docs").status_code == 200
        assert client.get("/openapi.json").json()["info"]["title"].startswith("zhangben")


def test_app_refuses_an_unmigrated_postgres(pg_base_url):
    import pytest

    from tests.conftest import _psql

    _psql(pg_base_url, "DROP DATABASE IF EXISTS zb_unmigrated")
    _psql(pg_base_url, "CREATE DATABASE zb_unmigrated")
    with pytest.raises(RuntimeError, match="db upgrade"):
        create_app(Settings(database_url=f"{pg_base_url}/zb_unmigrated"))
