"""The original's bill methods over imported bill rows: ``finance.getList`` (every platform:
Alipay, WeChat Pay, WeChat shop, JD wallet, JD 精准通), ``finance.getJZT`` (JD 精准通) and
``finance.getJDbill`` (JD wallet).

Each takes the required ``start_time``/``end_time`` (the rows' *import* time, half-open
``start <= t < end``; a date as ``end_time`` means the end of that day), optional filters,
``page_no`` (> 0) and ``page_size`` (absent, ≤ 0 or > 100 → 100), and returns
``{"lists": [...], "count": N}`` newest first (trade time). Money is a string with at least
three decimals in the ``shopex`` style (``"12.500"``), a number in the ``seed`` style;
times are ``yyyy-MM-dd HH:mm:ss``; a text the file left empty is ``""``. Rows are limited
to the accounts the app may see; an unknown shop code matches nothing. Filters that name
shops or platform accounts take ``#``-joined lists.
"""

from __future__ import annotations

import zlib
from datetime import datetime, time
from typing import Any

from zhangben.imports.bills import BillFilter, BillRecord
from zhangben.imports.rows import PLATFORMS
from zhangben.imports.service import Imports
from zhangben.shopex import params as p
from zhangben.shopex.output import mask, money, when
from zhangben.shopex.registry import MethodContext, shopex_method

MAX_PAGE_SIZE = 100
_MAX_DIGITS = 9


def _positive(params: dict[str, Any], name: str) -> int | None:
    """A provided number must be an integer > 0."""
    value = p.text(params, name)
    if value is None:
        return None
    digits = value.lstrip("+-")
    if not digits.isascii() or not digits.isdigit() or len(digits) > _MAX_DIGITS:
        raise p.ParamError(f"{name} must be a number, got {value!r}")
    number = int(value)
    if number <= 0:
        raise p.ParamError(f"{name} must be greater than 0")
    return number


def _page(params: dict[str, Any]) -> tuple[int, int]:
    page_no = _positive(params, "page_no") or 1
    size = p.text(params, "page_size")
    if size is None:
        return page_no, MAX_PAGE_SIZE
    digits = size.lstrip("+-")
    if not digits.isascii() or not digits.isdigit() or len(digits) > _MAX_DIGITS:
        raise p.ParamError(f"page_size must be a number, got {size!r}")
    number = int(size)
    return page_no, number if 0 < number <= MAX_PAGE_SIZE else MAX_PAGE_SIZE


def _optional_range(params, ctx: MethodContext, start: str, end: str):
    lo = p.optional_time(params, start, ctx.tz)
    hi = p.optional_time(params, end, ctx.tz, end=True)
    if lo is not None and hi is not None and hi < lo:
        raise p.ParamError(f"{end} is before {start}")
    # in the business time zone: a bill date is a local day, even for a bound sent in UTC
    return tuple(None if t is None else t.astimezone(ctx.tz) for t in (lo, hi))


def _query(ctx: MethodContext, params: dict[str, Any], platform: str | list[str], **filters):
    imported = p.time_range(params, ctx.tz)
    page_no, page_size = _page(params)
    shops = p.within(p.codes(params, "shop_bn", "shop_code"), ctx.app.shop_codes)
    numbers = None if ctx.app.account_numbers is None else list(ctx.app.account_numbers)
    f = BillFilter(
        platform=platform,
        imported_start=imported[0],
        imported_end=imported[1],
        shop_codes=shops,
        account_numbers=numbers,
        **filters,
    )
    return Imports(ctx.ledger).bills(f, limit=page_size, offset=(page_no - 1) * page_size)


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _crc(r: BillRecord) -> str:
    """The original's ``crc_unique``: CRC-32 (unsigned, decimal) of the row's unique key."""
    return str(zlib.crc32(r.unique_key.encode("utf-8")))


@shopex_method("finance.getList")
def get_list(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """Bill rows of every imported platform, or of the ``platform_type`` (``#`` list) named."""
    platforms = p.codes(params, "platform_type") or list(PLATFORMS)
    trade = _optional_range(params, ctx, "trade_start_time", "trade_end_time")
    order = _optional_range(params, ctx, "order_start_time", "order_end_time")
    if order != (None, None):
        # bills carry no order creation time: nothing matches
        p.time_range(params, ctx.tz)
        _page(params)
        return {"lists": [], "count": 0}
    count, rows = _query(ctx, params, platforms, trade_start=trade[0], trade_end=trade[1])
    return {"lists": [_bill(ctx, r) for r in rows], "count": count}


#: getList's fields per platform: field → the raw column it is read from (texts only; the
#: money, times, shop and the flow number come from the stored row for every platform).
#: A field a platform has no column for is ``""``.
GETLIST_COLUMNS: dict[str, dict[str, str]] = {
    "alipay": {
        "order_bn": "业务基础订单号",
        "trade_no": "业务流水号",
        "out_trade_no": "商户订单号",
        "member": "对方账号",
        "trade_type": "业务类型",
        "trade_desc": "业务描述",
        "trade_order_bn": "业务订单号",
        "channel_name": "交易渠道",
        "remarks": "备注",
        "goods_name": "商品名称",
        "bill_source": "业务账单来源",
    },
    "wechat_trade": {  # 交易账单
        "order_bn": "商户订单号",
        "trade_no": "微信订单号",
        "out_trade_no": "商户订单号",
        "member": "用户标识",
        "trade_type": "交易状态",
        "trade_order_bn": "商户退款单号",
        "channel_name": "交易类型",
        "remarks": "商户数据包",
        "goods_name": "商品名称",
    },
    "wechat_fund": {  # 资金账单
        "trade_no": "微信支付业务单号",
        "trade_type": "业务类型",
        "trade_desc": "业务名称",
        "trade_order_bn": "业务凭证号",
        "remarks": "备注",
    },
    "wechat_shop": {
        "order_bn": "关联订单号",
        "out_trade_no": "关联订单号",
        "trade_type": "动帐类型",
        "trade_order_bn": "关联售后单号",
        "remarks": "详情",
    },
    "jd_wallet": {
        "order_bn": "商户订单号",
        "trade_no": "商户订单号",
        "out_trade_no": "商户订单号",
        "remarks": "交易备注",
    },
    "jzt": {"trade_type": "交易类型"},
}
_MASKED = ("member",)
_ZERO_NO = {"", "0"}  # WeChat writes "0" for "no refund number"


def _columns(r: BillRecord) -> dict[str, str]:
    if r.platform == "wechat":
        return GETLIST_COLUMNS["wechat_fund" if "资金流水单号" in r.raw else "wechat_trade"]
    return GETLIST_COLUMNS.get(r.platform, {})


def _bill(ctx: MethodContext, r: BillRecord) -> dict[str, Any]:
    raw, m = r.raw, ctx.app.data_mask
    columns = _columns(r)

    def cell(field: str) -> str:
        value = _s(raw.get(columns[field], "")) if field in columns else ""
        if field == "trade_order_bn" and value in _ZERO_NO:
            return ""
        return mask(value, m) if field in _MASKED else value

    expense = r.expense > r.income
    order_bn = cell("order_bn") or (_s(r.order_no) if r.platform == "alipay" else "")
    return {
        "order_bn": order_bn,
        "trade_no": cell("trade_no"),
        "out_trade_no": cell("out_trade_no"),
        "financial_no": _s(r.flow_no),
        "money": money(abs(r.income - r.expense), ctx.style),
        "member": cell("member"),
        "trade_type": cell("trade_type"),
        "platform_type": r.platform,
        "trade_time": when(r.trade_time, ctx.tz),
        "order_create_date": "",
        "create_time": when(r.imported_at, ctx.tz),
        "trade_desc": cell("trade_desc"),
        "trade_order_bn": cell("trade_order_bn"),
        "channel_name": cell("channel_name"),
        "remarks": cell("remarks"),
        "goods_name": cell("goods_name"),
        "amount": money(r.balance, ctx.style) if r.balance is not None else "",
        "bill_source": cell("bill_source"),
        "bill_type": "1" if expense else "0",
        "shop_bn": _s(r.shop_code),
        "shop_type": r.account_type,
        "shop_name": mask(r.account_name, m),
        "settlement_remarks": "",
        "goods_bn": "",
        "goods_number": "",
    }


@shopex_method("finance.getJZT")
def get_jzt(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """JD 精准通 (advertising) bill rows."""
    plan_id = _positive(params, "plan_id")
    launch = _optional_range(params, ctx, "launchtime_start_time", "launchtime_end_time")
    count, rows = _query(
        ctx,
        params,
        "jzt",
        flow_no=p.text(params, "pay_serial_number"),
        platform_account=p.codes(params, "account"),
        business_type=p.text(params, "trade_type"),
        ref_id=None if plan_id is None else str(plan_id),
        trade_start=launch[0],
        trade_end=launch[1],
    )
    return {"lists": [_jzt(ctx, r) for r in rows], "count": count}


def _jzt(ctx: MethodContext, r: BillRecord) -> dict[str, Any]:
    return {
        "pay_serial_number": _s(r.flow_no),
        "account": mask(r.raw.get("账号", ""), ctx.app.data_mask),
        "trade_type": r.raw.get("交易类型", ""),
        "plan_id": r.raw.get("计划ID", ""),
        "amount": money(r.expense - r.income, ctx.style),
        "launchtime": when(r.trade_time, ctx.tz),
        "at_time": when(r.imported_at, ctx.tz),
        "up_time": when(r.updated_at, ctx.tz),
        "crc_unique": _crc(r),
    }


@shopex_method("finance.getJDbill")
def get_jd_bill(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """JD wallet flow rows."""
    bill = _optional_range(params, ctx, "bill_start_time", "bill_end_time")
    trade = _optional_range(params, ctx, "trade_start_time", "trade_end_time")
    count, rows = _query(
        ctx,
        params,
        "jd_wallet",
        ref_id=p.codes(params, "member_id"),
        platform_account=p.codes(params, "account_no"),
        order_no=p.text(params, "trade_no"),
        bill_date_start=bill[0],
        bill_date_end=bill[1],
        trade_start=trade[0],
        trade_end=trade[1],
    )
    return {"lists": [_jd(ctx, r) for r in rows], "count": count}


def _jd(ctx: MethodContext, r: BillRecord) -> dict[str, Any]:
    raw = r.raw
    bill_time = when(datetime.combine(r.bill_date, time(), ctx.tz), ctx.tz) if r.bill_date else ""
    return {
        "member_id": raw.get("商户号", ""),
        "account_no": raw.get("账户代码", ""),
        "account_name": mask(raw.get("账户名称", ""), ctx.app.data_mask),
        "trade_time": when(r.trade_time, ctx.tz),
        "trade_no": raw.get("商户订单号", ""),
        "account_balance": money(r.balance, ctx.style) if r.balance is not None else "",
        "income_fee": money(r.income, ctx.style),
        "outgo_fee": money(r.expense, ctx.style),
        "bill_time": bill_time,
        "remark": raw.get("交易备注", ""),
        "at_time": when(r.imported_at, ctx.tz),
        "up_time": when(r.updated_at, ctx.tz),
        "crc_unique": _crc(r),
    }
