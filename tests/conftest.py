"""Fixtures: every ledger test runs against a real SQLite file and a real PostgreSQL server.

The schema is migrated once per backend into a template (a file for SQLite, a template
database for PostgreSQL); each test gets a fresh copy of it.

Also here, because tests in several folders use them: the callers' identities of
:mod:`zhangben.access` (``cipher`` for integrator tokens, ``make_key`` for an integrator's API
key, ``make_session`` for a user's login session).
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy.pool import NullPool

from tests import pgserver
from zhangben.access import apikeys, integrators, sessions
from zhangben.access.service import Access
from zhangben.core.ledger import Ledger
from zhangben.store.engine import make_engine, run_write
from zhangben.store.migrate import upgrade

# CI machines are small and shared: never fail a property test for being slow.
hypothesis_settings.register_profile(
    "zhangben", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("zhangben")

pytest_plugins = ["tests.parallel"]  # how the suite spreads over pytest-xdist's workers

BACKENDS = ["sqlite", "postgresql"]
#: Surfaces only translate (ARCHITECTURE.md): the tests of these folders run on SQLite, while
#: what they translate to (core/, store/, conformance/, the facades of imports, periods, recon,
#: vouchers, access, exports, and web/ and sdk/ with their outages) runs on both databases. A
#: surface test of PostgreSQL's own path is marked ``both_backends``; with
#: ``ZHANGBEN_TEST_BACKENDS=all`` every test runs on both (``make test-all``).
SQLITE_SURFACES = ("tests/shopex/", "tests/yichuan/", "tests/api/", "tests/console/", "tests/cli/")
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
    """The migrated template's name (one per process: each pytest-xdist worker has its own);
    :func:`create_copy` makes a test's database of it."""
    name = f"zb_template_{os.getpid()}"
    _psql(pg_base_url, f"DROP DATABASE IF EXISTS {name}")
    _psql(pg_base_url, f"CREATE DATABASE {name}")
    engine = make_engine(f"{pg_base_url}/{name}")
    upgrade(engine)
    engine.dispose()
    yield name


@functools.cache
def _file_copy(base_url: str) -> str:
    dsn = base_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn) as conn:
        return " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""


def create_copy(base_url: str, name: str, template: str) -> None:
    """``CREATE DATABASE name TEMPLATE template``, copying the files: PostgreSQL 15's default
    strategy (WAL_LOG) writes the whole template through the WAL, about 0.4 s a database, three
    to eight times the file copy (servers before 15 only copy files and know no STRATEGY)."""
    _psql(base_url, f"CREATE DATABASE {name} TEMPLATE {template}{_file_copy(base_url)}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def pytest_collection_modifyitems(config, items):
    if os.environ.get("ZHANGBEN_TEST_BACKENDS") == "all":
        return
    keep, drop = [], []
    for item in items:
        surface_on_pg = (
            item.nodeid.startswith(SQLITE_SURFACES)
            and getattr(item, "callspec", None) is not None
            and item.callspec.params.get("backend") == "postgresql"
            and item.get_closest_marker("both_backends") is None
        )
        (drop if surface_on_pg else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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
    create_copy(base, name, template)
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
            create_copy(base, name, template)
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


# -- who calls: integrators' tokens and API keys, users' sessions -------------------------------

_apps = itertools.count()


@pytest.fixture
def cipher(settings):
    """The Fernet that encrypts integrators' tokens, as the app derives it from the settings."""
    return integrators.fernet_for(settings.secret_key, settings.database_url)


@pytest.fixture
def make_key(ledger):
    """make_key(scopes=("read", "write"), shops=None, accounts=None, rate=None) -> secret."""

    def make(scopes=("read", "write"), shops=None, accounts=None, rate=None, integrator_id=None):
        def work(conn):
            iid = integrator_id
            if iid is None:
                app, _token = integrators.create_integrator(
                    conn,
                    name=f"erp {next(_apps)}",
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
def same_minute():
    """Rate limits count fixed wall-clock minutes (``access/ratelimit.py``): a test whose calls
    must all fall in one window starts with at least 5 s left in the minute."""
    left = 60 - time.time() % 60
    if left < 5:
        time.sleep(left + 0.05)


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
