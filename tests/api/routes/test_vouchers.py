"""/api/v1/vouchers over real HTTP (on SQLite; the facade runs on both databases): a book added, the
month generated and downloaded as the 星空 workbook, a flow tested; bad input and the state's
refusals are problems, and only staff may make vouchers."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.api.support import bearer
from tests.recon.support import ACTOR, with_samples
from tests.vouchers.support import MONTH, ROWS, import_month, month_entry_ids
from zhangben.demo.orders import PLANTED

V1 = "/api/v1"
PROBLEM = "application/problem+json"


@pytest.fixture
def staff(client, make_session):
    token, _ = make_session("boss", "staff")
    return bearer(token)


@pytest.fixture
def book(client, staff, ledger, tmp_path):
    import_month(ledger, tmp_path)
    r = client.post(f"{V1}/vouchers/books", headers=staff,
                    json={"name": "星空", "product": "k3cloud_xlsx", "shop": "S3",
                          "book_code": "001", "org_code": "100"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["rounding_subject"] == "6603.99"
    return "星空"


def test_generate_download_and_list(client, staff, book):
    r = client.post(f"{V1}/vouchers/books/{book}/batches", json={"month": MONTH}, headers=staff)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["batch"]["state"] == "draft" and made["batch"]["flows"] == 2 * ROWS
    for v in made["vouchers"]:
        assert v["debit_total"] == v["credit_total"]
    batch = made["batch"]["id"]
    r = client.get(f"{V1}/vouchers/batches/{batch}/file", headers=staff)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content))["凭证#单据头(FBillHead)"]
    assert sheet.max_row >= 2 + len(made["vouchers"])
    listed = client.get(f"{V1}/vouchers/batches", params={"book": book}, headers=staff).json()
    assert [(b["id"], b["state"]) for b in listed["items"]] == [(batch, "exported")]
    assert listed["items"][0]["file_sha256"] == r.headers["x-content-sha256"]
    again = client.post(f"{V1}/vouchers/books/{book}/batches", json={"month": MONTH},
                        headers=staff)  # fmt: skip
    assert again.status_code == 409 and again.json()["code"] == "voucher_state"
    assert "already vouchered" in again.json()["detail"]
    void = client.post(f"{V1}/vouchers/batches/{batch}/void", headers=staff)
    assert void.status_code == 409 and void.json()["code"] == "voucher_state"
    detail = client.get(f"{V1}/vouchers/batches/{batch}", headers=staff).json()
    assert len(detail["vouchers"]) == len(made["vouchers"])


def test_test_a_flow_and_bad_rules(client, staff, book, ledger):
    entry = month_entry_ids(ledger)[0]
    r = client.get(f"{V1}/vouchers/books/{book}/test/{entry}", headers=staff)
    assert r.status_code == 200, r.text
    assert r.json()["voucher"]["lines"]
    bad = [
        {"name": "坏", "lines": [{"dc": "D", "subject": "1002"}, {"dc": "D", "subject": "1001"}]}
    ]
    r = client.put(f"{V1}/vouchers/books/{book}/rules", json=bad, headers=staff)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "voucher_invalid" and "do not balance" in r.json()["detail"]
    rules = client.get(f"{V1}/vouchers/books/{book}/rules", headers=staff).json()
    assert rules and rules[0]["name"] == "收款"
    r = client.put(f"{V1}/vouchers/books/{book}/rules",
                   json=[x for x in rules if x["name"] != "转账待查"], headers=staff)  # fmt: skip
    assert r.status_code == 200
    r = client.post(f"{V1}/vouchers/books/{book}/batches", json={"month": MONTH}, headers=staff)
    assert r.status_code == 422 and "未映射业务类型: 支付宝/转账" in r.json()["detail"]
    r = client.post(f"{V1}/vouchers/books/{book}/rules/defaults", headers=staff)
    assert r.status_code == 200, r.text
    assert r.json()["added"] == [x for x in rules if x["name"] == "转账待查"]  # in and out
    assert r.json()["rules"] == [x for x in rules if x["name"] != "转账待查"] + r.json()["added"]
    again = client.post(f"{V1}/vouchers/books/{book}/rules/defaults", headers=staff).json()
    assert again["added"] == [] and again["rules"] == r.json()["rules"]
    r = client.post(f"{V1}/vouchers/books/{book}/batches", json={"month": MONTH}, headers=staff)
    assert r.status_code == 201, r.text


def test_only_staff_and_bad_input(client, api, staff, book):
    assert client.get(f"{V1}/vouchers/books", headers=api.headers).status_code == 403
    r = client.post(f"{V1}/vouchers/books", headers=staff,
                    json={"name": "x", "product": "sap"})  # fmt: skip
    assert r.status_code == 422 and r.json()["code"] == "validation"
    r = client.post(f"{V1}/vouchers/books", headers=staff,
                    json={"name": book, "product": "k3cloud_xlsx"})  # fmt: skip
    assert r.status_code == 409
    r = client.post(f"{V1}/vouchers/books/{book}/batches", json={"month": "2024-13"},
                    headers=staff)  # fmt: skip
    assert r.status_code == 422
    assert client.get(f"{V1}/vouchers/batches/99", headers=staff).status_code == 404
    r = client.post(f"{V1}/vouchers/books/nobook/batches", json={"month": MONTH}, headers=staff)
    assert r.status_code == 404


def test_a_batch_counts_the_reconciliation_differences_it_writes_off(
    client, staff, ledger, tmp_path
):
    recon, files = with_samples(ledger, tmp_path)  # three commission differences, in March 2024
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.run(actor=ACTOR)
    r = client.post(f"{V1}/vouchers/books", headers=staff,
                    json={"name": "微信", "product": "u8_xml", "shop": "S001"})  # fmt: skip
    assert r.status_code == 201, r.text
    r = client.post(f"{V1}/vouchers/books/微信/batches", json={"month": "2024-03"}, headers=staff)
    assert r.status_code == 201, r.text
    made = r.json()["batch"]
    assert made["differences"] == len(PLANTED.commission) > 0
    listed = client.get(f"{V1}/vouchers/batches", params={"book": "微信"}, headers=staff).json()
    assert [b["differences"] for b in listed["items"]] == [made["differences"]]
    detail = client.get(f"{V1}/vouchers/batches/{made['id']}", headers=staff).json()
    assert detail["batch"]["differences"] == made["differences"]
