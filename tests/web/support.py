"""A real database outage for the tests of :mod:`zhangben.web`: the ledger's database stops
serving while the app runs, then comes back, without restarting anything.

* PostgreSQL: the database stops accepting connections and its backends are terminated
  (what an administrator's restart does to a client: pooled connections die, new ones are
  refused);
* SQLite: the directory of the file goes away (a lost volume): pooled connections are closed,
  new ones cannot open the file.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import Engine


def _admin(url: str):
    base, name = url.rsplit("/", 1)
    dsn = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    return psycopg.connect(dsn, autocommit=True), name


@contextmanager
def database_down(engine: Engine):
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        conn, name = _admin(url)
        with conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            try:
                yield
            finally:
                conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        return
    folder = Path(engine.url.database).parent
    hidden = folder.with_name(folder.name + ".gone")
    engine.dispose()
    os.rename(folder, hidden)
    try:
        yield
    finally:
        os.rename(hidden, folder)
