"""The plain records a voucher batch is made of, shared by generation and the writers.

Money is integer minor units of the book (分, 2 decimals by default): a writer never rounds, the
generator has already put each voucher's rounding residual on one line (vouchers.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class BookHead:
    """What a writer needs to know of the book (账套) it writes for."""

    name: str
    product: str  # k3cloud_xlsx | k3cloud_json | kingdee_dbf | u8_xml | generic_xlsx
    book_code: str = ""  # 账簿编码 (K/3 Cloud FAccountBookID)
    org_code: str = ""  # 核算组织
    voucher_word: str = "记"  # 凭证字 (K/3 Cloud: PRE001 is 记)
    currency_code: str = "PRE001"  # K/3 Cloud PRE001, U8 人民币, KIS RMB
    rate_type: str = "HLTX01_SYS"
    preparer: str = ""  # 制单人
    decimals: int = 2


@dataclass(frozen=True, slots=True)
class VoucherLine:
    """One 分录. Exactly one of ``debit`` / ``credit`` is non-zero; a red (红字) line has a
    negative amount on the same side as the line it reverses."""

    seq: int
    summary: str  # 摘要
    subject_code: str  # 科目编码, a leaf
    subject_name: str
    debit: int = 0
    credit: int = 0
    aux: dict[str, str] = field(default_factory=dict)  # 核算维度: {"客户": "天猫A店", ...}


@dataclass(frozen=True, slots=True)
class Voucher:
    word: str  # 凭证字
    number: int  # continuous per word and period
    date: date  # 凭证日期 (the period's business day it aggregates, or the period end)
    year: int
    period: int  # accounting period (month 1-12)
    summary: str
    lines: tuple[VoucherLine, ...]
    attachments: int = 0  # 附单据数
    ref: str = ""  # a stable id (batch/voucher) for idempotent re-sends (U8 reserve2)

    @property
    def debit_total(self) -> int:
        return sum(line.debit for line in self.lines)

    @property
    def credit_total(self) -> int:
        return sum(line.credit for line in self.lines)
