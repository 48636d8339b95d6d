"""The console in a real browser: Debian's chromium driven by Playwright, against uvicorn on a
loopback port, on SQLite (``ZHANGBEN_TEST_BACKENDS=all``: also PostgreSQL). One browser for the
session, one server per backend, a fresh browser context per test.

Every test runs behind a route guard that aborts, and fails the test for, any request outside
the test server, and fails on any error in the browser's console (a CSP violation is one).
Each screen is written as a PNG to ``$ZHANGBEN_CONSOLE_SHOTS`` (default: a folder of the
test run's temporary directory, printed) for a reviewer.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import threading
import time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
import uvicorn
from openpyxl import load_workbook

from tests.console.support import bad_row_bill, demo_ledger
from tests.recon.support import ACTOR, with_samples
from tests.reliability.support import free_port
from zhangben.app import create_app
from zhangben.core.ledger import Ledger
from zhangben.demo.orders import PLANTED
from zhangben.demo.passwords import DEMO_PASSWORDS
from zhangben.periods import Periods
from zhangben.settings import Settings
from zhangben.store.engine import make_engine
from zhangben.vouchers.service import Vouchers

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("ZHANGBEN_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: Playwright's sync API keeps an asyncio loop running while it is open, and
    a later test of the same process calling ``asyncio.run`` would be refused."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}: run `make system-deps`")
    with playwright_api.sync_playwright() as p:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []  # the sandbox refuses root
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("ZHANGBEN_CONSOLE_SHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"console screenshots: {folder}")
    return folder


def _database(request, backend: str, folder: Path) -> tuple[str, object]:
    """A fresh migrated database for the module (the suite's templates, copied)."""
    if backend == "sqlite":
        path = folder / "console.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}", lambda: None
    base = request.getfixturevalue("pg_base_url")
    template = request.getfixturevalue("pg_template")
    name = f"zb_console_{os.getpid()}_{free_port()}"
    dsn = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"

    def sql(statement: str) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(statement)

    sql(f"CREATE DATABASE {name} TEMPLATE {template}")
    return f"{base}/{name}", lambda: sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory):
    """The demo ledger (with entries of the last days) served by uvicorn on a free port."""
    url, drop = _database(request, request.param, tmp_path_factory.mktemp("console"))
    engine = make_engine(url)
    ledger = demo_ledger(Ledger(engine, ZoneInfo("Asia/Shanghai")))
    port = free_port()
    app = create_app(Settings(database_url=url), ledger)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield {"base": f"http://127.0.0.1:{port}", "backend": request.param, "ledger": ledger}
    server.should_exit = True
    thread.join(10)
    engine.dispose()
    drop()


@pytest.fixture
def page(browser, live):
    """A page in a fresh context, behind the route guard; console errors fail the test."""
    context = browser.new_context(
        base_url=live["base"],
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 860},
        accept_downloads=True,
    )
    outside: list[str] = []
    errors: list[str] = []

    def guard(route):
        url = route.request.url
        if url.startswith(live["base"] + "/") or url.startswith("data:"):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not outside, f"the page asked for something outside the test server: {outside}"
    # a refused form answers 4xx, which chromium reports as a failed resource: not an error
    errors = [e for e in errors if "status of 4" not in e]
    assert not errors, f"errors in the browser's console: {errors}"


def _login(page, username: str) -> None:
    page.goto("/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORDS[username])
    page.click("button:has-text('登录')")
    page.wait_for_url("**/console/")


def _shot(page, shots: Path, live, name: str) -> None:
    if live["backend"] == "sqlite":  # the screens are the same on both
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def test_log_in_and_out(page, live, shots):
    page.goto("/")
    assert page.url.endswith("/console/login")
    _shot(page, shots, live, "login")
    page.fill("input[name=username]", "finance")
    page.fill("input[name=password]", "not-the-password")
    page.click("button:has-text('登录')")
    assert page.locator(".error").inner_text() == "用户名或密码错误。"
    _login(page, "finance")
    assert "财务（finance · 管理员）" in page.locator("#who").inner_text()
    page.click("button:has-text('退出')")
    page.wait_for_url("**/console/login?bye=1")
    assert "您已退出登录" in page.content()
    page.goto("/console/accounts")
    assert "/console/login" in page.url  # the session is gone


def test_the_overview_draws_its_chart(page, live, shots):
    _login(page, "finance")
    page.wait_for_selector("#daily-chart[data-drawn='1'] canvas")
    painted = page.evaluate(
        """() => {
            const c = document.querySelector('#daily-chart canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
            return {w: c.width, h: c.height, painted: n};
        }"""
    )
    assert painted["w"] > 300 and painted["h"] > 200
    assert painted["painted"] > 2000, painted  # bars and a line, not an empty canvas
    assert page.locator("#daily-chart").get_attribute("data-points") == "30"
    legend = page.locator("#daily-chart .u-legend .u-value").all_inner_texts()
    assert legend[0] and legend[3] not in ("", "--"), legend  # the last day's, before a hover
    balances = page.locator("#balances tbody tr")
    assert balances.count() >= 4
    assert page.locator("#total-balance").inner_text().replace(",", "")[0].isdigit()
    _shot(page, shots, live, "overview")


def _cookie(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "zb_console")


def test_filter_flows_check_totals_against_the_api_and_export(page, live, shots, tmp_path):
    _login(page, "finance")
    page.click("nav >> text=账户")
    _shot(page, shots, live, "accounts")
    page.click("a:has-text('ACC001')")
    page.select_option("select[name=type]", "income")
    page.click("button:has-text('筛选')")
    page.wait_for_url("**type=income**")
    count = int(page.locator("#total-count").inner_text())
    income = Decimal(page.locator("#total-income").inner_text().replace(",", ""))
    assert page.locator("#flows tbody tr").count() == count
    # the REST API, with the same session, says the same
    api = httpx.get(
        f"{live['base']}/api/v1/entries?account=ACC001&type=income&limit=100&with_total=true",
        headers={"Authorization": f"Bearer {_cookie(page)}"},
    ).json()
    assert api["total"] == count
    assert sum(Decimal(str(i["amount"])) for i in api["items"]) == income
    _shot(page, shots, live, "account")
    # the export holds exactly the filtered view
    with page.expect_download() as caught:
        page.click("#export-csv")
    path = tmp_path / "flows.csv"
    caught.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert len(rows) == count
    assert {r["类型"] for r in rows} == {"收入"}
    assert sum(Decimal(r["收入"]) for r in rows) == income
    with page.expect_download() as caught:
        page.click("#export-xlsx")
    caught.value.save_as(tmp_path / "flows.xlsx")
    sheet = load_workbook(tmp_path / "flows.xlsx").active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) - 1 == count
    assert list(values[0]) == list(rows[0].keys())  # the same columns as the CSV
    # a bad date: a message, the rest of the page intact
    page.fill("input[name=start]", "2026-02-30")
    page.click("button:has-text('筛选')")
    assert "不是有效日期" in page.locator("#filter-errors").inner_text()
    assert page.locator("#filters").is_visible() and page.locator("nav").is_visible()


def test_the_accounts_list_pages_keeping_its_filters(page, live, shots, monkeypatch):
    from zhangben.console import pages

    monkeypatch.setattr(pages, "ACCOUNTS_PAGE", 2)  # the demo's accounts on three pages
    every = [a.number for a in live["ledger"].accounts()]
    _login(page, "finance")
    page.click("nav >> text=账户")
    page.wait_for_url("**/console/accounts")

    def listed() -> list[str]:
        return page.locator("#accounts tbody tr td:first-child").all_inner_texts()

    seen = listed()
    assert page.locator("#accounts-total").inner_text() == str(len(every))
    while page.locator("#next-page").count():
        page.click("#next-page")
        page.wait_for_load_state()
        assert "after=" in page.url and page.locator("#first-page").is_visible()
        seen += listed()
    assert seen == every
    # a filter from the form: the URL keeps it, and so does the next page
    page.fill("input[name=shop]", "S001")
    page.click("#account-filters button:has-text('筛选')")
    page.wait_for_url("**shop=S001**")
    assert page.locator("#accounts-total").inner_text() == "3"
    first = listed()
    page.click("#next-page")
    page.wait_for_url("**after=**")
    assert "shop=S001" in page.url and page.locator("input[name=shop]").input_value() == "S001"
    assert first + listed() == [n for n in every if n in first + listed()]
    assert len(first + listed()) == 3
    _shot(page, shots, live, "accounts-page-2")
    page.click("#first-page")
    page.wait_for_load_state()
    assert "after=" not in page.url and listed() == first


def test_upload_a_bill_with_a_bad_row(page, live, shots, tmp_path):
    _login(page, "finance")
    page.click("nav >> text=导入")
    page.wait_for_url("**/console/imports")
    page.wait_for_load_state()
    bill = bad_row_bill(tmp_path / "alipay-bad.csv")
    # a file dropped on the zone lands in the plain file input
    dropped = page.evaluate(
        """() => {
            const dt = new DataTransfer();
            dt.items.add(new File(['x'], 'dropped.csv', {type: 'text/csv'}));
            document.querySelector('#drop').dispatchEvent(
                new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
            return document.querySelector('input[type=file]').files[0].name;
        }"""
    )
    assert dropped == "dropped.csv"
    page.select_option("select[name=account]", "ALIPAY-S001")
    page.set_input_files("input[type=file]", str(bill))
    page.click("button:has-text('上传并导入')")
    page.wait_for_selector("#bad-rows")
    cells = page.locator("#bad-rows tbody tr").first.locator("td").all_inner_texts()
    assert cells[:3] == ["9", "收入金额（+元）", "12,3O"] and cells[3].startswith("不是有效金额")
    assert page.locator("#rows-new").inner_text() == "11"
    assert page.locator("#upload-state").inner_text() == "导入完成"
    assert page.locator("nav").is_visible()  # swapped in place: the page is intact
    assert "alipay-bad.csv" in page.locator("#import-records").inner_text()
    _shot(page, shots, live, "imports")


def test_a_clerk_is_refused_a_supervisors_action_and_other_accounts(page, live, shots):
    ledger = live["ledger"]
    entry = ledger.income("0000000000000002", "7.00", operator_id=ledger.user("finance").id)
    _login(page, "merchant")
    assert "出纳" in page.locator("#who").inner_text()
    assert page.locator("nav >> text=设置").count() == 0
    page.goto("/console/accounts/0000000000000002")
    assert page.locator("button:has-text('冲正')").count() == 0
    csrf = page.locator("header input[name=csrf]").get_attribute("value")
    before = ledger.count_entries()
    answer = page.request.post(
        "/console/accounts/0000000000000002/reverse",
        form={"csrf": csrf, "entry_id": str(entry.entries[0].id)},
    )
    assert answer.status == 403 and "冲正需要主管权限" in answer.text()
    assert ledger.count_entries() == before
    # editing the URL to reach another user's account (or the settings) shows nothing of it
    page.goto("/console/accounts/ACC001")
    assert "账户不存在，或您无权查看该账户" in page.locator(".error").inner_text()
    assert page.locator("#flows").count() == 0
    page.goto("/console/accounts/ACC001/export.csv")
    assert "账户不存在" in page.content()
    page.goto("/console/settings")
    assert "需要管理员权限" in page.locator(".error").inner_text()


def test_settings_lists_users_keys_and_rules(page, live, shots):
    _login(page, "finance")
    page.click("nav >> text=设置")
    users = page.locator("#users").inner_text()
    assert "finance" in users and "merchant" in users and "管理员" in users
    assert page.locator("#rules tbody tr").count() > 5
    rules = page.locator("#rules").inner_text()
    assert "支付宝" in rules and "收入" in rules and "income" not in rules
    _shot(page, shots, live, "settings")


def test_reports_chart_and_a_clerk_refused_a_close(page, live, shots):
    _login(page, "finance")
    page.click("nav >> text=报表")
    page.fill("input[name=month]", "2024-01")
    page.click("button:has-text('查看')")
    page.wait_for_url("**month=2024-01**")
    page.wait_for_selector("#report-chart[data-drawn='1'] canvas")
    assert page.locator("#report-chart").get_attribute("data-points") == "31"
    # before any hover, the legend shows the last day's figures (the balance: never empty)
    values = page.locator("#report-chart .u-legend .u-value").all_inner_texts()
    assert values[0] == "2024-01-31" and values[3] not in ("", "--"), values
    _shot(page, shots, live, "reports")
    page.select_option("select[name=by]", "month")
    page.click("button:has-text('查看')")
    page.wait_for_url("**by=month**")
    page.wait_for_selector("#report-chart[data-drawn='1'] canvas")
    assert page.locator("#report-chart").get_attribute("data-points") == "12"
    assert page.locator("select[name=by]").input_value() == "month"
    page.click("button:has-text('退出')")
    page.wait_for_url("**/console/login?bye=1")
    _login(page, "clerk")
    page.click("nav >> text=账期")
    page.fill("input[name=month]", "2024-01")
    page.click("button:has-text('查看')")
    page.wait_for_selector("#checklist")
    assert page.locator("#close-form").count() == 0  # not offered to a clerk
    _shot(page, shots, live, "periods")
    csrf = page.locator("header input[name=csrf]").get_attribute("value")
    answer = page.request.post(
        "/console/periods/close", form={"csrf": csrf, "month": "2024-01", "force": "1"}
    )
    assert answer.status == 403 and "结账需要主管权限，未作任何修改" in answer.text()
    assert Periods(live["ledger"]).list_periods() == []


def test_the_vouchers_preview_renders_its_totals(page, live, shots):
    Vouchers(live["ledger"]).add_book("浏览器", product="k3cloud_xlsx")
    _login(page, "supervisor")
    page.click("nav >> text=凭证")
    page.fill("input[name=month]", "2024-01")
    page.click("button:has-text('预览')")
    page.wait_for_selector("#preview")
    debit = page.locator("#preview-debit").inner_text()
    assert debit == page.locator("#preview-credit").inner_text()
    assert Decimal(debit.replace(",", "")) > 0
    assert page.locator("#preview-vouchers tr.voucher").count() > 0
    _shot(page, shots, live, "vouchers")
    preview = Vouchers(live["ledger"]).preview("浏览器", "2024-01")
    assert page.locator("li.unmapped").count() == len(preview.unmapped)
    assert page.locator("#generate-form").count() == (0 if preview.problems else 1)
    assert Vouchers(live["ledger"]).batches("浏览器") == []


def test_recon_workspace_sums_the_ticked_lines(page, live, shots, tmp_path):
    """Last in the module: it adds the sample orders to the shared ledger."""
    recon, files = with_samples(live["ledger"], tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.run(actor=ACTOR)
    expected, actual = recon.order("S001", PLANTED.difference)
    _login(page, "clerk")
    page.click("nav >> text=对账")
    page.click("#queue-amount_difference a >> nth=0")
    page.click(f"#queue-rows a:has-text('{PLANTED.difference}')")
    # the deferred script must have set up the sums before the ticks, or they are not counted
    page.wait_for_selector("#match-form[data-ready='1']")
    assert page.locator("#sum-diff").inner_text() == "0.00"
    page.locator("#match-form input[data-amount]").evaluate_all("bs => bs.forEach(b => b.click())")
    diff = Decimal(sum(a.remaining for a in actual) - sum(e.remaining for e in expected)) / 10_000
    assert page.locator("#sum-diff").inner_text() == f"{diff:,.2f}"
    # 本次核销: a part of a line's open amount replaces it in the sums; above it, marked
    line = next(e for e in expected if e.state == "open" and e.remaining)
    sign = 1 if line.remaining > 0 else -1
    part = page.locator(f"#match-form input[name='pe_{line.id}']")
    part.fill("1")
    diff += Decimal(line.remaining - sign * 10_000) / 10_000
    assert page.locator("#sum-diff").inner_text() == f"{diff:,.2f}"
    assert part.evaluate("e => e.validity.valid")
    part.fill(f"{Decimal(abs(line.remaining)) / 10_000 + 1:.2f}")
    assert "over" in part.get_attribute("class")
    assert not part.evaluate("e => e.validity.valid")  # the browser will not send it
    part.fill("")
    _shot(page, shots, live, "recon-order")
