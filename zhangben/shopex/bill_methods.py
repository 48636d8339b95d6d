"""The original's bill methods over imported bill rows: ``finance.getList`` (Alipay),
``finance.getJZT`` (JD 精准通) and ``finance.getJDbill`` (JD wallet).

Each takes the required ``start_time``/``end_time`` (the rows' *import* time, half-open
``start <= t < end``), optional filters, ``page_no`` (> 0) and ``page_size`` (absent, ≤ 0 or
> 100 → 100), and returns ``{"lists": [...], "count": N}`` newest first (trade time). Money
is a string with three decimals in the ``shopex`` style (``"12.500"``), a number in the
``seed`` style; times are ``yyyy-MM-dd HH:mm:ss``; a text the file left empty is ``""``.
Rows are limited to the accounts the app may see; an unknown shop code matches nothing.
"""

from __future__ import annotations

import zlib
from datetime import datetime, time
from typing import Any

from zhangben.imports.bills import BillFilter, BillRecord
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
    lo = p.required_time(params, start, ctx.tz) if p.text(params, start) else None
    hi = p.required_time(params, end, ctx.tz) if p.text(params, end) else None
    if lo is not None and hi is not None and hi < lo:
        raise p.ParamError(f"{end} is before {start}")
    return lo, hi


def _query(ctx: MethodContext, params: dict[str, Any], platform: str, **filters):
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
    """Alipay bill rows."""
    platform_type = p.text(params, "platform_type")
    trade = _optional_range(params, ctx, "trade_start_time", "trade_end_time")
    order = _optional_range(params, ctx, "order_start_time", "order_end_time")
    if platform_type not in (None, "alipay") or order != (None, None):
        # only Alipay rows here, and bills carry no order creation time: nothing matches
        p.time_range(params, ctx.tz)
        _page(params)
        return {"lists": [], "count": 0}
    count, rows = _query(ctx, params, "alipay", trade_start=trade[0], trade_end=trade[1])
    return {"lists": [_alipay(ctx, r) for r in rows], "count": count}


def _alipay(ctx: MethodContext, r: BillRecord) -> dict[str, Any]:
    raw, m = r.raw, ctx.app.data_mask
    expense = r.expense > 0 and not r.income
    return {
        "order_bn": raw.get("业务基础订单号") or _s(r.order_no),
        "trade_no": raw.get("业务流水号", ""),
        "out_trade_no": raw.get("商户订单号", ""),
        "financial_no": _s(r.flow_no),
        "money": money(r.expense if expense else r.income, ctx.style),
        "member": mask(raw.get("对方账号", ""), m),
        "trade_type": raw.get("业务类型", ""),
        "platform_type": "alipay",
        "trade_time": when(r.trade_time, ctx.tz),
        "order_create_date": "",
        "create_time": when(r.imported_at, ctx.tz),
        "trade_desc": raw.get("业务描述", ""),
        "trade_order_bn": raw.get("业务订单号", ""),
        "channel_name": raw.get("交易渠道", ""),
        "remarks": raw.get("备注", ""),
        "goods_name": raw.get("商品名称", ""),
        "amount": money(r.balance, ctx.style) if r.balance is not None else "",
        "bill_source": raw.get("业务账单来源", ""),
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
        platform_account=p.text(params, "account"),
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
        ref_id=p.text(params, "member_id"),
        platform_account=p.text(params, "account_no"),
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
