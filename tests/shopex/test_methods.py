"""finance.getAccountBalance and finance.getTransactionList: fields, numbers, scope, paging,
masking and the shopex style."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from tests.shopex.support import RANGE, SH, body
from zhangben.access.integrators import grant
from zhangben.store.engine import run_write

BAL = "finance.getAccountBalance"
TX = "finance.getTransactionList"


def test_balances_are_json_numbers_with_two_decimals(erp):
    raw = erp.post(BAL).content.decode("utf-8")
    assert raw.startswith('{"code":0,"msg":"成功","accounts":[')
    assert (
        '{"account_id":"ACC001","account_name":"测试账户","account_type":"main",'
        '"balance":10000.00,"currency":"CNY"}' in raw
    )
    assert (
        '"account_id":"ACC002","account_name":"备用账户","account_type":"backup","balance":0.10'
        in raw
    )


def test_balance_filters(erp):
    assert [a["account_id"] for a in erp(BAL, account_id="ACC002")["accounts"]] == ["ACC002"]
    assert erp(BAL, account_id="NOPE")["accounts"] == []
    by_type = erp(BAL, account_type="main")["accounts"]
    assert [a["account_id"] for a in by_type] == ["ACC001", "ACC003"]
    assert [a["account_id"] for a in erp(BAL, shop_bn="S002")["accounts"]] == ["ACC002", "ACC004"]


def test_transaction_list_fields_oldest_first(erp):
    data = erp(TX, **RANGE, account_id="ACC001")
    assert data["count"] == 3
    first, second, third = data["lists"]
    assert third == {
        "trans_id": third["trade_no"],
        "account_id": "ACC001",
        "account_name": "测试账户",
        "trans_type": "expense",
        "amount": Decimal("1000.00"),
        "balance": Decimal("10000.00"),
        "trans_time": "2024-01-01 12:00:00",
        "remark": "采购付款",
        "entry_id": third["entry_id"],
        "trade_no": third["trade_no"],
    }
    # the seed's eight fields first, then zhangben's entry_id and trade_no
    assert list(third)[:8] == [
        "trans_id", "account_id", "account_name", "trans_type", "amount", "balance",
        "trans_time", "remark",
    ]  # fmt: skip
    assert third["entry_id"].isdigit() and third["trade_no"].startswith("20240101")
    assert (second["trans_type"], second["amount"], second["balance"]) == (
        "income",
        Decimal("1000.00"),
        Decimal("11000.00"),
    )
    assert first["trans_time"] == "2024-01-01 10:00:00" and first["remark"] == "期初余额"
    assert [int(e["entry_id"]) for e in data["lists"]] == sorted(
        int(e["entry_id"]) for e in data["lists"]
    )
    raw = erp.post(TX, **RANGE, account_id="ACC001").content.decode()
    assert '"amount":1000.00,"balance":10000.00' in raw


def test_transfer_legs_and_trans_type_filter(erp):
    data = erp(TX, **RANGE, shop_bn="S002", trans_type="transfer_in")
    assert data["count"] == 1 and data["lists"][0]["account_id"] == "ACC004"
    out = erp(TX, **RANGE, account_id="ACC003", trans_type="transfer_out")["lists"][0]
    assert out["amount"] == Decimal("2.00") and out["balance"] == Decimal("3.00")


def test_hash_joined_shops_and_unknown_shops(erp):
    assert erp(TX, **RANGE, shop_bn="S001#S002")["count"] == 5
    assert erp(TX, **RANGE, shop_code="S001")["count"] == 3
    assert erp(TX, **RANGE, shop_bn="S001#S999")["count"] == 3
    assert erp(TX, **RANGE, shop_bn="S999") == {
        "code": 0,
        "msg": "成功",
        "count": 0,
        "lists": [],
        "max_entry_id": "0",
    }
    assert erp(TX, **RANGE)["count"] == 7


def test_time_range_is_half_open(erp):
    data = erp(TX, start_time="2024-01-01 11:00:00", end_time="2024-01-01 12:00:00")
    assert [e["trans_time"] for e in data["lists"]] == ["2024-01-01 11:00:00"]
    same = erp(TX, start_time="2024-01-01 11:00:00", end_time="2024-01-01 11:00:00")
    assert same["count"] == 0


def test_scope_by_shop_and_account(erp, engine):
    run_write(engine, lambda c: grant(c, "erp01", shop_codes=["S001"]))
    assert [a["account_id"] for a in erp(BAL)["accounts"]] == ["ACC001"]
    assert erp(BAL, account_id="ACC002")["accounts"] == []
    assert erp(TX, **RANGE)["count"] == 3
    assert erp(TX, **RANGE, shop_bn="S002")["count"] == 0
    run_write(engine, lambda c: grant(c, "erp01", shop_codes=None, account_numbers=["ACC003"]))
    assert [a["account_id"] for a in erp(BAL)["accounts"]] == ["ACC003"]
    assert erp(TX, **RANGE)["count"] == 2
    assert erp(TX, **RANGE, account_id="ACC001")["count"] == 0


def test_data_masking(erp, engine):
    run_write(engine, lambda c: grant(c, "erp01", data_mask=True))
    assert erp(BAL, account_id="ACC001")["accounts"][0]["account_name"] == "测***"
    entry = erp(TX, **RANGE, account_id="ACC001")["lists"][-1]
    assert (entry["account_name"], entry["remark"]) == ("测***", "采***")
    assert entry["amount"] == Decimal("1000.00")


def test_shopex_style_envelope_and_strings(erp, engine):
    run_write(engine, lambda c: grant(c, "erp01", response_style="shopex"))
    raw = erp.post(BAL, account_id="ACC002").content.decode()
    assert raw == (
        '{"response":{"accounts":[{"account_id":"ACC002","account_name":"备用账户",'
        '"account_type":"backup","balance":"0.100","currency":"CNY"}]}}'
    )
    data = erp(TX, **RANGE, account_id="ACC001")["response"]
    assert data["count"] == 3 and data["lists"][0]["balance"] == "10000.000"
    assert data["lists"][0]["entry_id"].isdigit() and data["max_entry_id"].isdigit()
    assert erp(TX, **RANGE, shop_bn="S999") == {
        "response": {"count": 0, "lists": [], "max_entry_id": "0"}
    }


@pytest.mark.parametrize("style", ["seed", "shopex"])
def test_money_keeps_every_decimal(erp, ledger, engine, style):
    """Point 5 of issue 14: 12.3456 is served as held, so the rows add up to the balance.
    The shopex style keeps the original's three decimals at least (12.5 → "12.500")."""
    run_write(engine, lambda c: grant(c, "erp01", response_style=style))
    ledger.open_account(number="FINE", name="精确", shop_code="S009")
    day = datetime(2024, 1, 5, tzinfo=SH)
    for hour, amount in enumerate(["12.3456", "0.0001", "12.5", "7"], start=1):
        ledger.income("FINE", amount, trade_time=day.replace(hour=hour))
    ledger.expense("FINE", "0.0007", trade_time=day.replace(hour=9))
    raw = erp.post(TX, **RANGE, account_id="FINE").content.decode()
    data = erp(TX, **RANGE, account_id="FINE")
    rows = data["response"]["lists"] if style == "shopex" else data["lists"]
    if style == "shopex":
        assert [r["amount"] for r in rows] == ["12.3456", "0.0001", "12.500", "7.000", "0.0007"]
        assert rows[0]["balance"] == "12.3456" and rows[-1]["balance"] == "31.845"
        assert '"amount":"12.3456","balance":"12.3456"' in raw
    else:
        assert '"amount":12.3456,"balance":12.3456' in raw and '"amount":12.50' in raw
        assert '"amount":7.00,"balance":31.8457' in raw
    signs = [1, 1, 1, 1, -1]
    total = sum(s * Decimal(r["amount"]) for s, r in zip(signs, rows, strict=True))
    assert total == Decimal(rows[-1]["balance"]) == ledger.account("FINE").balance
    balance = erp(BAL, account_id="FINE")
    shown = balance["response"]["accounts"] if style == "shopex" else balance["accounts"]
    assert Decimal(shown[0]["balance"]) == Decimal("31.845")


@pytest.fixture
def many(erp, ledger):
    ledger.open_account(number="BULK", name="批量", shop_code="S009")
    start = datetime(2024, 3, 1, tzinfo=SH)
    for i in range(105):
        ledger.income("BULK", "1.00", trade_time=start + timedelta(minutes=i), remark=f"#{i}")
    return erp


@pytest.mark.parametrize(
    ("paging", "size"),
    [
        ({}, 50),
        ({"page_size": "1000"}, 100),
        ({"page_size": "100"}, 100),
        ({"page_size": "0"}, 1),
        ({"page_size": "-5"}, 1),
        ({"page_size": "7"}, 7),
        ({"page_no": "3"}, 5),
        ({"page_no": "2", "page_size": "100"}, 5),
        ({"page_no": "99"}, 0),
        # an offset past 2³¹: empty, as any page past the end (same on both databases)
        ({"page_no": "999999999", "page_size": "100"}, 0),
        ({"page_no": "21474838", "page_size": "100"}, 0),
    ],
)
def test_page_size_defaults_and_clamping(many, paging, size):
    data = many(
        TX,
        account_id="BULK",
        start_time="2024-03-01 00:00:00",
        end_time="2024-04-01 00:00:00",
        **paging,
    )
    assert data["count"] == 105 and len(data["lists"]) == size


def test_pages_are_oldest_first_and_contiguous(many):
    q = {
        "account_id": "BULK",
        "start_time": "2024-03-01 00:00:00",
        "end_time": "2024-04-01 00:00:00",
        "page_size": "50",
    }
    one = many(TX, **q, page_no="1")["lists"]
    two = many(TX, **q, page_no="2")["lists"]
    assert one[0]["remark"] == "#0" and one[-1]["remark"] == "#49" and two[0]["remark"] == "#50"


def test_body_is_utf8_json(erp):
    response = erp.post(BAL)
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert "测试账户".encode() in response.content
    assert body(response)["code"] == 0
