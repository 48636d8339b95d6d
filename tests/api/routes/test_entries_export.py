"""Exports of the flow over REST (``GET /entries?format=csv|xlsx``, or ``Accept``), and
finding a flow by its numbers: the files hold the JSON list's rows for the same filters, on
SQLite and PostgreSQL (which renders CSV by COPY); headers, negotiation, scoping and bad input."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import unquote

import pytest

from tests.api.support import bearer
from tests.exports.support import (
    SH,
    books,
    excel_text,
    read_csv,
    read_xlsx,
    safe,
    same_rows,
)
from zhangben.exports.layout import TYPE_LABELS

#: PostgreSQL renders the CSV itself (COPY): this surface has a path of its own there
pytestmark = pytest.mark.both_backends

V1 = "/api/v1"
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILTERS = [
    {},
    {"account": "ACC001"},
    {"shop": "S001", "type": ["income", "transfer_out"]},
    {"account": ["ACC002", "ALI001"], "start": "2024-03-01T08:10:00"},
    {"find": "T-3"},
]


@pytest.fixture
def api_books(api, ledger, tmp_path):
    books(ledger, tmp_path)
    return api


def listed(api, params) -> list[dict]:
    r = api.get(f"{V1}/entries", params={**params, "limit": 500})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    return r.json()["items"]


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(SH).replace(tzinfo=None)


def csv_of(item: dict) -> list[str]:
    """The CSV row of a JSON entry."""
    amount = item["amount"]
    cells = [
        item["id"], f"{local(item['trade_time']):%Y-%m-%d %H:%M:%S}", safe(item["trade_no"]),
        safe(item["account"]), safe(item["account_name"]), safe(item["shop_code"]),
        TYPE_LABELS[item["type"]], None if amount.startswith("-") else amount,
        amount[1:] if amount.startswith("-") else None, item["balance_after"],
        item["currency"], safe(item["category_name"]), safe(item["subject_name"]),
        safe(item["counterparty"]), safe(item["description"]), safe(item["remark"]),
        safe(item["source"]), safe(item["external_id"]), item["posting_id"],
        item["reverses_entry_id"], f"{local(item['recorded_at']):%Y-%m-%d %H:%M:%S}",
    ]  # fmt: skip
    return ["" if c is None else str(c) for c in cells]


def xlsx_of(item: dict) -> list:
    from decimal import Decimal

    amount = Decimal(item["amount"])
    return [
        item["id"], local(item["trade_time"]), item["trade_no"], item["account"],
        item["account_name"], item["shop_code"], TYPE_LABELS[item["type"]],
        amount if amount >= 0 else None, -amount if amount < 0 else None,
        Decimal(item["balance_after"]), item["currency"], item["category_name"],
        item["subject_name"], item["counterparty"], item["description"] or None,
        excel_text(item["remark"]) or None, item["source"], item["external_id"],
        item["posting_id"], item["reverses_entry_id"], local(item["recorded_at"]),
    ]  # fmt: skip


def disposition(r) -> str:
    """The UTF-8 file name a download suggests."""
    value = r.headers["content-disposition"]
    assert value.startswith('attachment; filename="flows-')
    return unquote(value.split("filename*=UTF-8''", 1)[1])


@pytest.mark.parametrize("params", FILTERS, ids=range(len(FILTERS)))
def test_csv_holds_the_json_rows(api_books, params):
    r = api_books.get(f"{V1}/entries", params={**params, "format": "csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == CSV and "content-length" not in r.headers  # streamed
    assert disposition(r).startswith("流水-") and disposition(r).endswith(".csv")
    assert read_csv(r.content) == [csv_of(item) for item in listed(api_books, params)]


@pytest.mark.parametrize("params", FILTERS, ids=range(len(FILTERS)))
def test_xlsx_holds_the_json_rows(api_books, params, tmp_path):
    r = api_books.get(f"{V1}/entries", params={**params, "format": "xlsx"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX and disposition(r).endswith(".xlsx")
    (tmp_path / "f.xlsx").write_bytes(r.content)
    same_rows(read_xlsx(tmp_path / "f.xlsx"), [xlsx_of(i) for i in listed(api_books, params)])


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        ("text/csv", CSV),
        (XLSX, XLSX),
        ("application/json;q=0.5, text/csv", CSV),
        ("application/json, text/csv;q=0.5", "application/json"),
        ("text/csv;q=0, application/json;q=0.1", "application/json"),
        ("text/csv;q=oops", "application/json"),
        ("*/*", "application/json"),
        ("text/html", "application/json"),
    ],
)
def test_accept_header(api_books, accept, wanted):
    r = api_books.get(f"{V1}/entries", params={"account": "ACC002"}, headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["content-type"] == wanted


def test_format_wins_over_accept_and_the_cursor_starts_the_export(api_books):
    r = api_books.get(f"{V1}/entries", params={"format": "json"}, headers={"Accept": "text/csv"})
    assert r.headers["content-type"] == "application/json"
    page = api_books.get(f"{V1}/entries", params={"limit": 10}).json()
    rest = api_books.get(
        f"{V1}/entries", params={"format": "csv", "cursor": page["next_cursor"], "limit": 1}
    )
    everything = listed(api_books, {})
    assert read_csv(rest.content) == [csv_of(i) for i in everything[10:]]


def test_bad_format_is_a_validation_problem(api_books):
    r = api_books.get(f"{V1}/entries", params={"format": "xls"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "validation" and body["errors"][0]["field"] == "format"
    assert "csv" in body["detail"] and "xlsx" in body["detail"]


def test_an_export_holds_only_what_the_key_may_see(api_books, make_key):
    limited = {**bearer(make_key(scopes=("read",), accounts=["ACC002"]))}
    r = api_books.get(f"{V1}/entries", params={"format": "csv"}, headers=limited)
    assert {row[3] for row in read_csv(r.content)} == {"ACC002"}
    # another account is narrowed away, as in the JSON list
    params = {"account": "ACC001"}
    r = api_books.get(f"{V1}/entries", params={**params, "format": "csv"}, headers=limited)
    assert r.status_code == 200 and read_csv(r.content) == []
    assert api_books.get(f"{V1}/entries", params=params, headers=limited).json()["items"] == []


def test_find_a_flow_by_its_numbers(api_books):
    def trades(**params):
        return [(i["account"], i["type"]) for i in listed(api_books, params)]

    flow = "20240301000000000007"
    (row,) = listed(api_books, {"external_id": flow})
    assert row["account"] == "ALI001" and row["counterparty"] == "buyer7@example.com"
    for params in (
        {"order_no": "T050000000007"},
        {"counterparty": "buyer7@example.com"},
        {"trade_no": row["trade_no"]},
        {"find": flow},
        {"find": "T050000000007", "account": "ALI001"},
    ):
        assert listed(api_books, params) == [row], params
    assert trades(trade_no="T-3") == [("ACC002", "transfer_in"), ("ACC001", "transfer_out")]
    assert trades(find=flow, account="ACC001") == []
    r = api_books.get(f"{V1}/entries", params={"find": flow, "format": "csv"})
    assert [r[0] for r in read_csv(r.content)] == [str(row["id"])]


@pytest.mark.parametrize("field", ["trade_no", "external_id", "order_no", "counterparty", "find"])
def test_find_text_is_checked(api_books, field):
    for bad in ("x" * 129, "a\x00b", ""):
        r = api_books.get(f"{V1}/entries", params={field: bad})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field


def test_openapi_names_the_file_types(api):
    spec = api.get("/openapi.json").json()
    content = spec["paths"]["/api/v1/entries"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv", XLSX} <= set(content)
    names = {p["name"] for p in spec["paths"]["/api/v1/entries"]["get"]["parameters"]}
    assert {"format", "find", "trade_no", "external_id", "order_no", "counterparty"} <= names
