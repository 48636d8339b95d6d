"""The REST SDK against the real app: typed results, paging, retries that never post twice."""

from __future__ import annotations

import io
from decimal import Decimal

import httpx
import pytest

from tests.periods.support import import_month, money, read_book, table
from zhangben.sdk import ApiError, RestClient


class LosesFirstResponse(httpx.BaseTransport):
    """Delivers every request, but the first response of each write is 'lost' in transit."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.keys, self.lost = inner, [], 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST":
            key = request.headers["Idempotency-Key"]
            self.keys.append(key)
            if self.keys.count(key) == 1:
                self.lost += 1
                raise httpx.ReadError("connection reset", request=request)
        return response


@pytest.fixture
def sdk(client, make_key):
    with RestClient("http://testserver", make_key(), transport=client._transport) as c:
        yield c


def test_sdk_walkthrough(sdk):
    a = sdk.open_account("ACC001", "主账户", shop_code="S001")
    sdk.open_account("ACC002", "备用账户", type="backup")
    assert a.balance == Decimal("0") and a.status == "open"
    income = sdk.post_income("ACC001", Decimal("1000.00"), remark="销售收款")
    assert income.entries[0].amount == Decimal("1000.0000")
    t = sdk.transfer("ACC001", "ACC002", "200.50", idempotency_key="move-1")
    again = sdk.transfer("ACC001", "ACC002", "200.50", idempotency_key="move-1")
    assert again == t and t.transfer_id == t.posting_id
    assert sdk.balance("ACC002").balance == Decimal("200.5")
    rev = sdk.reverse_transfer(t.transfer_id)
    assert [e.amount for e in rev.entries] == [Decimal("200.5"), Decimal("-200.5")]
    assert sdk.get_account("ACC002").balance == 0
    assert [x.number for x in sdk.accounts(shop="S001")] == ["ACC001"]
    page = sdk.entries(limit=2, with_total=True)
    assert page.total == 5 and len(page.items) == 2 and page.next_cursor
    everything = list(sdk.iter_entries(limit=2))
    assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)
    assert len(everything) == 5 and everything[0] == sdk.entry(everything[0].id)
    items, totals = sdk.balances()
    assert totals == {"CNY": Decimal("1000")}
    with pytest.raises(TypeError):
        sdk.post_income("ACC001", 1.5)


def test_sdk_errors_are_typed(sdk):
    sdk.open_account("ACC001", "a")
    sdk.open_account("ACC002", "b")
    with pytest.raises(ApiError) as info:
        sdk.transfer("ACC001", "ACC002", "5")
    err = info.value
    assert (err.status, err.code) == (422, "insufficient_funds")
    assert err.type == "/api/v1/problems/insufficient_funds" and "ACC001" in err.detail
    with pytest.raises(ApiError) as info:
        sdk.get_account("NOPE")
    assert info.value.status == 404 and info.value.code == "not_found"
    with pytest.raises(ApiError) as info:
        sdk.verify()
    assert info.value.code == "forbidden"


def test_sdk_retries_with_the_same_key_and_posts_once(client, make_key):
    flaky = LosesFirstResponse(client._transport)
    with RestClient("http://testserver", make_key(), transport=flaky, backoff=0) as c:
        c.open_account("ACC001", "a")
        c.open_account("ACC002", "b")
        c.post_income("ACC001", "100")
        t = c.transfer("ACC001", "ACC002", "10")
        assert flaky.lost == 4 and len(flaky.keys) == 8
        assert t.transfer_id
        assert c.entries(with_total=True).total == 3  # income + two legs, nothing twice
        assert c.balance("ACC001").balance == Decimal("90")


def test_a_write_retried_through_a_database_outage_is_posted_once(client, ledger, make_key):
    """The database goes away for a second: the SDK's transfer gets 503s, waits Retry-After,
    retries with the same Idempotency-Key, and the transfer is written exactly once."""
    import threading
    import time

    from tests.web.support import database_down

    ledger.open_account(number="ACC001", name="a")
    ledger.open_account(number="ACC002", name="b")
    ledger.income("ACC001", Decimal("100"))
    down, answers = threading.Event(), []

    def outage():
        with database_down(ledger.engine):
            down.set()
            time.sleep(1.0)

    worker = threading.Thread(target=outage)
    seen = LogsStatus(client._transport, answers)
    with RestClient("http://testserver", make_key(), transport=seen, retries=4) as sdk:
        worker.start()
        down.wait(10)
        posting = sdk.transfer("ACC001", "ACC002", "30", idempotency_key="through-outage")
        worker.join()
        assert sdk.balance("ACC002").balance == Decimal("30")
    assert 503 in answers and answers[-1] == 201, answers
    assert not posting.replayed
    moves = ledger.entries(None, limit=10, with_total=True)
    assert moves.total == 3  # the income and the transfer's two legs, once
    assert ledger.verify().ok


class LogsStatus(httpx.BaseTransport):
    """Records the status of every response to a POST."""

    def __init__(self, inner: httpx.BaseTransport, statuses: list[int]) -> None:
        self.inner, self.statuses = inner, statuses

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST":
            self.statuses.append(response.status_code)
        return response


def test_find_and_export(sdk, tmp_path):
    import io

    from tests.exports.support import read_csv, read_xlsx

    sdk.open_account("ACC001", "主账户", shop_code="S001")
    sdk.post_income("ACC001", "12.34", trade_no="T-9", counterparty="买家")
    sdk.post_income("ACC001", "1", counterparty="别人")
    assert [e.trade_no for e in sdk.entries(find="T-9").items] == ["T-9"]
    assert [e.counterparty for e in sdk.entries(counterparty="买家").items] == ["买家"]
    out = io.BytesIO()
    assert sdk.export_entries(out, "csv", account="ACC001", find="买家") == len(out.getvalue())
    (row,) = read_csv(out.getvalue())
    assert row[2] == "T-9" and row[7] == "12.3400"
    with open(tmp_path / "all.xlsx", "wb") as f:
        sdk.export_entries(f, "xlsx")
    assert len(read_xlsx(tmp_path / "all.xlsx")) == 2
    with pytest.raises(ApiError) as refused:
        sdk.export_entries(io.BytesIO(), "xls")
    assert refused.value.status == 422


def test_sdk_verify_reads_every_check(client, make_session):
    staff, _ = make_session("boss", "staff")
    with RestClient("http://testserver", staff, transport=client._transport) as c:
        report = c.verify()
    assert report.ok and [check["name"] for check in report.checks] == [
        "ledger",
        "bills",
        "drift",
        "periods",
        "recon",
    ]


def test_sdk_reports_and_balances_as_of(sdk, ledger):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    sh = ZoneInfo("Asia/Shanghai")
    sdk.open_account("ACC001", "主账户", shop_code="S001")
    sdk.open_account("ALI", "支付宝", type="alipay", shop_code="S001")
    sdk.post_income("ACC001", "1000.00", trade_time=datetime(2026, 9, 30, 10, tzinfo=sh))
    sdk.post_income("ALI", "300.00", trade_time=datetime(2026, 10, 1, 23, 59, tzinfo=sh))
    sdk.post_expense("ACC001", "120.50", trade_time=datetime(2026, 10, 2, 9, tzinfo=sh))
    daily = sdk.report_daily(month="2026-10", shop="S001")
    assert (daily.start, daily.end, daily.group_by) == (date(2026, 10, 1), date(2026, 10, 31),
                                                        ["day"])  # fmt: skip
    first = daily.rows[0]
    assert (first.day, first.opening, first.income, first.closing, first.entries) == (
        date(2026, 10, 1), Decimal("1000"), Decimal("300"), Decimal("1300"), 1,
    )  # fmt: skip
    assert daily.totals[0].closing == Decimal("1179.5")
    month = sdk.report_summary(month="2026-10", group_by=["category"])
    assert month.balances is False and all(r.opening is None for r in month.rows)
    months = sdk.report_monthly(start="2026-09", end="2026-10", group_by="account")
    assert {(r.month, r.account) for r in months.rows} == {
        ("2026-09", "ACC001"), ("2026-10", "ACC001"), ("2026-10", "ALI"),
    }  # fmt: skip
    items, totals = sdk.balances(as_of=date(2026, 10, 1))
    assert {b.account: b.balance for b in items} == {"ACC001": 1000, "ALI": 300}
    assert totals == {"CNY": Decimal("1300")} and items[0].as_of == date(2026, 10, 1)
    assert sdk.balance("ALI", as_of=date(2026, 10, 1)).balance == 300
    with pytest.raises(ApiError) as info:
        sdk.report_daily(start="2026-10-31", end="2026-10-01")
    assert info.value.code == "validation" and info.value.errors[0]["field"] == "to"


def test_sdk_periods(client, make_key, make_session):
    """A staff login closes and reopens a month; a posting dated into it is an ApiError."""
    token, _ = make_session("boss", "staff")
    with (
        RestClient("http://testserver", make_key(), transport=client._transport) as sdk,
        RestClient("http://testserver", token, transport=client._transport) as staff,
    ):
        sdk.open_account("ACC001", "主账户", shop_code="S001")
        sdk.post_income("ACC001", "100", trade_time="2024-03-05T10:00:00+08:00")
        period = staff.close_period("2024-03", shop="S001")
        assert (period.status, period.accounts[0]["closing"]) == ("closed", Decimal("100"))
        with pytest.raises(ApiError) as refused:
            sdk.post_income("ACC001", "1", trade_time="2024-03-06T10:00:00+08:00")
        assert refused.value.status == 409 and refused.value.code == "period_closed"
        items, through = sdk.periods()
        assert [p.month for p in items] == ["2024-03"] and through == {"S001": "2024-03"}
        assert sdk.period("2024-03", shop="S001").snapshot_sha256 == period.snapshot_sha256
        assert staff.verify_periods().ok
        with pytest.raises(ApiError) as state:
            staff.reopen_period("2024-02", "typo", shop="S001")
        assert state.value.code == "period_state"
        reopened = staff.reopen_period("2024-03", "补记漏单", shop="S001")
        assert reopened.status == "reopened" and reopened.events[-1]["reason"] == "补记漏单"
        sdk.open_account("ALI", "支付宝", type="alipay", shop_code="S002")
        sdk.post_income("ALI", "1", trade_time="2024-03-05T10:00:00+08:00")
        assert [f["check"] for f in staff.period_checks("2024-03", shop="S002")] == [
            "missing_import_days"
        ]
        with pytest.raises(ApiError) as not_ready:
            staff.close_period("2024-03", shop="S002")
        assert not_ready.value.code == "period_not_ready"
        assert not_ready.value.findings[0]["account"] == "ALI"


def test_sdk_month_workbook(client, ledger, make_key, make_session, tmp_path):
    """The 月结 workbook downloaded into a file; a bad month is an ApiError."""
    bills = import_month(ledger, tmp_path)
    token, _ = make_session("boss", "staff")
    with RestClient("http://testserver", token, transport=client._transport) as staff:
        target = tmp_path / "月结-2024-03.xlsx"
        with target.open("wb") as out:
            written = staff.month_workbook("2024-03", out, shop="S3")
        assert written == target.stat().st_size > 0
        rows = {r["账户"]: r for r in table(read_book(target)["账户"])}
        assert money(rows["合计"]["收入"]) == sum(b.income for b in bills.values())
        with pytest.raises(ApiError) as bad:
            staff.month_workbook("2026-13", io.BytesIO())
        assert bad.value.status == 422 and bad.value.errors[0]["field"] == "month"


def test_sdk_vouchers(client, ledger, make_session, tmp_path):
    """A book added, the month generated, tested and downloaded; refusals are ApiErrors."""
    from tests.vouchers.support import import_month as import_voucher_month
    from tests.vouchers.support import month_entry_ids

    import_voucher_month(ledger, tmp_path, shop="S7")
    token, _ = make_session("boss", "staff")
    with RestClient("http://testserver", token, transport=client._transport) as staff:
        book = staff.add_voucher_book("星空", "k3cloud_xlsx", shop="S7", book_code="001")
        assert [b["name"] for b in staff.voucher_books()] == [book["name"]]
        made = staff.generate_vouchers("星空", "2024-03")
        batch = made["batch"]["id"]
        assert all(v["debit_total"] == v["credit_total"] for v in made["vouchers"])
        tested = staff.test_voucher_flow("星空", month_entry_ids(ledger)[0])
        assert tested["in_batch"] == batch and tested["rule"]
        out = io.BytesIO()
        assert staff.download_vouchers(batch, out) == len(out.getvalue()) > 0
        assert staff.voucher_batch(batch)["batch"]["state"] == "exported"
        assert [b["id"] for b in staff.voucher_batches(book="星空")] == [batch]
        with pytest.raises(ApiError) as again:
            staff.generate_vouchers("星空", "2024-03")
        assert again.value.status == 409 and again.value.code == "voucher_state"
        with pytest.raises(ApiError) as bad:
            staff.set_voucher_rules("星空", [{"lines": []}])
        assert bad.value.code == "voucher_invalid"
        assert staff.voucher_rules("星空")[0]["name"] == "收款"
        assert staff.voucher_batches(book="星空")[0]["differences"] == 0  # no reconciliation
        rules = staff.voucher_rules("星空")
        staff.set_voucher_rules("星空", rules[1:])
        added = staff.add_default_voucher_rules("星空")
        assert added["added"] == rules[:1] and added["rules"] == rules[1:] + rules[:1]


def test_sdk_reconciliation(sdk, ledger, tmp_path):
    from tests.recon.support import with_samples

    _, files = with_samples(ledger, tmp_path)
    assert sdk.recon_import_file(files["orders"].read_bytes(), shop="S001")["new"] == 56
    line = {"order_no": "API1", "kind": "sale", "amount": "1.00", "occurred_at": "2024-03-01",
            "source_ref": "erp-1"}  # fmt: skip
    assert sdk.recon_import([line], shop="S001") == {"lines": 1, "new": 1, "existing": 0}
    assert sdk.recon_import([line], shop="S001")["existing"] == 1
    run = sdk.recon_run()
    assert sdk.recon_runs()[0]["id"] == run["run_id"]
    queues = {q["code"]: q["count"] for q in sdk.recon_queues()}
    assert queues["paid_no_order"] == 1
    [orphan] = sdk.recon_queue("paid_no_order")["rows"]
    rows = sdk.recon_queue("shipped_not_paid")["rows"]
    [unpaid] = [r for r in rows if (r["key"], r["amount"]) == ("W2403501", "520.0000")]
    part = [{"id": unpaid["id"], "amount": "66.20"}]
    assert sdk.recon_match(part, [{"id": orphan["id"]}], preview=True)["outcome"] == "exact"
    group = sdk.recon_match(part, [{"id": orphan["id"]}])
    assert sdk.recon_group(group["id"])["state"] == "active"
    assert sdk.recon_undo(group["id"], "wrong order")["state"] == "undone"
    with pytest.raises(ApiError) as refused:
        sdk.recon_undo(group["id"], "again")
    assert (refused.value.status, refused.value.code) == (409, "recon_state")
    sdk.recon_ignore(orphan["id"], "a test payment")
    with pytest.raises(ApiError) as refused:
        sdk.recon_set_key(orphan["id"], "W2403501")
    assert refused.value.code == "recon_state"
    sdk.recon_void(unpaid["id"], "order cancelled")
    assert sdk.recon_expected(unpaid["id"])["state"] == "void"
    assert [e["action"] for e in sdk.recon_events(group=group["id"])] == ["undone", "matched"]


def test_sdk_queue_workbook_round_trip(sdk, ledger, tmp_path):
    import openpyxl

    from tests.recon.support import with_samples
    from tests.recon.test_actions import fill

    _, files = with_samples(ledger, tmp_path)
    sdk.recon_import_file(files["orders"].read_bytes(), shop="S001")
    sdk.recon_run()
    [orphan] = sdk.recon_queue("paid_no_order")["rows"]
    book = openpyxl.load_workbook(io.BytesIO(sdk.recon_queue_xlsx("到账无订单")))
    data = fill(book, **{str(orphan["id"]): {"动作": "ignore", "备注": "a test payment"}})
    assert sdk.recon_apply(data, dry_run=True)["rows"][0]["status"] == "apply"
    assert sdk.recon_queue("paid_no_order")["count"] == 1
    assert sdk.recon_apply(data)["applied"] == 1
    assert sdk.recon_queue("paid_no_order")["count"] == 0
    with pytest.raises(ApiError) as refused:
        sdk.recon_apply(b"a,b\n")
    assert refused.value.code == "action_file" and refused.value.body["errors"]


def test_sdk_recon_second_approver(client, make_key, ledger, tmp_path):
    """A forced match above 1000.00 waits: the integrator that forced it is refused its
    approval; another integrator's ``force`` key approves or rejects it."""
    from tests.recon.support import with_samples

    _, files = with_samples(ledger, tmp_path)
    first = make_key(scopes=("force",))
    with (
        RestClient("http://testserver", first, transport=client._transport) as one,
        RestClient("http://testserver", make_key(scopes=("force",)), transport=client._transport)
        as two,
    ):  # fmt: skip
        line = {"order_no": "API2", "kind": "sale", "amount": "5000.00",
                "occurred_at": "2024-03-01", "source_ref": "erp-2"}  # fmt: skip
        assert one.recon_import([line], shop="S001")["new"] == 1
        one.recon_import_file(files["orders"].read_bytes(), shop="S001")
        one.recon_run()
        [orphan] = one.recon_queue("paid_no_order")["rows"]
        [sale] = [r for r in one.recon_queue("shipped_not_paid")["rows"] if r["key"] == "API2"]
        items = ([{"id": sale["id"]}], [{"id": orphan["id"]}])
        group = one.recon_match(*items, force=True, memo="written off by the CFO")
        assert (group["state"], group["difference"]) == ("pending", "-4933.8000")
        with pytest.raises(ApiError) as refused:
            one.recon_approve(group["id"])
        assert (refused.value.status, refused.value.code) == (403, "second_approver")
        assert two.recon_reject(group["id"], "no approval on file")["state"] == "rejected"
        again = one.recon_match(*items, force=True, memo="written off by the CFO")
        assert two.recon_approve(again["id"], memo="approved")["state"] == "active"
        assert one.recon_expected(sale["id"])["applied"] == "5000.0000"
