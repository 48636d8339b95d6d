"""The ShopEx bill methods over imported rows: finance.getList, getJZT, getJDbill; and the
imported entries in finance.getTransactionList."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from zhangben.access.integrators import Integrator
from zhangben.demo import bills as s
from zhangben.imports.runner import import_file
from zhangben.shopex import bill_methods as bm
from zhangben.shopex.params import ParamError
from zhangben.shopex.registry import REGISTRY, MethodContext

SH = ZoneInfo("Asia/Shanghai")
GETLIST_FIELDS = {
    "order_bn", "trade_no", "out_trade_no", "financial_no", "money", "member", "trade_type",
    "platform_type", "trade_time", "order_create_date", "create_time", "trade_desc",
    "trade_order_bn", "channel_name", "remarks", "goods_name", "amount", "bill_source",
    "bill_type", "shop_bn", "shop_type", "shop_name", "settlement_remarks", "goods_bn",
    "goods_number",
}  # fmt: skip
JZT_FIELDS = {
    "pay_serial_number", "account", "trade_type", "plan_id", "amount", "launchtime", "at_time",
    "up_time", "crc_unique",
}  # fmt: skip
JD_FIELDS = {
    "member_id", "account_no", "account_name", "trade_time", "trade_no", "account_balance",
    "income_fee", "outgo_fee", "bill_time", "remark", "at_time", "up_time", "crc_unique",
}  # fmt: skip


def ctx_for(ledger, style="shopex", **scope):
    app = Integrator(
        id=1,
        name="erp",
        flag="erp01",
        enabled=True,
        methods=("*",),
        shop_codes=scope.get("shops"),
        account_numbers=scope.get("accounts"),
        ip_allow=None,
        data_mask=False,
        rate_limit_per_minute=None,
        response_style=style,
        created_at=datetime.now(UTC),
    )
    return MethodContext(ledger, app, SH, style)


def window(**extra):
    now = datetime.now(SH)
    fmt = "%Y-%m-%d %H:%M:%S"
    return {
        "start_time": (now - timedelta(hours=1)).strftime(fmt),
        "end_time": (now + timedelta(hours=1)).strftime(fmt),
        **extra,
    }


@pytest.fixture
def imported(ledger, tmp_path):
    for number, kind in (("ALI001", "alipay"), ("JD001", "jd_wallet"), ("JZT001", "jzt")):
        ledger.open_account(
            number=number, name=f"{kind}账户", type=kind, shop_code="S001", allow_overdraft=True
        )
    txns = list(s.chained_txns(12, seed=31))
    import_file(ledger, s.write_alipay_csv(tmp_path / "a.csv", txns), account="ALI001")
    import_file(ledger, s.write_jd_wallet_csv(tmp_path / "j.csv", txns), account="JD001")
    import_file(ledger, s.write_jzt_csv(tmp_path / "z.csv", txns[:5]), account="JZT001")
    return ledger, txns


def test_methods_are_registered():
    assert REGISTRY.get("finance.getList") is bm.get_list
    assert REGISTRY.get("finance.getJZT") is bm.get_jzt
    assert REGISTRY.get("finance.getJDbill") is bm.get_jd_bill


def test_get_list(imported):
    ledger, txns = imported
    out = bm.get_list(ctx_for(ledger), window())
    assert out["count"] == 12 and len(out["lists"]) == 12
    row = out["lists"][0]
    assert set(row) == GETLIST_FIELDS
    newest = txns[-1]
    assert row["financial_no"] == newest.flow_no and row["trade_no"] == f"B{newest.flow_no}"
    assert row["out_trade_no"] == row["order_bn"] == newest.order_no
    assert row["trade_time"] == newest.time.strftime("%Y-%m-%d %H:%M:%S")
    assert row["money"] == f"{abs(newest.amount):.3f}"
    assert row["bill_type"] == ("0" if newest.amount > 0 else "1")
    assert row["amount"] == f"{newest.balance:.3f}" and row["platform_type"] == "alipay"
    assert row["member"] == newest.counterparty and row["shop_bn"] == "S001"
    times = [r["trade_time"] for r in out["lists"]]
    assert times == sorted(times, reverse=True)
    seed_style = bm.get_list(ctx_for(ledger, "seed"), window(page_size="1"))["lists"][0]
    assert seed_style["money"] == abs(newest.amount) and isinstance(seed_style["money"], Decimal)


def test_get_list_filters_and_paging(imported):
    ledger, txns = imported
    ctx = ctx_for(ledger)
    page = bm.get_list(ctx, window(page_no="2", page_size="5"))
    assert page["count"] == 12 and [r["financial_no"] for r in page["lists"]] == [
        t.flow_no for t in reversed(txns[2:7])
    ]
    for size in ("0", "-3", "500"):
        assert len(bm.get_list(ctx, window(page_size=size))["lists"]) == 12  # clamped to 100
    t3 = txns[3].time.strftime("%Y-%m-%d %H:%M:%S")
    t6 = txns[6].time.strftime("%Y-%m-%d %H:%M:%S")
    trade = bm.get_list(ctx, window(trade_start_time=t3, trade_end_time=t6))
    assert trade["count"] == 3  # half-open
    assert bm.get_list(ctx, window(shop_bn="S001#S009"))["count"] == 12
    assert bm.get_list(ctx, window(shop_bn="S009"))["count"] == 0
    assert bm.get_list(ctx, window(platform_type="tmall"))["count"] == 0
    assert bm.get_list(ctx_for(ledger, shops=("S002",)), window())["count"] == 0
    before = {"start_time": "2020-01-01 00:00:00", "end_time": "2020-01-02 00:00:00"}
    assert bm.get_list(ctx, before)["count"] == 0  # filters the import time


@pytest.mark.parametrize(
    "params,missing",
    [
        ({"end_time": "2024-01-01 00:00:00"}, True),
        ({"start_time": "2024-01-01 00:00:00"}, True),
        (window(page_no="0"), False),
        (window(page_no="x"), False),
        (window(trade_start_time="yesterday"), False),
    ],
)
def test_get_list_param_errors(imported, params, missing):
    ledger, _ = imported
    with pytest.raises(ParamError) as caught:
        bm.get_list(ctx_for(ledger), params)
    assert caught.value.missing is missing


def test_get_jzt(imported):
    ledger, txns = imported
    ctx = ctx_for(ledger)
    out = bm.get_jzt(ctx, window())
    assert out["count"] == 5 and set(out["lists"][0]) == JZT_FIELDS
    row = out["lists"][-1]
    assert row["pay_serial_number"] == f"J{txns[0].flow_no}" and row["account"] == "jzt_ads_01"
    assert row["amount"] == f"{abs(txns[0].amount):.3f}" and row["trade_type"] == "广告扣费"
    assert row["launchtime"] == txns[0].time.strftime("%Y-%m-%d 00:00:00")
    assert row["crc_unique"].isdigit()
    plan = row["plan_id"]
    assert {r["plan_id"] for r in bm.get_jzt(ctx, window(plan_id=plan))["lists"]} == {plan}
    one = bm.get_jzt(ctx, window(pay_serial_number=row["pay_serial_number"]))
    assert one["count"] == 1
    with pytest.raises(ParamError):
        bm.get_jzt(ctx, window(plan_id="0"))


def test_get_jd_bill(imported):
    ledger, txns = imported
    ctx = ctx_for(ledger)
    out = bm.get_jd_bill(ctx, window())
    assert out["count"] == 12 and set(out["lists"][0]) == JD_FIELDS
    row, t = out["lists"][0], txns[-1]
    assert row["member_id"] == "110123456001" and row["account_no"] == "ACC10001"
    assert row["trade_no"] == t.order_no and row["account_balance"] == f"{t.balance:.3f}"
    assert row["income_fee"] == (f"{t.amount:.3f}" if t.amount > 0 else "0.000")
    assert row["outgo_fee"] == (f"{-t.amount:.3f}" if t.amount < 0 else "0.000")
    assert row["bill_time"] == t.time.strftime("%Y-%m-%d 00:00:00")
    assert row["remark"] == t.remark and len(row["crc_unique"]) > 0
    day = t.time.strftime("%Y-%m-%d 00:00:00")
    assert bm.get_jd_bill(ctx, window(bill_start_time=day))["count"] >= 1
    assert bm.get_jd_bill(ctx, window(bill_end_time=day))["count"] < 12
    assert bm.get_jd_bill(ctx, window(member_id="nobody"))["count"] == 0
    assert bm.get_jd_bill(ctx, window(trade_no=t.order_no))["count"] == 1


def test_imported_entries_in_get_transaction_list(imported):
    from zhangben.shopex.methods import get_transaction_list

    ledger, txns = imported
    params = {
        "account_id": "ALI001",
        "start_time": "2024-03-01 00:00:00",
        "end_time": "2024-04-01 00:00:00",
    }
    out = get_transaction_list(ctx_for(ledger), params)
    assert out["count"] == 12
    amounts = sorted(r["amount"] for r in out["lists"])
    assert amounts == sorted(f"{abs(t.amount):.3f}" for t in txns)
    assert {r["trans_type"] for r in out["lists"]} <= {"income", "expense"}


def test_bill_methods_through_the_signed_gateway(imported, client, settings, engine):
    """End to end: a signed form POST reaches the three bill methods and getTransactionList."""
    import json
    import secrets
    import time

    from zhangben.access.integrators import create_integrator, fernet_for
    from zhangben.shopex.wire.signature import sign_params
    from zhangben.store.engine import run_write

    cipher = fernet_for(settings.secret_key, settings.database_url)
    _, token = run_write(
        engine,
        lambda c: create_integrator(
            c, name="erp", flag="erp-bills", secret_key=cipher, response_style="shopex"
        ),
    )

    def call(method, **params):
        p = {
            "flag": "erp-bills",
            "method": method,
            "ver": "1",
            "charset": "utf-8",
            "type": "json",
            "timestamp": str(int(time.time())),
            "nonce": secrets.token_hex(6),
            **params,
        }
        p["sign"] = sign_params(p, token)
        r = client.post("/index.php/openapi/rpc/service/", data=p)
        assert r.status_code == 200
        return json.loads(r.content)

    ledger, txns = imported
    for method, fields, total in (
        ("finance.getList", GETLIST_FIELDS, 12),
        ("finance.getJDbill", JD_FIELDS, 12),
        ("finance.getJZT", JZT_FIELDS, 5),
    ):
        out = call(method, **window())["response"]
        assert out["count"] == total and set(out["lists"][0]) == fields
    missing = call("finance.getList")["error_response"]
    assert missing["code"] == "e000006"
    flows = call(
        "finance.getTransactionList",
        account_id="JD001",
        start_time="2000-01-01 00:00:00",
        end_time="2100-01-01 00:00:00",
    )["response"]
    assert flows["count"] == 13  # the 12 rows and the account's opening balance (期初余额)
