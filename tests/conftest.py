"""Fixtures: every ledger test runs against a real SQLite file and a real PostgreSQL server.

The schema is migrated once per backend into a template (a file for SQLite, a template
database for PostgreSQL); each test gets a fresh copy of it.
"""

from __future__ import annotations

import itertools
import os
import shutil
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy.pool import NullPool

from tests import pgserver
from zhangben.core.ledger import Ledger
from zhangben.store.engine import make_engine
from zhangben.store.migrate import upgrade

# CI machines are small and shared: never fail a property test for being slow.
hypothesis_settings.register_profile(
    "zhangben", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("zhangben")

BACKENDS = ["sqlite", "postgresql"]
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_base_url():
    """URL of a PostgreSQL server without database name: ZHANGBEN_TEST_DATABASE_URL's, or a
    throwaway cluster started for this session."""
    given = os.environ.get("ZHANGBEN_TEST_DATABASE_URL")
    if given:
        yield given.rsplit("/", 1)[0]
        return
    server = pgserver.start()
    yield server.base_url
    server.stop()


def _psql(base_url: str, sql: str) -> None:
    dsn = base_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def pg_template(pg_base_url):
    name = f"zb_template_{os.getpid()}"
    _psql(pg_base_url, f"DROP DATABASE IF EXISTS {name}")
    _psql(pg_base_url, f"CREATE DATABASE {name}")
    engine = make_engine(f"{pg_base_url}/{name}")
    upgrade(engine)
    engine.dispose()
    yield name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_url(request, backend, tmp_path):
    """A freshly migrated, empty database on the backend under test."""
    if backend == "sqlite":
        path = tmp_path / "ledger.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    base = request.getfixturevalue("pg_base_url")
    template = request.getfixturevalue("pg_template")
    name = f"zb_test_{os.getpid()}_{next(_counter)}"
    _psql(base, f"CREATE DATABASE {name} TEMPLATE {template}")
    yield f"{base}/{name}"
    _psql(base, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def ledger(engine) -> Ledger:
    return Ledger(engine, ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def ledger_factory(request, backend, tmp_path):
    """For Hypothesis tests: each call gives a ledger on a fresh database of the backend."""
    made = []

    def make() -> Ledger:
        if backend == "sqlite":
            path = tmp_path / f"ledger{len(made)}.sqlite3"
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
            url = f"sqlite:///{path}"
        else:
            base = request.getfixturevalue("pg_base_url")
            template = request.getfixturevalue("pg_template")
            name = f"zb_prop_{os.getpid()}_{next(_counter)}"
            _psql(base, f"CREATE DATABASE {name} TEMPLATE {template}")
            url = f"{base}/{name}"
        engine = make_engine(url, poolclass=NullPool)
        made.append((engine, url))
        return Ledger(engine, ZoneInfo("Asia/Shanghai"))

    yield make
    for engine, url in made:
        engine.dispose()
        if url.startswith("postgresql"):
            base, name = url.rsplit("/", 1)
            _psql(base, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


TEST_SECRET_KEY = "mJ0Qz1c7bXq3kH2VtL8yN5rW4eP6aS9dF1gZ0xC3vB8="  # Fernet key for tests only


@pytest.fixture
def settings(db_url):
    from zhangben.settings import Settings

    return Settings(database_url=db_url, secret_key=TEST_SECRET_KEY)


@pytest.fixture
def client(settings, ledger):
    """Real HTTP requests through the whole ASGI app (FastAPI's TestClient, httpx underneath)
    over the test's database."""
    from fastapi.testclient import TestClient

    from zhangben.app import create_app

    with TestClient(create_app(settings, ledger)) as c:
        yield c
