"""Alembic environment: runs on a connection handed over by :mod:`zhangben.store.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from zhangben.store.engine import normalize_url
from zhangben.store.migrate import target_metadata

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(normalize_url(config.get_main_option("sqlalchemy.url")))
    with engine.connect() as conn:
        _run(conn)
