"""How the console shows money and times: two decimals with thousands separators, dates and
times in the business time zone."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from jinja2 import Environment

CHANNEL_LABELS = {
    "alipay": "支付宝",
    "wechat": "微信支付",
    "wechat_shop": "微信小店",
    "jd_wallet": "京东钱包",
    "jzt": "京东精准通",
    "main": "主账户",
    "merchant": "商户",
    "backup": "备用",
}
TYPE_LABELS = {
    "income": "收入",
    "expense": "支出",
    "transfer_in": "转入",
    "transfer_out": "转出",
    "reversal": "冲正",
}
CENT = Decimal("0.01")


def money(value: Decimal | int | None) -> str:
    """``1,234,567.80``; ``-`` for None."""
    if value is None:
        return "-"
    return f"{Decimal(value).quantize(CENT, ROUND_HALF_UP):,.2f}"


def install(env: Environment, tz: tzinfo) -> None:
    def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
        return value.astimezone(tz).strftime(fmt) if value is not None else "-"

    env.filters.update(
        money=money,
        when=when,
        channel=lambda t: CHANNEL_LABELS.get(t, t),
        entry_type=lambda t: TYPE_LABELS.get(t, t),
    )
