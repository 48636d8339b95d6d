"""The console over real HTTP (the whole app, TestClient), on SQLite: logging
in and out, CSRF, expired sessions, the account scope, filters, totals against the REST API,
exports, uploads and a supervisor's action. The browser tests are in test_browser.py."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from tests.console.support import bad_row_bill, csrf_of, demo_ledger, login
from tests.web.support import database_down
from zhangben.access.service import Access
from zhangben.app import create_app
from zhangben.console.http import CSP, STATIC
from zhangben.console.pages import UNAVAILABLE
from zhangben.console.session import COOKIE, STALE_FORM
from zhangben.core.queries import EntryFilter
from zhangben.web import outage

VENDOR = STATIC / "vendor"


@pytest.fixture
def demo(ledger):
    return demo_ledger(ledger)


@pytest.fixture
def app_client(settings, demo):
    with TestClient(create_app(settings, demo)) as c:
        yield c


def _entries(ledger) -> int:
    return ledger.count_entries()


def test_the_vendored_files_are_the_ones_listed():
    listed = {}
    for line in (VENDOR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        listed[name] = digest
    files = {p.name for p in VENDOR.iterdir()} - {"SHA256SUMS"}
    assert files == set(listed)  # nothing unlisted, nothing missing
    assert {"htmx.min.js", "htmx.LICENSE", "uPlot.iife.min.js", "uPlot.LICENSE"} <= files
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert b"htmx" in (VENDOR / "htmx.min.js").read_bytes()[:4000]


def test_root_leads_to_the_login_and_pages_carry_the_csp(app_client):
    first = app_client.get("/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/console/"
    page = app_client.get("/")
    assert page.url.path == "/console/login" and "登录" in page.text
    assert page.headers["content-security-policy"] == CSP
    assert "default-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert "<script>" not in page.text and not re.search(r"(https?:)?//[a-z0-9]", page.text)
    for src in re.findall(r'(?:src|href)="(/console/static/[^"]+)"', page.text):
        asset = app_client.get(src)
        assert asset.status_code == 200, src
        assert asset.headers["content-security-policy"] == CSP


def test_login_csrf_logout_and_an_expired_session(app_client, demo):
    # a login form without its token: refused, no session
    refused = app_client.post(
        "/console/login", data={"username": "finance", "password": "finance-demo", "csrf": "x"}
    )
    assert refused.status_code == 403 and STALE_FORM in refused.text
    assert COOKIE not in app_client.cookies
    bad = login(app_client, "finance", "wrong")
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    ok = login(app_client, "finance")
    assert ok.status_code == 303 and ok.headers["location"] == "/console/"
    token = app_client.cookies[COOKIE]
    # the cookie is the 壹川 session: the REST API takes it as a bearer token
    rest = app_client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"})
    assert rest.status_code == 200
    home = app_client.get("/console/")
    assert home.status_code == 200 and "财务（finance · 管理员）" in home.text
    # logging out with a stale form: nothing happens
    stale = app_client.post("/console/logout", data={"csrf": "stale"})
    assert stale.status_code == 403 and STALE_FORM in stale.text
    assert Access(demo).session_user(token) is not None
    out = app_client.post("/console/logout", data={"csrf": csrf_of(home.text)})
    assert out.url.path == "/console/login" and "您已退出登录" in out.text
    assert Access(demo).session_user(token) is None
    # a session ended elsewhere (or expired): back to the login, with a message
    login(app_client, "finance")
    Access(demo).logout(app_client.cookies[COOKIE])
    back = app_client.get("/console/accounts/ACC001?type=income", follow_redirects=False)
    assert back.status_code == 303
    assert back.headers["location"].startswith("/console/login?expired=1&next=")
    page = app_client.get(back.headers["location"])
    assert "登录已过期，请重新登录" in page.text
    # an upload (htmx) after the session ended: htmx is told to load the login page
    login(app_client, "finance")
    Access(demo).logout(app_client.cookies[COOKIE])
    upload = app_client.post("/console/imports", headers={"HX-Request": "true"}, data={})
    assert upload.status_code == 401
    assert upload.headers["HX-Redirect"] == "/console/login?expired=1"
    # a hostile next= never leaves the console
    csrf = csrf_of(app_client.get("/console/login").text)
    away = app_client.post(
        "/console/login",
        data={"csrf": csrf, "username": "finance", "password": "finance-demo",
              "next": "//evil.example/"},
        follow_redirects=False,
    )  # fmt: skip
    assert away.headers["location"] == "/console/"


def test_a_user_sees_only_their_accounts(app_client):
    login(app_client, "merchant")
    listed = app_client.get("/console/accounts").text
    assert "0000000000000002" in listed and "ACC001" not in listed
    for url in (
        "/console/accounts/ACC001",
        "/console/accounts/NO-SUCH",
        "/console/accounts/ACC001/export.csv",
    ):
        page = app_client.get(url)
        assert page.status_code == 404 and "账户不存在，或您无权查看该账户" in page.text, url
        assert "货款" not in page.text
    own = app_client.get("/console/accounts/0000000000000002")
    assert own.status_code == 200 and 'id="flows"' in own.text
    assert app_client.get("/console/settings").status_code == 403


def _rest_sums(client, token, query: str) -> tuple[int, Decimal, Decimal]:
    count, income, expense, cursor = 0, Decimal(0), Decimal(0), None
    while True:
        url = f"/api/v1/entries?{query}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers={"Authorization": f"Bearer {token}"}).json()
        for item in page["items"]:
            amount = Decimal(str(item["amount"]))
            count += 1
            income += max(amount, Decimal(0))
            expense += max(-amount, Decimal(0))
        cursor = page["next_cursor"]
        if not cursor:
            return count, income, expense


def _money(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.\-]", "", text))


def test_filtered_totals_match_the_rest_api_and_the_export(app_client):
    login(app_client, "finance")
    token = app_client.cookies[COOKIE]
    cases = [
        ("", "account=ACC001"),
        ("type=income", "account=ACC001&type=income"),
        ("start=2024-01-01&end=2024-01-01", "account=ACC001&start=2024-01-01T00:00:00%2B08:00"
         "&end=2024-01-02T00:00:00%2B08:00"),
    ]  # fmt: skip
    for console_query, rest_query in cases:
        page = app_client.get(f"/console/accounts/ACC001?{console_query}")
        assert page.status_code == 200
        count = int(re.search(r'id="total-count">(\d+)<', page.text).group(1))
        income = _money(re.search(r'id="total-income">([^<]+)<', page.text).group(1))
        expense = _money(re.search(r'id="total-expense">([^<]+)<', page.text).group(1))
        assert (count, income, expense) == _rest_sums(app_client, token, rest_query)
        exported = app_client.get(f"/console/accounts/ACC001/export.csv?{console_query}")
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert len(rows) - 1 == count
    assert count == 3  # the demo's 2024-01-01 entries: two incomes and an expense


def test_bad_filters_get_a_message_and_the_page(app_client):
    login(app_client, "finance")
    for query, message in (
        ("start=2026-02-30", "开始日期「2026-02-30」不是有效日期"),
        ("type=bogus", "未知的类型「bogus」"),
        ("category=x1", "未知的分类「x1」"),
        ("start=2026-03-02&end=2026-03-01", "结束日期早于开始日期"),
        ("q=" + "x" * 200, "筛选条件「q」无效"),
    ):
        page = app_client.get(f"/console/accounts/ACC001?{query}")
        assert page.status_code == 400, query
        assert message in page.text, query
        assert 'id="filters"' in page.text and 'id="flows"' not in page.text
        assert "总览" in page.text  # the navigation is there
        export = app_client.get(f"/console/accounts/ACC001/export.csv?{query}")
        assert export.status_code == 400 and message in export.text


def test_reversing_is_a_supervisors_action(app_client, settings, demo):
    own = demo.income("0000000000000002", "10.00", operator_id=demo.user("finance").id)
    entry_id = own.entries[0].id
    login(app_client, "merchant")
    page = app_client.get("/console/accounts/0000000000000002")
    assert "冲正</button>" not in page.text  # a clerk is not offered it
    before = _entries(demo)
    refused = app_client.post(
        "/console/accounts/0000000000000002/reverse",
        data={"csrf": csrf_of(page.text), "entry_id": str(entry_id)},
    )
    assert refused.status_code == 403 and "冲正需要主管权限" in refused.text
    assert _entries(demo) == before
    with TestClient(create_app(settings, demo)) as boss:
        login(boss, "finance")
        page = boss.get("/console/accounts/0000000000000002")
        assert "冲正</button>" in page.text
        stale = boss.post(
            "/console/accounts/0000000000000002/reverse",
            data={"csrf": "0" * 64, "entry_id": str(entry_id)},
        )
        assert stale.status_code == 403 and STALE_FORM in stale.text
        assert _entries(demo) == before
        done = boss.post(
            "/console/accounts/0000000000000002/reverse",
            data={"csrf": csrf_of(page.text), "entry_id": str(entry_id)},
        )
        assert done.status_code == 200 and "已冲正" in done.text
        assert _entries(demo) == before + 1


def test_uploads(app_client, demo, tmp_path):
    login(app_client, "finance")
    csrf = csrf_of(app_client.get("/console/imports").text)
    bill = bad_row_bill(tmp_path / "alipay.csv")

    def upload(name: str, content: bytes, token: str = csrf, account: str = "ALIPAY-S001"):
        return app_client.post(
            "/console/imports",
            data={"csrf": token, "account": account},
            files={"file": (name, content, "text/csv")},
        )

    before = _entries(demo)
    stale = upload("alipay.csv", bill.read_bytes(), token="stale")
    assert stale.status_code == 403 and STALE_FORM in stale.text
    not_bill = upload("notes.csv", "名字,年龄\n张三,30\n".encode())
    assert not_bill.status_code == 422 and "无法识别为账单，未导入任何内容" in not_bill.text
    foreign = upload("alipay.csv", bill.read_bytes(), account="ACC001")
    assert foreign.status_code == 400 and "账户不存在" in foreign.text
    assert _entries(demo) == before
    done = upload("alipay.csv", bill.read_bytes())
    assert done.status_code == 200
    assert re.search(r'id="rows-new">11<', done.text)
    assert re.search(r'id="rows-rejected">1<', done.text)
    row = re.search(r'<table class="grid" id="bad-rows">.*?<tbody>(.*?)</tbody>', done.text, re.S)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells[:3] == ["9", "收入金额（+元）", "12,3O"]
    assert cells[3].startswith("不是有效金额") and "&#34;12,3O&#34; is not an amount" in cells[3]
    assert _entries(demo) == before + 11
    assert "alipay.csv" in app_client.get("/console/").text  # the last import of the account


def test_an_oversized_upload_is_refused_before_it_is_read(settings, demo):
    small = settings.model_copy(update={"console_max_upload_bytes": 2048})
    with TestClient(create_app(small, demo)) as client:
        login(client, "finance")
        csrf = csrf_of(client.get("/console/imports").text)
        before = _entries(demo)
        big = client.post(
            "/console/imports",
            data={"csrf": csrf, "account": "ALIPAY-S001"},
            files={"file": ("big.csv", b"x" * 5000, "text/csv")},
        )
        assert big.status_code == 413 and "文件太大" in big.text
        assert 'id="import-result"' in big.text
        assert _entries(demo) == before
        # any form of the console: a queue's filled XLSX is refused before it is read, too
        queue = client.post(
            "/console/recon/queues/paid_no_order/actions",
            data={"csrf": csrf},
            files={"file": ("q.xlsx", b"x" * 5000, "application/octet-stream")},
        )
        assert queue.status_code == 413 and "文件太大" in queue.text
        assert _entries(demo) == before


def test_the_daily_figures_end_at_the_balance(app_client, demo):
    login(app_client, "finance")
    data = app_client.get("/console/overview/daily.json").json()
    assert len(data["days"]) == len(data["income"]) == len(data["balance"]) == 30
    total = sum(a.balance for a in demo.accounts())
    assert Decimal(str(data["balance"][-1])) == total
    assert data["income"][-1] == pytest.approx(1234.56)
    assert data["expense"][-3] == pytest.approx(99.99)
    assert app_client.get("/console/settings").status_code == 200


def test_a_database_outage_is_a_chinese_page_with_503(app_client, engine, caplog):
    login(app_client, "finance")
    outage.reset()
    with database_down(engine):
        answers = [app_client.get(url) for url in ("/console/", "/console/accounts/ACC001")]
        answers.append(app_client.post("/console/imports", data={"csrf": "x"}))
    outage.reset()
    for answer in answers:
        assert answer.status_code == 503 and UNAVAILABLE in answer.text
        assert int(answer.headers["Retry-After"]) >= 1
    assert all(r.exc_info is None for r in caplog.records if r.name.startswith("zhangben"))
    assert app_client.get("/console/").status_code == 200  # and back


def _listed(html: str) -> list[str]:
    table = re.search(r'<table class="grid" id="accounts">.*?<tbody>(.*?)</tbody>', html, re.S)
    return re.findall(r'<a href="/console/accounts/[^"]+">([^<]+)</a>', table.group(1))


def test_the_accounts_list_is_paged_by_keyset_with_its_filters_in_the_url(
    app_client, demo, monkeypatch
):
    from zhangben.console import pages

    monkeypatch.setattr(pages, "ACCOUNTS_PAGE", 2)
    login(app_client, "finance")
    every = [a.number for a in demo.accounts()]
    seen, url = [], "/console/accounts"
    while url:
        page = app_client.get(url)
        assert page.status_code == 200
        assert re.search(r'id="accounts-total">(\d+)<', page.text).group(1) == str(len(every))
        listed = _listed(page.text)
        assert len(listed) == (2 if len(seen) + 2 <= len(every) else len(every) - len(seen))
        seen += listed
        found = re.search(r'id="next-page" href="\?([^"]+)"', page.text)
        url = f"/console/accounts?{found.group(1).replace('&amp;', '&')}" if found else None
        assert ("第一页" in page.text) == (len(seen) > 2)
    assert seen == every  # by id, each once
    # the filters narrow the page and the total, and the next page keeps them
    bills = app_client.get("/console/accounts?type=alipay")
    assert _listed(bills.text) == ["ALIPAY-S001"] and 'id="accounts-total">1<' in bills.text
    shop = app_client.get("/console/accounts?shop=S001")
    assert _listed(shop.text) == ["0000000000000002", "ACC001"]
    assert 'id="accounts-total">3<' in shop.text
    following = re.search(r'id="next-page" href="\?([^"]+)"', shop.text).group(1)
    assert "shop=S001" in following
    rest = app_client.get(f"/console/accounts?{following.replace('&amp;', '&')}")
    assert _listed(rest.text) == ["ALIPAY-S001"] and 'id="next-page"' not in rest.text
    found = app_client.get("/console/accounts?q=%E5%A4%87%E7%94%A8")  # 备用: in the name
    assert _listed(found.text) == ["ACC002"]
    assert _listed(app_client.get("/console/accounts?q=jd-s").text) == ["JD-S002"]
    demo.close_account("ACC002")
    assert _listed(app_client.get("/console/accounts?status=closed").text) == ["ACC002"]
    for query, message in (("status=gone", "未知的状态「gone」"), ("after=x1", "翻页参数无效"),
                           ("q=" + "x" * 80, "筛选条件「q」无效")):  # fmt: skip
        bad = app_client.get(f"/console/accounts?{query}")
        assert bad.status_code == 400 and message in bad.text, query
        assert 'id="account-filters"' in bad.text and 'id="accounts"' not in bad.text
    # a user's list is their own accounts, whatever the filters say
    with TestClient(app_client.app) as merchant:
        login(merchant, "merchant")
        mine = merchant.get("/console/accounts?shop=S001")
        assert _listed(mine.text) == ["0000000000000002"]
        assert 'id="accounts-total">1<' in mine.text


def test_the_overview_never_adds_two_currencies(app_client, demo):
    cny = sum(a.balance for a in demo.accounts())
    demo.open_account(number="USD-S001", name="美元账户", shop_code="S001", currency="USD")
    demo.income("USD-S001", "100.00")
    login(app_client, "finance")
    home = app_client.get("/console/").text
    totals = dict(re.findall(r'data-currency="([A-Z]{3})">([^<]+)<', home))
    assert _money(totals["CNY"]) == cny and _money(totals["USD"]) == Decimal("100.00")
    assert re.search(r"<td>S001</td><td>主账户</td><td>USD</td><td[^>]*>1</td>", home)
    # today's figures: a card a currency, the other currency's named
    usd = re.search(r"<h2>今日（USD）</h2>(.*?)</dl>", home, re.S).group(1)
    assert _money(re.findall(r'<dd class="[^"]*">([^<]+)</dd>', usd)[0]) == Decimal("100.00")
    cny_today = re.search(r"<h2>今日</h2>(.*?)</dl>", home, re.S).group(1)
    income = _money(re.findall(r'<dd class="[^"]*">([^<]+)</dd>', cny_today)[0])
    today = datetime.now(demo.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    span = EntryFilter(start=today, end=today + timedelta(days=1))
    assert income == demo.entry_totals(span).income - Decimal("100.00")
    chart = app_client.get("/console/overview/daily.json").json()  # CNY's, not USD's too
    assert chart["days"][-1] == f"{today:%Y-%m-%d}" and chart["income"][-1] == float(income)
    # the reports screen's chart draws the same currency, also beside one named before it
    demo.open_account(number="AUD-S001", name="澳元账户", shop_code="S001", currency="AUD")
    demo.income("AUD-S001", "7.00")
    day = app_client.get(f"/console/reports/chart.json?month={today:%Y-%m}&by=day").json()
    assert day["income"][day["days"].index(f"{today:%Y-%m-%d}")] == float(income)
    assert app_client.get("/console/overview/daily.json").json()["income"][-1] == float(income)


def test_the_overview_adds_up_the_accounts_and_the_days_entries(app_client, demo):
    login(app_client, "finance")
    home = app_client.get("/console/").text
    expected: dict = {}
    for a in demo.accounts():
        key = (a.shop_code or "（未分店铺）", a.type, a.currency)
        group = expected.setdefault(key, [0, Decimal(0)])
        group[0] += 1
        group[1] += a.balance
    table = re.search(r'<table class="grid" id="balances">.*?<tbody>(.*?)</tbody>', home, re.S)
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in
            re.findall(r"<tr>(.*?)</tr>", table.group(1))]  # fmt: skip
    assert len(rows) == len(expected)
    channel = {"main": "主账户", "merchant": "商户", "backup": "备用", "alipay": "支付宝",
               "jd_wallet": "京东钱包"}  # fmt: skip
    for shop, kind, currency in expected:
        row = next(r for r in rows if r[:3] == [shop, channel[kind], currency])
        assert int(row[3]) == expected[(shop, kind, currency)][0]
        assert _money(row[4]) == expected[(shop, kind, currency)][1]
    assert {a.currency for a in demo.accounts()} == {"CNY"}
    total = sum(a.balance for a in demo.accounts())
    assert _money(re.search(r'id="total-balance"[^>]*>([^<]+)<', home).group(1)) == total
    # 今日: the entries of today (demo_ledger posts 1234.56 today), as the entries sum them
    card = re.search(r"<h2>今日</h2>(.*?)</dl>", home, re.S).group(1)
    figures = re.findall(r'<dd class="[^"]*">([^<]+)</dd>', card)
    today = datetime.now(demo.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    sums = demo.entry_totals(EntryFilter(start=today, end=today + timedelta(days=1)))
    assert (_money(figures[0]), _money(figures[1]), int(figures[3])) == (
        sums.income,
        sums.expense,
        sums.count,
    )
    # the bill accounts, each with its last import (none yet)
    imports = re.search(r'id="last-imports">.*?<tbody>(.*?)</tbody>', home, re.S).group(1)
    assert imports.count("尚未导入") == 2 and "ALIPAY-S001" in imports
