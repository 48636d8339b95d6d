"""The one-round-trip writer's own connections (zhangben/store/writers/zb_post.py): kept apart
from the pool, bounded, closed with the engine, and replaced when the server drops them.
PostgreSQL only: SQLite has no zb_post."""

import threading

import psycopg
import pytest

from zhangben.store.writers import zb_post

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def _dsn(db_url: str) -> str:
    return db_url.replace("postgresql+psycopg://", "postgresql://")


def _backends(db_url: str) -> list[int]:
    """Server processes connected to this database, other than the one asking."""
    with psycopg.connect(_dsn(db_url), autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )]  # fmt: skip


@pytest.fixture
def funded(ledger):
    for n in ("A", "B"):
        ledger.open_account(number=n, name=n)
    ledger.income("A", "1000")
    return ledger


def test_postings_reuse_one_kept_connection(funded, db_url):
    before = len(_backends(db_url))
    for _ in range(20):
        funded.transfer("A", "B", "1")
    assert len(_backends(db_url)) <= before + 1
    assert funded.balance("B") == 20


def test_many_threads_stay_within_the_bound(funded, db_url):
    errors = []

    def work():
        try:
            for _ in range(10):
                funded.transfer("A", "B", "0.01")
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(zb_post._Callers.KEEP + 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert str(funded.balance("B")) == "1.6000"
    assert len(zb_post._callers(funded.engine)._idle) <= zb_post._Callers.KEEP
    assert funded.verify().ok


def test_a_dropped_connection_is_replaced(funded, db_url):
    funded.transfer("A", "B", "1")
    funded.engine.pool.dispose()  # what remains connected is zb_post's kept connection
    with psycopg.connect(_dsn(db_url), autocommit=True) as admin:
        for pid in _backends(db_url):
            if pid != admin.info.backend_pid:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    # the call on the dropped connection fails as a connection error, never as a wrong answer
    try:
        funded.transfer("A", "B", "1")
        first_lost = False
    except psycopg.OperationalError:
        first_lost = True
    funded.transfer("A", "B", "1")
    assert funded.balance("B") == (2 if first_lost else 3)
    assert funded.verify().ok


def test_dispose_closes_the_kept_connections(funded, db_url):
    funded.transfer("A", "B", "1")
    assert _backends(db_url)
    funded.engine.dispose()
    assert _backends(db_url) == []
