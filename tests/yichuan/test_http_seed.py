"""The seed's example response (shared/seeds/001), reproduced byte for byte over real HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa

from tests.yichuan.support import (
    STAFF_PW,
    accountlog,
    add_user,
    cheap_argon2,  # noqa: F401 - autouse fixture
    seed_example,
    seed_example_text,
)
from tests.yichuan.support import token_of as login_token
from zhangben.store.engine import run_write
from zhangben.store.tables import accounts

SEED_LISTS = seed_example()["data"]["lists"]
#: (trade_time, amount, trade_no) of the seed's four transfers, oldest first.
TRANSFERS = [
    (item["trade_time"], str(-int(float(item["expenses"]))), item["trade_no"])
    for item in reversed(SEED_LISTS)
]


def _open_seed_accounts(ledger) -> None:
    add_user(ledger, "finance", STAFF_PW, role="staff", id=100)
    ledger.open_account(number="0000000000000001", name="帐户系统", id=1)
    ledger.open_account(number="0000000000000002", name="账户内建商户", type="merchant", id=2)
    ledger.open_account(number="OTHER", name="另一个账户")


def _replay_transfers(ledger) -> None:
    for ts, amount, trade_no in TRANSFERS:
        ledger.transfer(
            "0000000000000001",
            "0000000000000002",
            amount,
            trade_no=trade_no,
            trade_time=datetime.fromtimestamp(ts, UTC),
            operator_id=100,
        )


def _carry_over_balance(ledger, account_id: int, minor: int) -> None:
    """The seed's account 1 holds 1000 yet lists only the four transfers: its balance came
    from the legacy system without a flow line. Only a test may set a balance like this."""
    run_write(
        ledger.engine,
        lambda c: c.execute(
            sa.update(accounts).where(accounts.c.id == account_id).values(balance=minor)
        ),
    )


def test_seed_response_is_reproduced_byte_for_byte(client, ledger):
    _open_seed_accounts(ledger)
    ledger.income("OTHER", "10", trade_time=datetime(2018, 5, 1, tzinfo=UTC))  # entry 1
    ledger.expense("OTHER", "1", trade_time=datetime(2018, 5, 2, tzinfo=UTC))  # entry 2
    _carry_over_balance(ledger, 1, 1000 * 10_000)
    _replay_transfers(ledger)  # out-legs 3, 5, 7, 9; in-legs 4, 6, 8, 10

    token = login_token(client, "finance", STAFF_PW)
    response = client.get(
        "/v3/accountlog",
        params={"account_id": "0000000000000001", "row": 15},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    body = response.json()
    expected = seed_example()
    assert body["time"].isdigit() and abs(int(body["time"]) - datetime.now(UTC).timestamp()) < 60
    assert body["data"] == expected["data"]
    assert list(body) == list(expected)
    assert list(body["data"]) == list(expected["data"])
    for got, want in zip(body["data"]["lists"], expected["data"]["lists"], strict=True):
        assert list(got) == list(want)
        assert [type(v) for v in got.values()] == [type(v) for v in want.values()]

    # The whole document, laid out as the seed lays it out, is the seed's text exactly.
    seed_time = {**body, "time": expected["time"]}
    assert json.dumps(seed_time, ensure_ascii=False, indent=4) == seed_example_text()
    # And the wire bytes are the seed's JSON in compact form (with the server's time).
    compact = json.dumps(
        {**expected, "time": body["time"]}, ensure_ascii=False, separators=(",", ":")
    )
    assert response.content == compact.encode("utf-8")


def test_seed_items_with_the_opening_balance_as_a_ledger_entry(client, ledger):
    """In zhangben the 1000 arrives as an entry (id 1); the seed's items are unchanged."""
    _open_seed_accounts(ledger)
    ledger.income("0000000000000001", "1000", trade_time=datetime(2018, 5, 1, tzinfo=UTC))
    ledger.income("OTHER", "10", trade_time=datetime(2018, 5, 1, tzinfo=UTC))
    _replay_transfers(ledger)
    token = login_token(client, "finance", STAFF_PW)

    four = accountlog(client, token, account_id="0000000000000001", row=4)["data"]
    assert four["lists"] == SEED_LISTS
    assert (four["count"], four["total_count"], four["total_page"]) == (4, 5, 2)

    everything = accountlog(client, token, account_id="0000000000000001")["data"]
    assert everything["row"] == 15 and everything["lists"][:4] == SEED_LISTS
    opening = everything["lists"][4]
    assert (opening["id"], opening["income"], opening["expenses"]) == (1, "1000.0000", "0.0000")
    assert (opening["surplus"], opening["category"], opening["category_name"]) == (
        "1000.0000",
        1,
        "收入",
    )
    assert (opening["flow_to"], opening["flow_from"]) == ('"0000000000000001"', '""')

    incoming = accountlog(client, token, account_id="0000000000000002")["data"]["lists"]
    assert [i["id"] for i in incoming] == [10, 8, 6, 4]
    first_in = incoming[-1]
    assert (first_in["income"], first_in["expenses"], first_in["surplus"]) == (
        "1.0000",
        "0.0000",
        "1.0000",
    )
    assert (first_in["flow_from"], first_in["flow_to"]) == (
        '"0000000000000001"',
        '"0000000000000002"',
    )
    assert (first_in["subject"], first_in["subject_name"]) == (26, "转账转入")
    assert first_in["description"] == "帐户系统转账到账户内建商户上,转入金额为1元"
