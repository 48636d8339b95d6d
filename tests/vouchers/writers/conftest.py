"""The sample every writer test writes: four vouchers of October 2026 for a Tmall shop —
income with a 客户 dimension, fees with a 部门, a withdrawal, and a red (红字) reversal."""

from __future__ import annotations

from datetime import date

import pytest

from zhangben.vouchers.model import BookHead, Voucher, VoucherLine

BOOK = BookHead(
    name="杭州示例电子商务有限公司",
    product="k3cloud_xlsx",
    book_code="001",
    org_code="100",
    preparer="张会计",
)


def _l(seq, summary, code, name, debit=0, credit=0, **aux) -> VoucherLine:
    return VoucherLine(seq, summary, code, name, debit, credit, aux)


VOUCHERS = (
    Voucher(
        "记", 1, date(2026, 10, 1), 2026, 10, "天猫A店 10-01 交易 3笔",
        (
            _l(1, "天猫A店 10-01 交易 3笔", "1012.01", "其他货币资金-支付宝", debit=1_234_567),
            _l(2, "天猫A店 10-01 交易 3笔", "1122.01", "应收账款-天猫", credit=1_234_567,
               客户="TM-A"),
        ),
        attachments=3, ref="b1/v1",
    ),
    Voucher(
        "记", 2, date(2026, 10, 1), 2026, 10, "天猫A店 10-01 收费",
        (
            _l(1, "天猫A店 10-01 天猫佣金", "6601.01", "销售费用-平台佣金", debit=12_345,
               部门="电商部"),
            _l(2, "天猫A店 10-01 花呗服务费", "6603.01", "财务费用-手续费", debit=6_001),
            _l(3, "天猫A店 10-01 收费", "1012.01", "其他货币资金-支付宝", credit=18_346),
        ),
        ref="b1/v2",
    ),
    Voucher(
        "记", 3, date(2026, 10, 2), 2026, 10, "天猫A店 10-02 提现",
        (
            _l(1, "提现", "1002", "银行存款", debit=1_000_000),
            _l(2, "提现", "1012.01", "其他货币资金-支付宝", credit=1_000_000),
        ),
        ref="b1/v3",
    ),
    Voucher(
        "记", 4, date(2026, 10, 31), 2026, 10, "冲销 凭证 记-2",
        (
            _l(1, "冲销 凭证 记-2", "6601.01", "销售费用-平台佣金", debit=-12_345, 部门="电商部"),
            _l(2, "冲销 凭证 记-2", "1012.01", "其他货币资金-支付宝", credit=-12_345),
        ),
        ref="b2/v1",
    ),
)  # fmt: skip


@pytest.fixture
def book() -> BookHead:
    return BOOK


@pytest.fixture
def vouchers() -> tuple[Voucher, ...]:
    return VOUCHERS
