"""The Vouchers facade over a real ledger on both databases: a month of sample bills made into
balanced vouchers with the default rules, every flow in exactly one live voucher, red vouchers
for flows reversed after export, and each bad input refused with nothing written."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from tests.vouchers.support import MONTH, ROWS, import_month, month_entry_ids
from zhangben.core.errors import NotFound, ValidationError, VoucherInvalid, VoucherState
from zhangben.store.voucher_tables import voucher_batches, voucher_sources
from zhangben.vouchers.service import Vouchers


@pytest.fixture
def vouchers(ledger, tmp_path):
    import_month(ledger, tmp_path)
    v = Vouchers(ledger)
    v.add_book("星空", product="k3cloud_xlsx", shop="S3", book_code="001", org_code="100")
    return v


def _month_ids(ledger) -> set[int]:
    return set(month_entry_ids(ledger))


def _sources(engine) -> list[tuple[int, int, bool]]:
    with engine.connect() as conn:
        q = sa.select(
            voucher_sources.c.entry_id, voucher_sources.c.batch_id, voucher_sources.c.live
        )
        return [tuple(r) for r in conn.execute(q)]


def test_the_sample_month_becomes_balanced_vouchers(vouchers, ledger):
    made = vouchers.generate("星空", MONTH, actor="tester")
    assert made.batch is not None and made.batch.state == "draft"
    assert made.flows == 2 * ROWS
    assert made.vouchers and all(v.debit_total == v.credit_total for v in made.vouchers)
    numbers = [v.number for v in made.vouchers]
    assert numbers == list(range(1, len(numbers) + 1))
    # every flow of the month in exactly one live voucher
    sources = _sources(ledger.engine)
    assert sorted(e for e, _, live in sources if live) == sorted(_month_ids(ledger))
    # per day and type: a voucher per (day, rule, account), its lines leaf 科目 of the book
    codes = {s.code: s for s in vouchers.subjects("星空")}
    for v in made.vouchers:
        for line in v.lines:
            assert codes[line.subject_code].leaf
    kinds = {v.summary.split()[2] for v in made.vouchers}
    assert {"支付宝在线支付", "支付宝转账", "支付宝提现", "支付宝服务费"} <= kinds
    # the vouchers sum to the flows: Σ借 of the month is Σ|flow| (a rule of two gross lines)
    with ledger.engine.connect() as conn:
        total = conn.execute(
            sa.text(
                "SELECT sum(abs(amount)) FROM entries WHERE id IN (SELECT entry_id FROM "
                "voucher_sources)"
            )  # fmt: skip
        ).scalar()
    assert sum(v.debit_total for v in made.vouchers) == total // 100


def test_a_draft_is_replaced_and_an_exported_month_is_already_vouchered(vouchers, ledger):
    first = vouchers.generate("星空", MONTH)
    again = vouchers.generate("星空", MONTH)
    assert [b.state for b in vouchers.batches("星空")] == ["void", "draft"]
    assert [v.number for v in again.vouchers] == [v.number for v in first.vouchers]
    out = vouchers.export(again.batch.id)
    assert out.filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(out.content))
    assert "凭证#单据头(FBillHead)" in book.sheetnames
    assert vouchers.batch(again.batch.id)[0].state == "exported"
    with pytest.raises(VoucherState, match=r"period 2024-03 of book 星空 is already vouchered"):
        vouchers.generate("星空", MONTH)
    with pytest.raises(VoucherState, match="only a draft is voided"):
        vouchers.void(again.batch.id)


def test_a_flow_reversed_after_export_gets_a_red_voucher(vouchers, ledger):
    made = vouchers.generate("星空", MONTH)
    vouchers.export(made.batch.id)
    entry = next(iter(sorted(_month_ids(ledger))))
    test = vouchers.test_flow("星空", entry)
    assert test.vouchered_in == made.batch.id
    reversal = ledger.reverse_entry(entry)
    month = f"{reversal.entries[0].trade_time:%Y-%m}"
    red = vouchers.generate("星空", month)
    assert len(red.vouchers) == 1
    (v,) = red.vouchers
    assert v.summary.startswith("冲销 2024-03 记-")
    assert v.debit_total == v.credit_total < 0  # 红字: negative amounts on the same sides
    assert [line.subject_code for line in v.lines] == [x.subject_code for x in test.voucher.lines]
    assert -v.debit_total == test.voucher.debit_total


def test_test_flow_names_the_rule_and_the_lines(vouchers, ledger):
    entry = min(_month_ids(ledger))
    t = vouchers.test_flow("星空", entry)
    assert t.rule and t.voucher is not None and t.vouchered_in is None
    assert t.voucher.debit_total == t.voucher.credit_total > 0
    with pytest.raises(NotFound):
        vouchers.test_flow("星空", 10**9)


def test_an_unmapped_flow_stops_the_batch_and_is_listed(vouchers, ledger):
    rules = [r for r in vouchers.rules("星空") if r["name"] != "转账待查"]
    vouchers.set_rules("星空", rules)
    with pytest.raises(VoucherInvalid, match=r"未映射业务类型: 支付宝/转账, \d+ 笔"):
        vouchers.generate("星空", MONTH)
    assert _sources(ledger.engine) == [] and vouchers.batches("星空") == []
    preview = vouchers.preview("星空", MONTH)
    assert "支付宝/转账" in preview.unmapped


def test_bad_rules_and_subjects_are_refused_naming_them(vouchers, ledger):
    before = vouchers.rules("星空")
    with pytest.raises(VoucherInvalid, match="its lines do not balance"):
        vouchers.set_rules(
            "星空",
            [
                {
                    "name": "坏",
                    "lines": [{"dc": "D", "subject": "1002"}, {"dc": "D", "subject": "1001"}],
                }
            ],
        )
    assert vouchers.rules("星空") == before
    # a rule naming a parent 科目, and one not in the book: generation is refused, nothing written
    vouchers.set_rules(
        "星空",
        [
            {
                "name": "全部",
                "direction": "in",
                "lines": [{"dc": "D", "subject": "1012"}, {"dc": "C", "subject": "9999"}],
            },
            *before,
        ],
    )
    with pytest.raises(VoucherInvalid) as e:
        vouchers.generate("星空", MONTH)
    assert "科目 1012 其他货币资金 is not a leaf" in e.value.message
    assert "科目 9999 is not in book 星空" in e.value.message
    assert _sources(ledger.engine) == []
    with pytest.raises(VoucherInvalid, match="1122.01 应收账款-平台 needs 客户"):
        vouchers.set_rules(
            "星空",
            [
                {
                    "name": "无客户",
                    "direction": "in",
                    "lines": [
                        {"dc": "D", "subject": "@account"},
                        {"dc": "C", "subject": "1122.01"},
                    ],
                },
                *before,
            ],
        )
        vouchers.generate("星空", MONTH)


def test_the_books_closed_period_takes_no_voucher(vouchers):
    vouchers.close_book_period("星空", MONTH)
    with pytest.raises(VoucherState, match=r"closed \(结账 through 2024-03\)"):
        vouchers.generate("星空", MONTH)
    assert vouchers.batches("星空") == []


def test_a_flow_is_in_one_live_voucher_by_the_database(vouchers, ledger):
    made = vouchers.generate("星空", MONTH)
    entry, batch, _ = _sources(ledger.engine)[0]
    with pytest.raises(sa.exc.IntegrityError), ledger.engine.begin() as conn:
        other = conn.execute(
            voucher_batches.insert().returning(voucher_batches.c.id),
            dict(
                book_id=1,
                month=MONTH,
                rules_sha256="x",
                state="draft",
                vouchers=0,
                flows=0,
                rounding=0,
                ledger_closed=False,
                created_by="",
                created_at=made.batch.created_at,
            ),
        ).scalar_one()
        line = conn.execute(sa.text("SELECT min(id) FROM voucher_lines")).scalar()
        conn.execute(
            voucher_sources.insert(), dict(entry_id=entry, batch_id=other, line_id=line, live=True)
        )


def test_a_chart_with_duplicate_codes_is_refused(vouchers, tmp_path):
    path = tmp_path / "科目表.csv"
    path.write_text(
        "科目编码,科目名称,余额方向,辅助核算\n1002,银行存款,借,\n1002,银行存款2,借,\n",
        encoding="utf-8",
    )
    before = vouchers.subjects("星空")
    with pytest.raises(VoucherInvalid, match=r"duplicate code 1002 \(lines 2 and 3\)"):
        vouchers.import_chart("星空", path)
    assert vouchers.subjects("星空") == before


def test_a_chart_missing_the_rules_codes_is_refused(vouchers, tmp_path):
    path = tmp_path / "科目表.csv"
    path.write_text("科目编码,科目名称,余额方向\n1002,银行存款,借\n", encoding="utf-8")
    with pytest.raises(VoucherInvalid, match=r"1122.01 \(rule '收款'\) is not in the chart"):
        vouchers.import_chart("星空", path)


def test_a_template_not_in_the_products_format_is_refused(ledger):
    v = Vouchers(ledger)
    with pytest.raises(ValidationError, match="template"):
        v.add_book("坏", product="k3cloud_xlsx", template=b"not a workbook")
    assert v.books() == []


def test_a_sbe2013_book_uses_the_small_enterprise_codes(vouchers):
    vouchers.add_book("小企业", product="k3cloud_xlsx", standard="sbe2013", shop="S3")
    made = vouchers.generate("小企业", MONTH)
    codes = {line.subject_code for v in made.vouchers for line in v.lines}
    assert "5603.01" in codes and not any(re.match(r"6\d{3}", c) for c in codes)


def test_rounding_from_four_to_two_decimals_is_one_line_per_voucher(ledger):
    """Σ of net and tax rounded apart differs from the gross by a cent: one line on the book's
    rounding subject carries it, and the batch reports it."""
    from datetime import datetime

    ledger.open_account(number="M1", name="门店", type="main", shop_code="S9")
    for amount in ("1.0000", "1.0000", "0.0049"):
        ledger.income("M1", amount, trade_time=datetime(2024, 3, 2, 9, tzinfo=ledger.tz))
    v = Vouchers(ledger)
    v.add_book("税", product="k3cloud_xlsx", shop="S9")
    v.set_rules(
        "税",
        [
            {
                "name": "含税收入",
                "direction": "in",
                "aggregate": "per_row",
                "lines": [
                    {"dc": "D", "subject": "@account"},
                    {"dc": "C", "subject": "6001", "amount": "net:0.13"},
                    {"dc": "C", "subject": "2221.01.01", "amount": "tax:0.13"},
                ],
            }
        ],
    )
    made = v.generate("税", MONTH)
    assert [len(x.lines) for x in made.vouchers] == [4, 4, 3]
    for x in made.vouchers:
        assert x.debit_total == x.credit_total
    first = made.vouchers[0]
    # 1.00 gross: tax 0.11504… → 0.12, net 0.8850 → 0.89; 1.01 ≠ 1.00: 0.01 on 6603.99 借
    assert [(x.subject_code, x.debit, x.credit) for x in first.lines] == [
        ("1012.09", 100, 0),
        ("6001", 0, 89),
        ("2221.01.01", 0, 12),
        ("6603.99", 1, 0),
    ]
    assert made.rounding == [(1, -1), (2, -1)]
    assert made.batch.rounding == 2
