"""The Vouchers facade over a real ledger on both databases: a month of sample bills made into
balanced vouchers with the default rules, every flow in exactly one live voucher, red vouchers
for flows reversed after export, and each bad input refused with nothing written; the
reconciliation samples' differences written off as vouchers by gap type, and a red voucher for
a match undone after export."""

from __future__ import annotations

import io
import re
from datetime import datetime

import openpyxl
import pytest
import sqlalchemy as sa

from tests.recon.support import ACTOR, with_samples
from tests.vouchers.support import MONTH, ROWS, import_month, month_entry_ids
from zhangben.core.errors import NotFound, ValidationError, VoucherInvalid, VoucherState
from zhangben.demo.orders import PLANTED
from zhangben.store.bills_tables import bill_rows
from zhangben.store.recon_tables import expected_items
from zhangben.store.voucher_tables import voucher_batches, voucher_recon_sources, voucher_sources
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


# -- reconciliation differences written off -----------------------------------------------


@pytest.fixture
def reconciled(ledger, tmp_path):
    """The reconciliation samples (a WeChat bill of March 2024, shop S001, and its order file)
    run: three commission differences confirmed by the default rule; a book over the shop."""
    recon, files = with_samples(ledger, tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.run(actor=ACTOR)
    v = Vouchers(ledger)
    v.add_book("微信", product="u8_xml", shop="S001")
    return recon, v


def _item(ledger, table, **where) -> int:
    with ledger.engine.connect() as conn:
        q = sa.select(table.c.id).where(*(table.c[k] == v for k, v in where.items()))
        return conn.execute(q.order_by(table.c.id)).scalars().first()


def _recon_sources(engine) -> list[tuple[int, bool, int, bool]]:
    with engine.connect() as conn:
        rs = voucher_recon_sources.c
        q = sa.select(rs.group_id, rs.red, rs.batch_id, rs.live).order_by(rs.batch_id, rs.group_id)
        return [tuple(r) for r in conn.execute(q)]


def _writeoffs(made) -> list:
    return [v for v in made.vouchers if "核销差异" in v.summary]


def test_differences_written_off_become_vouchers_and_an_undo_a_red_one(reconciled, ledger):
    recon, vouchers = reconciled
    commission = [g for g in recon.groups(state="active") if g.gap_type == "COMMISSION"]
    assert len(commission) == len(PLANTED.commission) and all(g.difference < 0 for g in commission)
    # the order paid short by 298.20: matched by hand with gap type OTHER
    sale, fee = (_item(ledger, expected_items, order_no=PLANTED.difference, kind=k)
                 for k in ("sale", "service_fee"))  # fmt: skip
    paid = _item(ledger, bill_rows, order_no=PLANTED.difference)
    other = recon.match([(sale, None), (fee, None)], [(paid, None)], actor=ACTOR,
                        gap_type="OTHER")  # fmt: skip
    assert other.outcome == "with_difference" and other.difference == -2_982_000

    made = vouchers.generate("微信", MONTH)
    assert made.differences == made.batch.differences == len(commission) + 1
    assert all(v.debit_total == v.credit_total for v in made.vouchers)
    lines = [(x.subject_code, x.debit, x.credit) for v in _writeoffs(made) for x in v.lines]
    # less money came than expected: the expense 借, the order's receivable (1122.01) 贷
    spent = sum(-g.difference for g in commission) // 100
    assert sum(d for c, d, _ in lines if c == "6601.01") == spent > 0
    assert sum(d for c, d, _ in lines if c == "6711") == 29_820
    assert sum(c_ for c, _, c_ in lines if c == "1122.01") == spent + 29_820
    live = {g for g, red, _, ok in _recon_sources(ledger.engine) if ok and not red}
    assert live == {g.id for g in commission} | {other.id}

    # a commission match undone while its voucher is a draft: generated again, it is gone
    recon.undo(commission[0].id, reason="wrong order", actor=ACTOR)
    again = vouchers.generate("微信", MONTH)
    assert again.differences == len(commission)
    live = {g for g, red, b, ok in _recon_sources(ledger.engine) if ok}
    assert live == {g.id for g in commission[1:]} | {other.id}
    # each difference in one live voucher: the database refuses a second
    rs = voucher_recon_sources.c
    with ledger.engine.connect() as conn:
        line = conn.execute(sa.select(rs.line_id).where(rs.group_id == other.id, rs.live)).scalar()
    with pytest.raises(sa.exc.IntegrityError), ledger.engine.begin() as conn:
        row = dict(group_id=other.id, red=False, batch_id=made.batch.id, line_id=line, live=True)
        conn.execute(voucher_recon_sources.insert().values(**row))

    # exported, then the OTHER match undone: a red voucher in the next batch, of the undo's month
    vouchers.export(again.batch.id)
    original = next(v for v in _writeoffs(again) if any(x.subject_code == "6711" for x in v.lines))
    recon.undo(other.id, reason="paid later", actor=ACTOR)
    now = f"{datetime.now(ledger.tz):%Y-%m}"
    red = vouchers.generate("微信", now)
    (v,) = red.vouchers
    assert red.differences == red.batch.differences == 1 and red.flows == 0
    by_id = {b.id: b for b in vouchers.batches("微信")}
    assert by_id[again.batch.id].differences == len(commission)  # as read back, once exported
    assert vouchers.batch(red.batch.id)[0].differences == 1
    assert v.summary.startswith(f"冲销 {MONTH} 记-{original.number} ")
    assert v.debit_total == v.credit_total == -29_820  # 红字: the same sides, negative
    assert [x.subject_code for x in v.lines] == [x.subject_code for x in original.lines]
    assert (other.id, True, red.batch.id, True) in _recon_sources(ledger.engine)
    # nothing left: March is vouchered, and the red is not made twice
    with pytest.raises(VoucherState, match="already vouchered"):
        vouchers.generate("微信", MONTH)
    assert vouchers.generate("微信", now).differences == 1  # the draft made anew
    assert sum(1 for g, r, _, ok in _recon_sources(ledger.engine) if r and ok) == 1


def test_a_book_without_the_newer_defaults_gets_them_after_its_own_rules(reconciled, ledger):
    """A book made before the write-off rules shipped: its edited rules stay first."""
    recon, vouchers = reconciled
    defaults = vouchers.rules("微信")
    lines = [{"dc": "D", "subject": "@account"}, {"dc": "C", "subject": "1221.99"}]
    mine = {"name": "我的收款", "direction": "in", "lines": lines}
    old = [mine] + [r for r in defaults if "gap_type" not in r]
    vouchers.set_rules("微信", old)
    with pytest.raises(VoucherInvalid, match="核销差异/COMMISSION"):
        vouchers.generate("微信", MONTH)
    added = vouchers.add_default_rules("微信")
    assert added == [r for r in defaults if "gap_type" in r] and added
    assert vouchers.rules("微信") == old + added  # appended: the book's own rules decide first
    assert vouchers.add_default_rules("微信") == []  # nothing twice
    made = vouchers.generate("微信", MONTH)
    assert made.batch.differences == len(PLANTED.commission)
    assert any(x.subject_code == "1221.99" for v in made.vouchers for x in v.lines)  # mine
    received = [x for v in made.vouchers if "核销差异" not in v.summary for x in v.lines
                if x.subject_code == "1122.01" and x.credit > 0]  # fmt: skip
    assert received == []  # not 收款's: mine came first


def test_an_unmapped_gap_type_stops_the_batch(reconciled, ledger):
    recon, vouchers = reconciled
    rules = [r for r in vouchers.rules("微信") if r.get("gap_type") != "COMMISSION"]
    vouchers.set_rules("微信", rules)
    with pytest.raises(VoucherInvalid, match=r"未映射业务类型: 核销差异/COMMISSION, 3 笔"):
        vouchers.generate("微信", MONTH)
    assert _recon_sources(ledger.engine) == [] and vouchers.batches("微信") == []
    # a flow rule never takes a difference, nor a gap_type rule a flow
    catch_all = {"name": "全部", "lines": [{"dc": "D", "subject": "1221.99"},
                                          {"dc": "C", "subject": "@account"}]}  # fmt: skip
    vouchers.set_rules("微信", [catch_all])
    preview = vouchers.preview("微信", MONTH)
    assert set(preview.unmapped) == {"核销差异/COMMISSION"}
