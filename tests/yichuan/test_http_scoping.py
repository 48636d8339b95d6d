"""Who reads which account: staff any, a user only their own (by number; ids are not names)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.yichuan.support import (
    STAFF_PW,
    USER_PW,
    accountlog,
    add_user,
    cheap_argon2,  # noqa: F401 - autouse fixture
    token_of,
)
from zhangben.access import sessions
from zhangben.store.engine import run_write

NO_PERMISSION, UNKNOWN_ACCOUNT = 40301, 40401


@pytest.fixture
def world(client, ledger):
    add_user(ledger, "finance", STAFF_PW, role="staff")
    merchant = add_user(ledger, "merchant", USER_PW)
    add_user(ledger, "nobody", USER_PW)
    ledger.open_account(number="0000000000000001", name="帐户系统")  # id 1
    ledger.open_account(number="0000000000000002", name="商户", owner_user_id=merchant.id)  # 2
    when = datetime(2024, 1, 1, tzinfo=UTC)
    ledger.income("0000000000000001", "100", trade_time=when)
    ledger.transfer("0000000000000001", "0000000000000002", "30", trade_time=when)
    return {
        "staff": token_of(client, "finance", STAFF_PW),
        "merchant": token_of(client, "merchant", USER_PW),
        "nobody": token_of(client, "nobody", USER_PW),
    }


def _accounts_in(body):
    return {item["account_id"] for item in body["data"]["lists"]}


def test_staff_read_any_account_and_everything_without_account_id(client, world):
    staff = world["staff"]
    assert _accounts_in(accountlog(client, staff, account_id="0000000000000001")) == {1}
    assert _accounts_in(accountlog(client, staff, account_id="0000000000000002")) == {2}
    assert accountlog(client, staff)["data"]["total_count"] == 3
    unknown = accountlog(client, staff, account_id="0000000000000009")
    assert unknown["code"] == UNKNOWN_ACCOUNT and unknown["data"] is None
    assert "0000000000000009" in unknown["msg"]


def test_a_user_reads_their_own_account_by_default_or_by_number(client, world):
    merchant = world["merchant"]
    own = accountlog(client, merchant)
    assert own["code"] == 0 and _accounts_in(own) == {2}
    assert own["data"]["lists"][0]["income"] == "30.0000"
    named = accountlog(client, merchant, account_id="0000000000000002")
    assert named["data"] == own["data"]


@pytest.mark.parametrize(
    "probe",
    [
        "0000000000000001",  # someone else's account, by number
        "1",  # someone else's account, by internal id
        "2",  # their own account, by internal id: ids are not account numbers
        "0000000000000009",  # an account that does not exist
    ],
)
def test_a_user_probing_other_accounts_learns_nothing(client, world, probe):
    body = accountlog(client, world["merchant"], account_id=probe)
    assert body["code"] == NO_PERMISSION and body["data"] is None
    assert body["msg"] == f"no permission for account {probe}"


def test_staff_name_accounts_by_number_not_by_internal_id(client, world):
    assert accountlog(client, world["staff"], account_id="1")["code"] == UNKNOWN_ACCOUNT


def test_a_user_without_accounts_is_refused(client, world):
    body = accountlog(client, world["nobody"])
    assert body["code"] == NO_PERMISSION and "no account" in body["msg"]


def test_a_user_owning_several_accounts_reads_the_first_by_default(client, ledger, world):
    ledger.open_account(number="ZZZ-LATER", name="第二个账户")
    run_write(ledger.engine, lambda c: sessions.grant_account(c, "nobody", "ZZZ-LATER"))
    run_write(ledger.engine, lambda c: sessions.grant_account(c, "nobody", "0000000000000001"))
    first = accountlog(client, world["nobody"])
    assert first["code"] == 0 and _accounts_in(first) == {1}
    later = accountlog(client, world["nobody"], account_id="ZZZ-LATER")
    assert later["code"] == 0 and later["data"]["total_count"] == 0


def test_me_lists_the_user_and_their_accounts(client, world):
    me = client.get("/v3/me", headers={"Authorization": f"Bearer {world['merchant']}"}).json()
    assert me["code"] == 0
    assert me["data"] == {
        "id": 2,
        "username": "merchant",
        "display_name": "merchant",
        "role": "user",
        "accounts": [{"account_id": 2, "number": "0000000000000002", "name": "商户"}],
    }
