"""Fixtures of the tests of :mod:`zhangben.web`: a ShopEx app and a 壹川 user on the test's
ledger (the REST API key is the suite's ``make_key``)."""

from __future__ import annotations

import pytest

from zhangben.access import integrators, sessions
from zhangben.store.engine import run_write

PASSWORD = "right-password-1"  # noqa: S105 - a test user's


@pytest.fixture
def shopex_app(engine, cipher):
    """``(flag, token)`` of an app granted every method."""
    app, token = run_write(
        engine,
        lambda c: integrators.create_integrator(c, name="ERP", flag="erp01", secret_key=cipher),
    )
    return app.flag, token


@pytest.fixture
def user(engine):
    """A staff user ``finance`` whose password is :data:`PASSWORD`."""
    return run_write(
        engine,
        lambda c: sessions.add_user(c, username="finance", password=PASSWORD, role="staff"),
    )
