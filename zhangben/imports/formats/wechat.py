"""WeChat Pay merchant bills: the 交易账单 (trade bill) and the 资金账单 (fund-flow bill).

Trade bill: one BillRow per bill row, no balance. A payment row (交易状态 SUCCESS/支付成功)
counts 应结订单金额; a refund row (REFUND/REVOKED/转入退款…) counts 退款金额 as outgoing; the
手续费 (fee; negative on refunds = fee returned) is deducted. The *net* of these is the row's
income (net ≥ 0) or expense (net < 0); gross, refund and fee are kept in ``extra``.
flow_no = 微信订单号, or 微信订单号/微信退款单号 on refund rows. business_type = 交易状态
(the trade type, e.g. JSAPI, is ``extra["trade_type"]``).

Fund-flow bill: 收支类型 收入/支出 with a positive 收支金额(元), balance 账户结余(元),
flow_no = 资金流水单号.
"""

from __future__ import annotations

from collections.abc import Mapping

from zhangben.imports.formats.bill_format import (
    BillFormat,
    amount,
    count,
    optional,
    required,
    time_cell,
)
from zhangben.imports.rows import ZERO, BillFormatError, BillRow, BillSummary, parse_amount

PAID = {"SUCCESS", "支付成功", "买家已支付"}
REFUNDED = {"REFUND", "REVOKED", "转入退款", "已退款", "退款成功", "已撤销"}
NO_REFUND = {"", "0"}


def _total(fields: Mapping[str, str], keys: tuple[str, ...], line: int | None, signed=False):
    for key in keys:
        if fields.get(key):
            value = parse_amount(fields[key], line, key)
            return value if signed else abs(value)
    return None


def _count(fields: Mapping[str, str], key: str, line: int | None) -> int | None:
    return count(fields[key], line, key) if fields.get(key) else None


class WechatTradeBill(BillFormat):
    name = "wechat_trade"
    platform = "wechat"
    has_balance = False
    required_headers = (
        "交易时间",
        "公众账号ID",
        "商户号",
        "微信订单号",
        "商户订单号",
        "用户标识",
        "交易类型",
        "交易状态",
        "应结订单金额",
        "微信退款单号",
        "商户退款单号",
        "退款金额",
        "手续费",
    )
    optional_headers = (
        "特约商户号",
        "设备号",
        "付款银行",
        "货币种类",
        "代金券金额",
        "充值券退款金额",
        "退款类型",
        "退款状态",
        "商品名称",
        "商户数据包",
        "费率",
        "订单金额",
        "申请退款金额",
        "费率备注",
    )
    aliases = {
        "子商户号": "特约商户号",
        "企业红包金额": "代金券金额",
        "企业红包退款金额": "充值券退款金额",
    }
    summary_markers = ("总交易单数",)

    def parse_row(self, line: int, cells: Mapping[str, str]) -> BillRow:
        order = required(cells, "微信订单号", line)
        status = required(cells, "交易状态", line)
        fee = amount(cells, "手续费", line)
        settle = amount(cells, "应结订单金额", line)
        refund = abs(amount(cells, "退款金额", line))
        refund_no = cells.get("微信退款单号", "")
        if status in PAID:
            gross, refund, flow_no = settle, ZERO, order
        elif status in REFUNDED:
            if refund_no in NO_REFUND:
                raise BillFormatError(
                    line, "微信退款单号", "required value is empty on a refund row"
                )
            gross, flow_no = ZERO, f"{order}/{refund_no}"
        else:
            raise BillFormatError(line, "交易状态", f'"{status}" is not a known trade status')
        net = gross - refund - fee
        extra = {
            "gross": gross,
            "refund": refund,
            "fee": fee,
            "settlement_amount": settle,
            "trade_type": cells.get("交易类型", ""),
            "mch_id": cells.get("商户号", ""),
            "appid": cells.get("公众账号ID", ""),
        }
        for col, key in (("微信退款单号", "refund_no"), ("商户退款单号", "merchant_refund_no")):
            if cells.get(col, "") not in NO_REFUND:
                extra[key] = cells[col]
        return BillRow(
            line=line,
            raw=dict(cells),
            flow_no=flow_no,
            trade_time=time_cell(cells, "交易时间", line),
            income=max(net, ZERO),
            expense=max(-net, ZERO),
            balance=None,
            counterparty=optional(cells, "用户标识"),
            order_no=optional(cells, "商户订单号"),
            business_type=status,
            remark=optional(cells, "商品名称"),
            extra=extra,
        )

    def summary(self, fields: Mapping[str, str], line: int | None) -> BillSummary | None:
        """总交易单数 / 应结订单总金额 / 退款总金额 / 手续费总金额 (older names accepted)."""
        return BillSummary(
            row_count=_count(fields, "总交易单数", line),
            income_total=_total(fields, ("应结订单总金额", "总交易额"), line),
            expense_total=_total(fields, ("退款总金额", "总退款金额"), line),
            fee_total=_total(fields, ("手续费总金额",), line, signed=True),
            source="summary",
            raw=dict(fields),
        )


class WechatFundBill(BillFormat):
    name = "wechat_fund"
    platform = "wechat"
    has_balance = True
    required_headers = (
        "记账时间",
        "微信支付业务单号",
        "资金流水单号",
        "业务名称",
        "业务类型",
        "收支类型",
        "收支金额(元)",
        "账户结余(元)",
    )
    optional_headers = ("资金变更提交申请人", "备注", "业务凭证号")
    summary_markers = ("资金流水总笔数",)

    def parse_row(self, line: int, cells: Mapping[str, str]) -> BillRow:
        value = abs(amount(cells, "收支金额(元)", line))
        kind = required(cells, "收支类型", line)
        if kind not in ("收入", "支出"):
            raise BillFormatError(line, "收支类型", f'"{kind}" is neither 收入 nor 支出')
        balance = parse_amount(required(cells, "账户结余(元)", line), line, "账户结余(元)")
        extra = {"business_name": cells.get("业务名称", "")}
        for col, key in (("资金变更提交申请人", "applicant"), ("业务凭证号", "voucher_no")):
            if cells.get(col):
                extra[key] = cells[col]
        return BillRow(
            line=line,
            raw=dict(cells),
            flow_no=required(cells, "资金流水单号", line),
            trade_time=time_cell(cells, "记账时间", line),
            income=value if kind == "收入" else ZERO,
            expense=value if kind == "支出" else ZERO,
            balance=balance,
            counterparty=None,
            order_no=optional(cells, "微信支付业务单号"),
            business_type=optional(cells, "业务类型"),
            remark=optional(cells, "备注"),
            extra=extra,
        )

    def summary(self, fields: Mapping[str, str], line: int | None) -> BillSummary | None:
        """资金流水总笔数 / 收入笔数 / 收入金额 / 支出笔数 / 支出金额."""
        return BillSummary(
            row_count=_count(fields, "资金流水总笔数", line),
            income_count=_count(fields, "收入笔数", line),
            income_total=_total(fields, ("收入金额",), line),
            expense_count=_count(fields, "支出笔数", line),
            expense_total=_total(fields, ("支出金额",), line),
            source="summary",
            raw=dict(fields),
        )
