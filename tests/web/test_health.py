"""``/healthz`` (liveness, no database) and ``/readyz`` (the database answers, the schema is
up to date): JSON always, 503 with ``Retry-After`` and the failed check when not ready, never
a plain-text 500. On SQLite and PostgreSQL, with a real outage (tests/web/support.py)."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from tests.web.support import database_down
from zhangben import __version__
from zhangben.store.engine import run_write


@pytest.fixture(autouse=True)
def fresh_outage_log():
    from zhangben.web import outage

    outage.reset()
    yield
    outage.reset()


def test_ready_when_the_database_answers_and_the_schema_is_current(client, backend):
    alive = client.get("/healthz")
    assert alive.status_code == 200
    assert alive.json() == {"status": "ok", "version": __version__, "database": backend}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.headers["content-type"] == "application/json"
    assert ready.json() == {
        "status": "ok",
        "version": __version__,
        "database": backend,
        "checks": {"database": "ok", "schema": "ok"},
    }


def test_a_database_outage_is_not_ready_but_alive(client, engine, caplog):
    caplog.set_level(logging.INFO, logger="zhangben")
    with database_down(engine):
        alive = [client.get("/healthz") for _ in range(3)]
        ready = [client.get("/readyz") for _ in range(3)]
    assert [r.status_code for r in alive] == [200, 200, 200]
    for r in ready:
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/json"
        assert int(r.headers["Retry-After"]) >= 1
        answer = r.json()
        assert answer["status"] == "unavailable"
        assert answer["checks"]["database"].startswith("unavailable: "), answer
        assert answer["checks"]["schema"] == "unknown"
    # one outage line for the class, no stack trace
    assert all(r.exc_info is None for r in caplog.records)
    assert len([r for r in caplog.records if r.name == "zhangben.outage"]) == 1
    back = client.get("/readyz")
    if back.status_code != 200:  # a pooled connection of before the outage
        back = client.get("/readyz")
    assert back.status_code == 200 and back.json()["checks"] == {"database": "ok", "schema": "ok"}


def test_a_schema_behind_the_code_is_not_ready(client, engine):
    run_write(
        engine, lambda c: c.execute(sa.text("UPDATE alembic_version SET version_num = '0001_core'"))
    )
    r = client.get("/readyz")
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert r.json()["checks"] == {
        "database": "ok",
        "schema": "not up to date: run `zhangben db upgrade`",
    }
    assert client.get("/healthz").status_code == 200


def test_a_fault_of_the_check_is_a_json_503_not_a_plain_500(client, engine, caplog):
    """A database that answers but breaks the check (here: a migration stamp table of the
    wrong shape) is a fault, not an outage: still JSON, logged once as an error."""

    def break_stamp(conn):
        conn.execute(sa.text("DROP TABLE alembic_version"))
        conn.execute(sa.text("CREATE TABLE alembic_version (other INTEGER)"))

    run_write(engine, break_stamp)
    with caplog.at_level(logging.ERROR, logger="zhangben"):
        r = client.get("/readyz")
    assert r.status_code == 503 and r.headers["content-type"] == "application/json"
    assert r.headers["Retry-After"] == "2"
    assert r.json()["checks"] == {"database": "error", "schema": "unknown"}
    [line] = [rec for rec in caplog.records if rec.name == "zhangben.health"]
    assert line.getMessage() == f"readiness check failed: {type(line.exc_info[1]).__name__}"


def test_health_routes_are_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/healthz" in paths and "/readyz" in paths
    assert "503" in paths["/readyz"]["get"]["responses"]
