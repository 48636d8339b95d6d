"""The demo users log in to 壹川 with the demo passwords and see the demo ledger."""

from __future__ import annotations

from tests.yichuan.support import (
    accountlog,
    cheap_argon2,  # noqa: F401 - autouse fixture
    token_of,
)
from zhangben.demo.ledger import load_demo
from zhangben.demo.passwords import DEMO_PASSWORDS, set_demo_passwords


def test_demo_users_log_in_with_the_demo_passwords(client, ledger):
    assert load_demo(ledger)
    set_demo_passwords(ledger)
    staff = token_of(client, "finance", DEMO_PASSWORDS["finance"])
    merchant = token_of(client, "merchant", DEMO_PASSWORDS["merchant"])

    system = accountlog(client, staff, account_id="0000000000000001")["data"]
    assert [i["surplus"] for i in system["lists"][:4]] == [
        "988.0000",
        "991.0000",
        "994.0000",
        "999.0000",
    ]
    assert system["lists"][0]["description"] == "帐户系统转账到账户内建商户上,转出金额为3元"
    own = accountlog(client, merchant)["data"]
    assert {i["account_id"] for i in own["lists"]} == {2} and own["total_count"] == 4
    assert accountlog(client, merchant, account_id="0000000000000001")["code"] == 40301
    assert accountlog(client, merchant, account_id="ACC001")["code"] == 40301
