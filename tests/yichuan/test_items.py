"""Item fields: the business-time split (Asia/Shanghai), money strings, flows, defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from tests.yichuan.support import (
    STAFF_PW,
    accountlog,
    add_user,
    cheap_argon2,  # noqa: F401 - autouse fixture
    token_of,
)
from zhangben.app import create_app
from zhangben.yichuan.items import money, unix_seconds

SPLIT = ("year", "month", "day", "hour", "minute")


@pytest.fixture
def staff(client, ledger):
    add_user(ledger, "finance", STAFF_PW, role="staff")
    ledger.open_account(number="ACC001", name="主账户")
    return token_of(client, "finance", STAFF_PW)


def _only_item(client, token, **params):
    lists = accountlog(client, token, account_id="ACC001", **params)["data"]["lists"]
    return lists[0]


@pytest.mark.parametrize(
    ("instant", "local"),
    [
        (datetime(2018, 5, 7, 16, 30, tzinfo=UTC), (2018, 5, 8, 0, 30)),  # past midnight +08
        (datetime(2018, 5, 7, 15, 59, 59, tzinfo=UTC), (2018, 5, 7, 23, 59)),  # just before
        (datetime(2018, 12, 31, 16, 0, tzinfo=UTC), (2019, 1, 1, 0, 0)),  # new year in Shanghai
        (datetime(2018, 5, 8, 2, 41, 39, tzinfo=UTC), (2018, 5, 8, 10, 41)),  # the seed's 9
    ],
)
def test_time_fields_are_split_in_the_business_time_zone(client, ledger, staff, instant, local):
    ledger.income("ACC001", "1", trade_time=instant)
    item = _only_item(client, staff)
    assert item["trade_time"] == int(instant.timestamp())
    assert tuple(item[k] for k in SPLIT) == local


def test_the_business_time_zone_comes_from_settings(client, ledger, settings, staff):
    ledger.income("ACC001", "1", trade_time=datetime(2018, 5, 7, 16, 30, tzinfo=UTC))
    utc_settings = settings.model_copy(update={"timezone": "UTC"})
    with TestClient(create_app(utc_settings, ledger)) as utc_client:
        item = _only_item(utc_client, staff)
    assert tuple(item[k] for k in SPLIT) == (2018, 5, 7, 16, 30)


def test_income_and_expense_without_counterparty(client, ledger, staff):
    when = datetime(2024, 1, 1, tzinfo=UTC)
    ledger.income("ACC001", "100.5", trade_time=when, remark="销售收款")
    ledger.expense("ACC001", "12.34", trade_time=when, counterparty="SUPPLIER-9")
    out, into = accountlog(client, staff, account_id="ACC001")["data"]["lists"]
    assert (into["income"], into["expenses"], into["surplus"]) == ("100.5000", "0.0000", "100.5000")
    assert (into["flow_to"], into["flow_from"]) == ('"ACC001"', '""')
    assert (into["content"], into["description"]) == ("销售收款", "")
    assert (into["trade_by"], into["signature"]) == (0, "0000000000000000")
    assert (into["category"], into["category_name"], into["subject"], into["subject_name"]) == (
        1,
        "收入",
        0,
        "",
    )
    assert (out["income"], out["expenses"], out["surplus"]) == ("0.0000", "-12.3400", "88.1600")
    assert (out["flow_from"], out["flow_to"]) == ('"ACC001"', '"SUPPLIER-9"')
    assert (out["category"], out["category_name"]) == (4, "支出")


def test_large_amounts_stay_exact(client, ledger, staff):
    ledger.income("ACC001", "99999999999999.9999", trade_time=datetime(2024, 1, 1, tzinfo=UTC))
    item = _only_item(client, staff)
    assert item["income"] == item["surplus"] == "99999999999999.9999"


def test_money_and_time_helpers():
    assert money(Decimal("-0.0000")) == money(Decimal("0")) == "0.0000"
    assert money(Decimal("-3")) == "-3.0000"
    assert unix_seconds(datetime(2018, 5, 8, 2, 41, 39, 999999, tzinfo=UTC)) == 1525747299
