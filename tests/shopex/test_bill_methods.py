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
    out = bm.get_list(ctx_for(ledger), window(platform_type="alipay"))
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
    seed = window(page_size="1", platform_type="alipay")
    seed_style = bm.get_list(ctx_for(ledger, "seed"), seed)["lists"][0]
    assert seed_style["money"] == abs(newest.amount) and isinstance(seed_style["money"], Decimal)


def test_get_list_filters_and_paging(imported):
    ledger, txns = imported
    ctx = ctx_for(ledger)
    ali = {"platform_type": "alipay"}
    page = bm.get_list(ctx, window(page_no="2", page_size="5", **ali))
    assert page["count"] == 12 and [r["financial_no"] for r in page["lists"]] == [
        t.flow_no for t in reversed(txns[2:7])
    ]
    for size in ("0", "-3", "500"):  # clamped to 100: every row of the three platforms
        assert len(bm.get_list(ctx, window(page_size=size))["lists"]) == 12 + 12 + 5
    t3 = txns[3].time.strftime("%Y-%m-%d %H:%M:%S")
    t6 = txns[6].time.strftime("%Y-%m-%d %H:%M:%S")
    trade = bm.get_list(ctx, window(trade_start_time=t3, trade_end_time=t6, **ali))
    assert trade["count"] == 3  # half-open
    assert bm.get_list(ctx, window(shop_bn="S001#S009", **ali))["count"] == 12
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
        ("finance.getList", GETLIST_FIELDS, 12 + 12 + 5),
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


@pytest.fixture
def every(imported, tmp_path):
    """Besides Alipay, JD wallet and 精准通: WeChat Pay (a trade bill and a fund bill, both
    into WX001) and WeChat shop, each in its own shop."""
    ledger, txns = imported
    for number, kind, shop in (("WX001", "wechat", "S002"), ("WXS001", "wechat_shop", "S003")):
        ledger.open_account(
            number=number, name=f"{kind}账户", type=kind, shop_code=shop, allow_overdraft=True
        )
    import_file(ledger, s.write_wechat_trade_csv(tmp_path / "wt.csv", txns[:6]), account="WX001")
    import_file(ledger, s.write_wechat_fund_csv(tmp_path / "wf.csv", txns[:3]), account="WX001")
    import_file(ledger, s.write_wechat_shop_csv(tmp_path / "ws.csv", txns[:6]), account="WXS001")
    return ledger, txns


def by_flow(rows) -> dict[str, dict]:
    return {r["financial_no"]: r for r in rows}


def test_get_list_serves_every_platform(every):
    ledger, txns = every
    ctx = ctx_for(ledger)
    counts = {
        kind: bm.get_list(ctx, window(platform_type=kind))["count"]
        for kind in ("alipay", "wechat", "wechat_shop", "jd_wallet", "jzt")
    }
    assert counts == {"alipay": 12, "wechat": 6 + 3, "wechat_shop": 6, "jd_wallet": 12, "jzt": 5}
    everything = bm.get_list(ctx, window())
    assert everything["count"] == sum(counts.values())
    assert all(set(r) == GETLIST_FIELDS for r in everything["lists"])
    assert {r["platform_type"] for r in everything["lists"]} == set(counts)
    both = bm.get_list(ctx, window(platform_type="wechat#wechat_shop"))
    assert both["count"] == 15
    assert bm.get_list(ctx, window(shop_bn="S002#S003"))["count"] == 15


def test_get_list_wechat_trade_rows(every):
    ledger, txns = every
    rows = by_flow(bm.get_list(ctx_for(ledger), window(platform_type="wechat"))["lists"])
    paid = next(t for t in txns[:6] if t.amount > 0)
    row = rows[f"42000{paid.flow_no}"]
    fee = s.wechat_fee(paid.amount)
    assert row["trade_no"] == f"42000{paid.flow_no}"
    assert row["order_bn"] == row["out_trade_no"] == paid.order_no
    assert row["money"] == f"{paid.amount - fee:.3f}" and row["bill_type"] == "0"  # net of fee
    assert (row["trade_type"], row["channel_name"]) == ("SUCCESS", "JSAPI")
    assert row["goods_name"] == f"商品{paid.seq % 13}" and row["amount"] == ""  # no balance
    assert row["member"].startswith("oUpF8uMuAJO") and row["trade_order_bn"] == ""
    assert (row["shop_bn"], row["shop_type"]) == ("S002", "wechat")
    refund = next(t for t in txns[:6] if t.amount < 0)
    back = rows[f"42000{refund.flow_no}/50300{refund.flow_no}"]
    assert back["bill_type"] == "1" and back["trade_type"] == "REFUND"
    assert back["trade_order_bn"] == f"R{refund.order_no}"


def test_get_list_wechat_fund_and_shop_rows(every):
    ledger, txns = every
    ctx = ctx_for(ledger)
    fund = by_flow(bm.get_list(ctx, window(platform_type="wechat"))["lists"])
    t = txns[1]
    row = fund[f"F{t.flow_no}"]
    assert row["trade_no"] == f"42000{t.flow_no}" and row["trade_order_bn"] == f"V{t.seq}"
    assert row["amount"] == f"{t.balance:.3f}" and row["money"] == f"{abs(t.amount):.3f}"
    assert row["remarks"] == t.remark and row["trade_desc"] == row["trade_type"]
    assert row["bill_type"] == ("0" if t.amount > 0 else "1") and row["out_trade_no"] == ""
    shop = by_flow(bm.get_list(ctx, window(platform_type="wechat_shop"))["lists"])
    t = next(x for x in txns[:6] if x.amount < 0)
    row = shop[f"S{t.flow_no}"]
    assert row["order_bn"] == row["out_trade_no"] == t.order_no
    assert (row["trade_type"], row["trade_order_bn"]) == ("售后退款", f"AS{t.seq}")
    assert row["amount"] == f"{t.balance:.3f}" and row["remarks"] == t.remark
    assert row["bill_type"] == "1" and row["shop_name"] == "wechat_shop账户"
    seed = bm.get_list(ctx_for(ledger, "seed"), window(platform_type="wechat_shop"))["lists"]
    assert isinstance(seed[0]["money"], Decimal)


def test_get_list_jd_and_jzt_rows(every):
    ledger, txns = every
    ctx = ctx_for(ledger)
    jd = bm.get_list(ctx, window(platform_type="jd_wallet"))["lists"][0]
    t = txns[-1]
    assert jd["trade_no"] == jd["order_bn"] == t.order_no and jd["financial_no"] == ""
    assert jd["amount"] == f"{t.balance:.3f}" and jd["remarks"] == t.remark
    jzt = by_flow(bm.get_list(ctx, window(platform_type="jzt"))["lists"])[f"J{txns[0].flow_no}"]
    assert (jzt["trade_type"], jzt["bill_type"], jzt["amount"]) == ("广告扣费", "1", "")
    assert jzt["money"] == f"{abs(txns[0].amount):.3f}"


def test_bill_filters_take_hash_lists(every):
    ledger, _ = every
    ctx = ctx_for(ledger)
    assert bm.get_jd_bill(ctx, window(account_no="ACC10001#OTHER"))["count"] == 12
    assert bm.get_jd_bill(ctx, window(member_id="nobody#110123456001"))["count"] == 12
    assert bm.get_jd_bill(ctx, window(account_no="OTHER#NONE"))["count"] == 0
    assert bm.get_jzt(ctx, window(account="jzt_ads_01#jzt_ads_02"))["count"] == 5
    for method, name in ((bm.get_jd_bill, "account_no"), (bm.get_jzt, "account"),
                         (bm.get_list, "shop_bn"), (bm.get_list, "platform_type")):  # fmt: skip
        with pytest.raises(ParamError) as caught:
            method(ctx, window(**{name: "A##B"}))
        assert f"{name} value 2 of 3 is empty" in caught.value.message


def test_bill_times_take_dates(every):
    ledger, txns = every
    ctx = ctx_for(ledger)
    today = datetime.now(SH).strftime("%Y-%m-%d")
    # imported today: a date as end_time covers the whole day
    assert bm.get_list(ctx, {"start_time": today, "end_time": today})["count"] == 44
    trade_day = txns[0].time.strftime("%Y-%m-%d")
    by_trade = bm.get_list(
        ctx, window(platform_type="alipay", trade_start_time=trade_day, trade_end_time=trade_day)
    )
    assert by_trade["count"] == sum(t.time.strftime("%Y-%m-%d") == trade_day for t in txns)
    day = txns[-1].time.strftime("%Y-%m-%d")
    assert bm.get_jd_bill(ctx, window(bill_start_time=day, bill_end_time=day))["count"] >= 1
    with pytest.raises(ParamError):
        bm.get_list(ctx, {"start_time": "2024-13-01", "end_time": today})
