"""Fixtures of the open API tests: apps (integrators), a small ledger, a signing caller
(the helpers they use are in :mod:`tests.shopex.support`)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.shopex.support import SH, Caller
from zhangben.access.integrators import create_integrator
from zhangben.store.access_tables import integrators
from zhangben.store.engine import run_write


@pytest.fixture
def make_app(engine, cipher):
    """``make_app(flag, token=None, **grants) -> (Integrator, token)``; a given token replaces
    the generated one (for the note's test vectors)."""

    def make(flag: str = "erp01", token: str | None = None, **kw):
        name = kw.pop("name", "ERP")
        app, tok = run_write(
            engine,
            lambda c: create_integrator(c, name=name, flag=flag, secret_key=cipher, **kw),
        )
        if token is not None:
            secret = cipher.encrypt(token.encode()).decode()
            run_write(
                engine,
                lambda c: c.execute(
                    integrators.update()
                    .where(integrators.c.id == app.id)
                    .values(token_encrypted=secret)
                ),
            )
            tok = token
        return app, tok

    return make


@pytest.fixture
def books(ledger):
    """ACC001 (S001) ends at 10000.00, ACC002 (S002) at 0.10, ACC003 (no shop) at 3.00,
    ACC004 (S002) at 2.00 after a transfer from ACC003."""
    ledger.open_account(number="ACC001", name="测试账户", type="main", shop_code="S001")
    ledger.open_account(number="ACC002", name="备用账户", type="backup", shop_code="S002")
    ledger.open_account(number="ACC003", name="无店铺账户", type="main")
    ledger.open_account(number="ACC004", name="京东钱包", type="jd_wallet", shop_code="S002")
    day = datetime(2024, 1, 1, tzinfo=SH)
    ledger.income("ACC001", "10000.00", trade_time=day.replace(hour=10), remark="期初余额")
    ledger.income("ACC001", "1000.00", trade_time=day.replace(hour=11), remark="销售收款")
    ledger.expense("ACC001", "1000", trade_time=day.replace(hour=12), remark="采购付款")
    ledger.income("ACC002", "0.10", trade_time=day.replace(day=2, hour=10), remark="利息")
    ledger.income("ACC003", "5", trade_time=day.replace(day=3, hour=10), remark="收款")
    ledger.transfer("ACC003", "ACC004", "2.00", trade_time=day.replace(day=3, hour=11))
    return ledger


@pytest.fixture
def erp(client, make_app, books):
    """An app granted everything, over the small ledger."""
    _, token = make_app("erp01")
    return Caller(client, "erp01", token)


@pytest.fixture
def gateway(client):
    return client.app.state.shopex_gateway
