"""The console's 凭证 screen over real HTTP (the whole app, TestClient) on SQLite:
a month's preview with balanced totals and nothing written, its unmapped flows in red,
generating (supervisors only, with CSRF), exporting and downloading a batch, the rules and the
"test this flow" form, and an unknown book, bad month or entry as a message on the page."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.console.support import csrf_of, demo_ledger, login
from tests.vouchers.support import MONTH, ROWS, import_month, month_entry_ids
from zhangben.app import create_app
from zhangben.console.session import STALE_FORM
from zhangben.vouchers.service import Vouchers

BOOK = "星空"
PAGE = f"/console/vouchers?book={BOOK}&month={MONTH}"


@pytest.fixture
def vouchers(ledger, tmp_path):
    demo_ledger(ledger)
    import_month(ledger, tmp_path)
    service = Vouchers(ledger)
    service.add_book(BOOK, product="k3cloud_xlsx", shop="S3", book_code="001", org_code="100")
    return service


@pytest.fixture
def app(settings, ledger, vouchers):
    return create_app(settings, ledger)


def _as(app, username: str) -> TestClient:
    client = TestClient(app)
    assert login(client, username).status_code == 303, username
    return client


def _money(html: str, id_: str) -> Decimal:
    text = re.search(rf'id="{id_}">([^<]+)<', html).group(1)
    return Decimal(text.replace(",", ""))


def _cells(xlsx: bytes) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    return [row for sheet in book for row in sheet.iter_rows(values_only=True)]


def _generate(client: TestClient, csrf: str, month: str = MONTH, book: str = BOOK):
    return client.post(
        "/console/vouchers/generate",
        data={"csrf": csrf, "book": book, "month": month},
        follow_redirects=False,
    )


def test_the_preview_shows_balanced_totals_and_writes_nothing(app, vouchers):
    expected = vouchers.preview(BOOK, MONTH)
    with _as(app, "supervisor") as client:
        page = client.get(PAGE)
        assert page.status_code == 200, page.text
        assert 'href="/console/vouchers"' in page.text  # the nav link
        debit, credit = _money(page.text, "preview-debit"), _money(page.text, "preview-credit")
        assert debit == credit > 0
        assert debit == Decimal(sum(v.debit_total for v in expected.vouchers)) / 100
        assert page.text.count('<tr class="voucher">') == len(expected.vouchers)
        assert f"{ROWS * 2} 笔流水" in page.text
        assert 'id="generate-form"' in page.text and 'class="unmapped"' not in page.text
    assert vouchers.batches(BOOK) == []


def test_unmapped_flows_are_listed_in_red_and_not_generated(app, vouchers):
    vouchers.set_rules(BOOK, [r for r in vouchers.rules(BOOK) if r["name"] != "转账待查"])
    with _as(app, "supervisor") as client:
        page = client.get(PAGE)
        assert page.status_code == 200
        assert re.search(
            r'<li class="unmapped">支付宝/转账：\d+ 笔，合计 [\d,]+\.\d\d</li>', page.text
        )
        assert 'id="generate-form"' not in page.text
        refused = _generate(client, csrf_of(page.text))
        assert refused.status_code == 409 and "未能生成凭证" in refused.text
    assert vouchers.batches(BOOK) == []


def test_each_unmapped_type_is_listed_once_with_its_count_and_total(app, vouchers):
    """The demo ledger's January 2024 in a book over every account, its rules without the
    ones for opening balances, other income and expense and purchases: three types unmapped."""
    vouchers.add_book("全部", product="u8_xml")
    gone = {"期初余额", "其他收入", "其他支出", "采购付款"}
    vouchers.set_rules("全部", [r for r in vouchers.rules("全部") if r["name"] not in gone])
    with _as(app, "supervisor") as client:
        page = client.get("/console/vouchers?book=全部&month=2024-01")
        assert page.status_code == 200
        listed = re.findall(r'<li class="unmapped">([^<]+)</li>', page.text)
        assert listed == [
            "backup/收入：1 笔，合计 5,000.00",
            "main/收入：1 笔，合计 10,000.00",
            "main/采购付款：1 笔，合计 500.00",
        ]
        for kind in ("backup/收入", "main/收入", "main/采购付款"):
            assert page.text.count(kind) == 1, kind  # not again among the problems
        assert "未映射业务类型" not in page.text and 'id="generate-form"' not in page.text
    # with the default rules, nothing of the demo ledger is unmapped
    vouchers.set_rules("全部", vouchers.rules(BOOK))
    with _as(app, "supervisor") as client:
        page = client.get("/console/vouchers?book=全部&month=2024-01")
        assert 'class="unmapped"' not in page.text and 'id="generate-form"' in page.text


def test_a_clerk_may_look_but_not_generate(app, vouchers):
    with _as(app, "clerk") as client:
        page = client.get(PAGE)
        assert page.status_code == 200 and "需要主管权限" in page.text
        assert 'id="generate-form"' not in page.text
        refused = _generate(client, csrf_of(page.text))
        assert refused.status_code == 403 and "生成凭证需要主管权限，未作任何修改" in refused.text
    assert vouchers.batches(BOOK) == []
    with _as(app, "merchant") as client:  # not staff: no 凭证 at all
        assert client.get(PAGE).status_code == 403


def test_generate_export_and_download(app, vouchers):
    with _as(app, "supervisor") as client:
        page = client.get(PAGE)
        stale = _generate(client, "not-the-token")
        assert stale.status_code == 403 and STALE_FORM in stale.text
        assert vouchers.batches(BOOK) == []
        made = _generate(client, csrf_of(page.text))
        assert made.status_code == 303
        (batch,) = vouchers.batches(BOOK)
        assert batch.state == "draft" and batch.created_by == "user:supervisor"
        history = client.get(made.headers["location"])
        assert f"已生成凭证批次 {batch.id}" in history.text
        row = re.search(rf"<tr><td>{batch.id}</td>.*?</tr>", history.text, re.S).group(0)
        # vouchers, flows, reconciliation differences (none here), Σ借, Σ贷
        nums = re.findall(r'class="num">([\d,.]+)<', row)
        assert nums[2] == "0" and nums[3] == nums[4] and Decimal(nums[3].replace(",", "")) > 0
        assert "导出并下载" in row
        # a draft is no download; exporting it is a supervisor's POST that returns the file
        assert client.get(f"/console/vouchers/batches/{batch.id}/file").status_code == 409
        file = client.post(
            "/console/vouchers/export",
            data={"csrf": csrf_of(history.text), "book": BOOK, "batch": str(batch.id)},
        )
        assert file.status_code == 200 and "attachment" in file.headers["content-disposition"]
        assert (
            "凭证#单据头(FBillHead)" in openpyxl.load_workbook(io.BytesIO(file.content)).sheetnames
        )
        assert vouchers.batch(batch.id)[0].state == "exported"
        again = client.get(f"/console/vouchers/batches/{batch.id}/file")
        assert again.status_code == 200 and _cells(again.content) == _cells(file.content)
        assert 'class="download"' in client.get(f"/console/vouchers?book={BOOK}").text
        # the month is vouchered: generating again is refused on the page
        refused = _generate(client, csrf_of(history.text))
        assert refused.status_code == 409 and "already vouchered" in refused.text
    assert len(vouchers.batches(BOOK)) == 1


def test_the_rules_and_testing_a_flow(app, vouchers, ledger):
    entry = month_entry_ids(ledger)[0]
    expected = vouchers.test_flow(BOOK, entry)
    with _as(app, "clerk") as client:
        page = client.get(f"/console/vouchers?book={BOOK}&entry={entry}")
        assert page.status_code == 200
        assert f'id="test-rule">{expected.rule}<' in page.text
        for line in expected.voucher.lines:
            assert line.subject_code in page.text
        assert "转账待查" in page.text  # the rules, as JSON
        missing = client.get(f"/console/vouchers?book={BOOK}&entry=999999999")
        assert missing.status_code == 400 and "流水 999999999 不存在" in missing.text
        bad = client.get(f"/console/vouchers?book={BOOK}&entry=abc")
        assert bad.status_code == 400 and "流水编号「abc」无效" in bad.text


def test_an_unknown_book_or_a_bad_month_is_a_message(app, vouchers):
    with _as(app, "supervisor") as client:
        page = client.get("/console/vouchers?book=不存在&month=2024-03")
        assert page.status_code == 400 and "账套「不存在」不存在。" in page.text
        bad = client.get(f"/console/vouchers?book={BOOK}&month=2024-13")
        assert bad.status_code == 400 and "月份「2024-13」无效" in bad.text
        assert 'id="batches"' in bad.text  # the page stays whole
        csrf = csrf_of(page.text)
        assert _generate(client, csrf, book="不存在").status_code == 404
        refused = _generate(client, csrf, month="2024-13")
        assert refused.status_code == 400 and "月份「2024-13」无效" in refused.text
    assert vouchers.batches() == []


def _sha(html: str) -> str:
    return re.search(r'name="sha" value="([0-9a-f]{64})"', html).group(1)


def test_a_supervisor_adds_edits_reorders_and_deletes_a_rule(app, vouchers):
    original = vouchers.rules(BOOK)
    lines = [{"dc": "D", "subject": "@account"}, {"dc": "C", "subject": "6051"}]
    rule = {"name": "测试规则", "business_type": "测试", "direction": "in", "lines": lines}
    url = f"/console/vouchers?book={BOOK}"

    with _as(app, "supervisor") as client:

        def change(page: str, **form):
            data = {"csrf": csrf_of(page), "book": BOOK, "month": "", "sha": _sha(page), **form}
            return client.post("/console/vouchers/rules", data=data, follow_redirects=False)

        page = client.get(url).text
        assert page.count('<tr class="rule">') == len(original)
        added = change(page, op="add", position="1", rule=json.dumps(rule, ensure_ascii=False))
        assert added.status_code == 303
        assert vouchers.rules(BOOK) == [rule, *original]
        after = client.get(added.headers["location"]).text
        assert "规则已保存。" in after and "测试规则" in after
        # bad input: an inline error, the text kept, nothing written
        stored = vouchers.rules(BOOK)
        bad = change(after, op="edit", index="0", rule="{not json")
        assert bad.status_code == 400 and 'id="rule-error"' in bad.text
        assert "不是有效的 JSON" in bad.text and "{not json</textarea>" in bad.text
        unbalanced = {
            **rule,
            "lines": [{"dc": "D", "subject": "1002"}, {"dc": "D", "subject": "1001"}],
        }
        refused = change(after, op="edit", index="0", rule=json.dumps(unbalanced))
        assert refused.status_code == 400 and "its lines do not balance" in refused.text
        not_leaf = {**rule, "lines": [{"dc": "D", "subject": "@account"}, {"dc": "C"}]}
        assert change(after, op="edit", index="0", rule=json.dumps(not_leaf)).status_code == 400
        assert change(after, op="up", index="0").status_code == 400  # first already
        assert change(after, op="delete", index="99").status_code == 400
        assert change(after, op="delete", index="x").status_code == 400
        assert change(after, op="drop", index="0").status_code == 400
        stale = change(page, op="delete", index="0")  # the form of before the add
        assert stale.status_code == 409 and "已被他人修改" in stale.text
        assert vouchers.rules(BOOK) == stored
        # reorder, edit, delete
        assert change(after, op="down", index="0").status_code == 303
        assert vouchers.rules(BOOK)[1] == rule
        page = client.get(url).text
        assert change(page, op="up", index="1").status_code == 303
        page = client.get(url).text
        edited = {**rule, "direction": "out", "lines": rule["lines"][::-1]}
        assert change(page, op="edit", index="0", rule=json.dumps(edited)).status_code == 303
        assert vouchers.rules(BOOK)[0] == edited
        page = client.get(url).text
        assert change(page, op="delete", index="0").status_code == 303
        assert vouchers.rules(BOOK) == original
        page = client.get(url).text
        data = {"csrf": "forged", "book": BOOK, "sha": _sha(page), "op": "delete", "index": "0"}
        forged = client.post("/console/vouchers/rules", data=data)
        assert forged.status_code == 403 and STALE_FORM in forged.text
    with _as(app, "clerk") as client:
        page = client.get(url).text
        assert 'id="rule-add-form"' not in page and 'id="rules"' in page
        refused = client.post("/console/vouchers/rules", data={
            "csrf": csrf_of(page), "book": BOOK, "op": "delete", "index": "0",
            "sha": "0" * 64})  # fmt: skip
        assert refused.status_code == 403 and "修改规则需要主管权限，未作任何修改" in refused.text
    assert vouchers.rules(BOOK) == original


def test_a_supervisor_adds_the_default_rules_the_book_lacks(app, vouchers):
    original = vouchers.rules(BOOK)
    vouchers.set_rules(BOOK, original[1:])  # a book without 收款, as one made before it shipped
    url = f"/console/vouchers?book={BOOK}"
    with _as(app, "supervisor") as client:

        def defaults(page: str):
            data = {"csrf": csrf_of(page), "book": BOOK, "month": "", "sha": _sha(page),
                    "op": "defaults"}  # fmt: skip
            return client.post("/console/vouchers/rules", data=data, follow_redirects=False)

        page = client.get(url).text
        assert 'id="rule-defaults-form"' in page
        added = defaults(page)
        assert added.status_code == 303
        assert vouchers.rules(BOOK) == original[1:] + original[:1]  # after the book's own
        after = client.get(added.headers["location"]).text
        assert "已补充 1 条默认规则，排在原有规则之后。" in after
        assert defaults(page).status_code == 409  # the form of before: stale, nothing done
        again = client.get(defaults(after).headers["location"]).text
        assert "默认规则都已在账套中，未作任何修改。" in again
    assert vouchers.rules(BOOK) == original[1:] + original[:1]
    with _as(app, "clerk") as client:
        assert 'id="rule-defaults-form"' not in client.get(url).text
