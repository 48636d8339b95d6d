import os

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

    name = f"zb_unmigrated_{os.getpid()}"  # one per xdist worker on a shared server
    _psql(pg_base_url, f"DROP DATABASE IF EXISTS {name}")
    _psql(pg_base_url, f"CREATE DATABASE {name}")
    with pytest.raises(RuntimeError, match="db upgrade"):
        create_app(Settings(database_url=f"{pg_base_url}/{name}"))
