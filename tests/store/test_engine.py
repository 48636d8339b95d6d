"""Engines per dialect (:mod:`zhangben.store.engine`): SQL errors never show their
parameters, and a database that cannot serve is told apart from a faulty request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.web.support import database_down
from zhangben.store.access_tables import replay_signs
from zhangben.store.engine import make_engine, read_transaction, run_write, unavailable

SECRET = "0123456789ABCDEF0123456789ABCDEF-a-sign"


def test_sql_errors_never_show_their_parameters(engine, caplog):
    engine_log = make_engine(engine.url.render_as_string(hide_password=False), echo=True)
    for eng in (engine, engine_log):
        with pytest.raises(sa.exc.IntegrityError) as failed:
            run_write(
                eng,
                lambda c: c.execute(
                    replay_signs.insert().values(flag="erp01", sign=SECRET, expires_at=None)
                ),
            )
        assert SECRET not in str(failed.value)
        assert "hidden" in str(failed.value)
        assert unavailable(failed.value) is None  # a fault of the request, not an outage
    assert caplog.records and SECRET not in caplog.text
    engine_log.dispose()


def test_an_unreachable_database_is_classified_as_unavailable(engine):
    with read_transaction(engine) as conn:
        conn.execute(sa.select(replay_signs)).all()
    with database_down(engine), pytest.raises(sa.exc.DBAPIError) as failed:
        with read_transaction(engine) as conn:
            conn.execute(
                sa.select(replay_signs).where(replay_signs.c.expires_at < datetime.now(UTC))
            )
    assert unavailable(failed.value) is not None
