"""Order keys on bill rows: every named Alipay rule with its vectors (ShopEx's
``_getOrderBn`` cases), the column platforms, normalisation and the scopes."""

from types import SimpleNamespace

import pytest

from zhangben.recon.keys import (
    ALIPAY_RULES,
    FEE_NO_ORDER,
    INTERNAL_TRANSFER,
    ORDER,
    OTHER,
    KeyResult,
    extract_key,
    normalise,
)

ORD = "2841234567890"

# (rule name, business type, 商户订单号, 备注, the key)
ALIPAY_VECTORS = [
    ("refund_aftersale_tp", "交易退款", "X1", f"售后退款-12-T200P{ORD}", ORD),
    ("refund_aftersale_tp", "交易退款", "", f"保证金退款-T1P{ORD}-x", ORD),
    ("refund_tp_prefix", "交易退款", f"T200P{ORD}", "", ORD),
    ("refund_a_parts", "交易退款", "", "A1A2AB3001", "B3001"),
    ("refund_remark_digits", "交易退款", "", f"退款[{ORD}]", ORD),
    ("other_aftersale_tp", "其它", "", f"售后支付-T200P{ORD}", ORD),
    ("other_remark_digits", "其它", "", f"买就返积分 {ORD}", ORD),
    ("other_remark_digits", "其它", "", f"第2笔 {ORD}", ORD),
    ("transfer_cae_remark", "转账", "CAE_CHARITY_999", f"公益宝贝 {ORD}", ORD),
    ("transfer_cae", "转账", f"CAE_CHARITY_{ORD}", "公益宝贝", ORD),
    ("transfer_hjcae", "转账", f"HJCAE==a==b=={ORD}", "", ORD),
    ("transfer_hjcae_ky_item", "转账", "HJCAE==a==b==", f"x(KY_ITEM)({ORD})", ORD),
    ("transfer_taobaoke", "转账", "", f"淘宝客佣金代扣款[{ORD}]", ORD),
    ("transfer_taobaoke", "转账", "", f"淘宝客佣金退款[{ORD}]", ORD),
    ("transfer_braces", "转账", "", f"天猫佣金（类目）{{{ORD}}}扣款", ORD),
    ("split_remark_digits", "交易分账", "", f"分账-{ORD}", ORD),
    ("hjcom", "在线支付", f"HJCOM==x==y=={ORD}", "", ORD),
    ("cae_point", "交易付款", f"CAE_POINT_a_{ORD}", "", ORD),
    ("cae_point_returngive", "交易付款", "CAE_POINT_a_RETURNGIVE", f"返积分 {ORD}", ORD),
    ("gxfz", "在线支付", f"GXFZ_a_{ORD}", "", ORD),
    ("tp_prefix", "交易付款", f"T200P{ORD}", "", ORD),
    ("tp_prefix", "收费", f"T200P{ORD}", "花呗支付服务费", ORD),
]


@pytest.mark.parametrize(("rule", "btype", "merchant", "remark", "key"), ALIPAY_VECTORS)
def test_alipay_rule_vectors(rule, btype, merchant, remark, key):
    row = {"business_type": btype, "merchant_order_no": merchant, "remark": remark}
    assert extract_key("alipay", row) == KeyResult(key, f"remark_rule:{rule}", ORDER)


def test_every_alipay_rule_has_a_vector():
    assert {r.name for r in ALIPAY_RULES} == {v[0] for v in ALIPAY_VECTORS}


@pytest.mark.parametrize(
    ("btype", "merchant", "remark", "counterparty"),
    [
        ("提现", f"T200P{ORD}", f"提现 {ORD}", None),  # 提现 never has an order
        ("其它", "", f"{ORD}", "*金账号()"),  # ShopEx: the gold account's rows have none
        ("其它", "", f"聚划算保险保证金 {ORD}", None),
        ("交易退款", "", "退款 12", None),  # a short number is not an order number
        ("转账", "", "淘宝客佣金代扣款[]", None),
    ],
)
def test_alipay_rows_without_a_key(btype, merchant, remark, counterparty):
    row = {
        "business_type": btype,
        "merchant_order_no": merchant,
        "remark": remark,
        "counterparty": counterparty,
    }
    result = extract_key("alipay", row)
    assert result.key is None and result.source == ""


def test_alipay_base_order_column_wins():
    row = {"business_type": "转账", "base_order_no": " 3012 ", "remark": f"{{{ORD}}}"}
    assert extract_key("alipay", row) == KeyResult("3012", "column:业务基础订单号", ORDER)


def test_alipay_plain_merchant_order_of_a_payment_is_the_key():
    row = {"business_type": "在线支付", "merchant_order_no": "so-0001 ", "remark": "订单1"}
    assert extract_key("alipay", row) == KeyResult("SO-0001", "column:商户订单号", ORDER)
    # but not on a 转账, which ShopEx reads only by its rules
    row = {"business_type": "转账", "merchant_order_no": "so-0001", "remark": "x"}
    assert extract_key("alipay", row).key is None


@pytest.mark.parametrize(
    ("platform", "btype", "column"),
    [
        ("wechat", "SUCCESS", "商户订单号"),
        ("wechat", "退款", "商户订单号"),
        ("wechat_shop", "订单结算", "关联订单号"),
        ("jd_wallet", None, "商户订单号"),
    ],
)
def test_column_platforms(platform, btype, column):
    row = SimpleNamespace(business_type=btype, merchant_order_no=" t200p5001 ", remark="")
    assert extract_key(platform, row) == KeyResult("5001", f"column:{column}", ORDER)


def test_normalise():
    assert normalise(" ab-12 ") == "AB-12"
    assert normalise('="2841"') == "2841"  # a spreadsheet's text cell
    assert normalise("T200P2841") == "2841"
    assert normalise("T2841") == "T2841"  # no P: not a prefix
    assert normalise("ｓｏ－２８４１") == "SO-2841"  # full-width, as typed in a spreadsheet
    assert normalise("   ") is None
    assert normalise(None) is None
    assert normalise("9" * 65) is None


@pytest.mark.parametrize(
    ("platform", "row", "scope"),
    [
        ("alipay", {"business_type": "提现"}, INTERNAL_TRANSFER),
        ("alipay", {"business_type": "充值"}, INTERNAL_TRANSFER),
        ("wechat", {"business_type": "提现", "merchant_order_no": "W1"}, INTERNAL_TRANSFER),
        ("wechat_shop", {"business_type": "提现"}, INTERNAL_TRANSFER),
        ("alipay", {"business_type": "转账", "counterparty": "own@shop.cn"}, INTERNAL_TRANSFER),
        ("alipay", {"business_type": "转账", "counterparty": "someone@x.cn"}, OTHER),
        ("alipay", {"business_type": "收费", "remark": "花呗支付服务费"}, FEE_NO_ORDER),
        ("alipay", {"business_type": "服务费", "remark": "订单7"}, FEE_NO_ORDER),
        ("jzt", {"business_type": "快车"}, FEE_NO_ORDER),
        ("wechat", {"business_type": "扣除交易手续费"}, FEE_NO_ORDER),
        ("jd_wallet", {"remark": "货款"}, OTHER),
        ("alipay", {"business_type": "在线支付", "remark": "订单1"}, OTHER),
    ],
)
def test_scopes(platform, row, scope):
    result = extract_key(platform, row, own_accounts={"own@shop.cn"})
    assert result == KeyResult(None, "", scope)


def test_a_fee_row_with_an_order_is_in_order_scope():
    row = {"business_type": "转账", "remark": f"淘宝客佣金代扣款[{ORD}]"}
    assert extract_key("alipay", row).scope == ORDER
