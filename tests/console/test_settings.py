"""The console's 设置 forms over real HTTP (the whole app, TestClient), on SQLite and
PostgreSQL: admins only, CSRF on each, bad input refused with nothing written, secrets shown
once and never again, never logged."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient

from tests.console.support import csrf_of, demo_ledger, login
from zhangben.access.service import Access
from zhangben.app import create_app
from zhangben.console.admin import MISSING
from zhangben.console.session import STALE_FORM
from zhangben.imports.service import Imports


@pytest.fixture
def demo(ledger):
    return demo_ledger(ledger)


@pytest.fixture
def admin(settings, demo):
    with TestClient(create_app(settings, demo)) as client:
        login(client, "finance")
        yield client


def _post(client, action: str, **data):
    csrf = data.pop("csrf", None) or csrf_of(client.get("/console/settings").text)
    return client.post(f"/console/settings/{action}", data={"csrf": csrf, **data})


def _secret(page) -> str:
    return re.search(r'id="secret-value">([^<]+)<', page.text).group(1)


def test_only_an_admin_with_a_fresh_form_changes_anything(settings, demo, admin):
    with TestClient(create_app(settings, demo)) as boss:
        login(boss, "supervisor")
        csrf = csrf_of(boss.get("/console/").text)
        assert boss.get("/console/settings").status_code == 403
        refused = boss.post(
            "/console/settings/user-role",
            data={"csrf": csrf, "username": "supervisor", "role": "admin"},
        )
        assert refused.status_code == 403 and "需要管理员权限" in refused.text
    assert demo.user("supervisor").role == "supervisor"
    stale = _post(admin, "user-role", csrf="0" * 64, username="clerk", role="admin")
    assert stale.status_code == 403 and STALE_FORM in stale.text and 'id="users"' in stale.text
    assert demo.user("clerk").role == "clerk"
    assert _post(admin, "no-such-thing").status_code == 404


def test_users_added_given_roles_disabled_and_enabled(admin, demo, caplog):
    caplog.set_level(logging.DEBUG)
    short = _post(admin, "user-add", username="cashier", role="clerk", password="short")
    assert short.status_code == 400 and "密码至少 8 个字符；未作任何修改" in short.text
    bad_role = _post(admin, "user-add", username="cashier", role="boss", password="long-enough-1")
    assert bad_role.status_code == 400 and "未知的角色「boss」" in bad_role.text
    assert "cashier" not in {u.username for u in demo.users()}
    added = _post(
        admin, "user-add", username="cashier", display_name="出纳二号", role="clerk",
        password="cashier-pass-1",
    )  # fmt: skip
    assert added.status_code == 200 and "已添加用户" in added.text
    assert demo.user("cashier").role == "clerk" and "cashier-pass-1" not in added.text
    again = _post(admin, "user-add", username="cashier", role="viewer", password="x-long-enough")
    assert again.status_code == 409 and "already exists" in again.text
    with TestClient(admin.app) as cashier:
        assert login(cashier, "cashier", "cashier-pass-1").status_code == 303
        assert _post(admin, "user-role", username="cashier", role="supervisor").status_code == 200
        assert demo.user("cashier").role == "supervisor"
        assert cashier.get("/console/", follow_redirects=False).status_code == 303  # log in again
    demoted = _post(admin, "user-role", username="finance", role="viewer")
    assert demoted.status_code == 400 and "不能降低自己的角色" in demoted.text
    assert _post(admin, "user-disable", username="finance").status_code == 400
    assert demo.user("finance").role == "admin" and demo.user("finance").enabled
    assert _post(admin, "user-disable", username="cashier").status_code == 200
    assert not demo.user("cashier").enabled
    assert _post(admin, "user-enable", username="cashier").status_code == 200
    assert demo.user("cashier").enabled
    assert _post(admin, "user-role", username="ghost", role="viewer").status_code == 404
    assert not any("cashier-pass-1" in r.getMessage() for r in caplog.records)


def test_integrators_and_keys_show_their_secrets_once(admin, demo, caplog):
    caplog.set_level(logging.DEBUG)
    assert _post(admin, "app-add", name=" ").status_code == 400
    created = _post(admin, "app-add", name="ERP 用友")
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    token = _secret(created)
    flag = Access(demo).integrators()[-1].flag
    assert flag in created.text and token not in admin.get("/console/settings").text
    rotated = _post(admin, "app-rotate", flag=flag)
    new_token = _secret(rotated)
    assert new_token != token and "旧令牌立即失效" in rotated.text
    no_scope = _post(admin, "key-add", integrator=flag, name="报表")
    assert no_scope.status_code == 400 and "请至少选择一项权限" in no_scope.text
    made = _post(admin, "key-add", integrator=flag, name="报表", scope_read="1")
    secret = _secret(made)
    key = Access(demo).authenticate_key(secret)
    assert key is not None and key.scopes == ("read",)
    page = admin.get("/console/settings").text
    assert secret not in page and key.prefix in page
    assert _post(admin, "key-revoke", key_id="x").status_code == 400
    assert _post(admin, "key-revoke", key_id=str(key.id)).status_code == 200
    assert Access(demo).authenticate_key(secret) is None
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert token not in logged and new_token not in logged and secret not in logged


def test_category_rules_added_and_deleted(admin, demo):
    imports = Imports(demo)
    before = len(imports.rules()[0])
    category = next(c for c in demo.chart() if c.kind == "expense")
    rule = {"platform": "alipay", "business_type": "测试业务", "direction": "expense"}
    for bad, message in (
        ({**rule, "platform": "paypal"}, "未知的平台「paypal」"),
        ({**rule, "direction": "sideways"}, "未知的方向「sideways」"),
        ({**rule, "business_type": ""}, "请填写业务类型"),
        (rule, "请选择分类或科目"),
    ):
        answer = _post(admin, "rule-add", **bad)
        assert answer.status_code == 400 and message in answer.text, bad
    assert len(imports.rules()[0]) == before
    done = _post(admin, "rule-add", category_id=str(category.id), **rule)
    assert done.status_code == 200 and "已保存分类规则" in done.text
    assert "测试业务" in done.text and len(imports.rules()[0]) == before + 1
    unknown = _post(admin, "rule-add", category_id="999999", **rule)
    assert unknown.status_code == 404 and MISSING in unknown.text
    assert len(imports.rules()[0]) == before + 1
    assert _post(admin, "rule-delete", **rule).status_code == 200
    assert len(imports.rules()[0]) == before
    assert _post(admin, "rule-delete", **rule).status_code == 404
