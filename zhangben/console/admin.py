"""The console's 设置 screen for admins: users (add, change role, disable, enable), API keys
(create: the secret shown once; revoke), integrators (add and rotate the token: shown once)
and the imports' category rules (add or replace, delete).

Every form carries the CSRF token and writes nothing without it or without the admin role. A
secret (a password typed, a key, a token) is never logged, never put in a URL and shown only in
the one answer that created it (``Cache-Control: no-store``); other changes answer with a
redirect to the page (so a reload posts nothing).
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from zhangben.access import integrators as apps
from zhangben.access.apikeys import SCOPES
from zhangben.console.pages import ConsoleRoute, Refused, _console, render, viewer_of
from zhangben.console.session import PATH, ROLE_LABELS, STALE_FORM, Viewer, same
from zhangben.core import roles
from zhangben.core.errors import LedgerError, NotFound
from zhangben.imports.rows import PLATFORMS
from zhangben.imports.service import Imports

router = APIRouter(prefix=PATH, include_in_schema=False, route_class=ConsoleRoute)

MISSING = "所选的用户、密钥、集成方、规则或分类不存在；未作任何修改。"
DIRECTIONS = {"any": "任意", "income": "收入", "expense": "支出"}
DONE = {
    "user-add": "已添加用户。",
    "user-role": "已修改角色；该用户需重新登录。",
    "user-disable": "已停用该用户，其登录会话已结束。",
    "user-enable": "已启用该用户。",
    "key-revoke": "已撤销该 API 密钥。",
    "rule-add": "已保存分类规则。",
    "rule-delete": "已删除分类规则。",
}
#: the stored roles an admin may give, with their labels
ROLE_CHOICES = {
    **{r: ROLE_LABELS[r] for r in roles.RANKS},
    "user": "商户（仅本人账户）",
    "staff": "管理员（旧称 staff）",
}


def _admin(request: Request) -> Viewer:
    viewer = viewer_of(request)
    if not viewer.can("admin"):
        raise Refused(viewer, "设置页面需要管理员权限。")
    return viewer


def render_settings(
    request: Request,
    viewer: Viewer,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    secret: tuple[str, str] | None = None,
) -> HTMLResponse:
    console = _console(request)
    owned: dict[int, list[str]] = defaultdict(list)
    for a in console.ledger.accounts(owned=True):  # only the accounts a user owns
        owned[a.owner_user_id].append(a.number)
    rules, names = console.imports.rules()
    if notice is None:
        notice = DONE.get(request.query_params.get("done") or "")
    response = render(
        request,
        "settings.html",
        status,
        viewer=viewer,
        nav="settings",
        users=console.ledger.users(),
        owned=owned,
        role_choices=ROLE_CHOICES,
        keys=console.access.api_keys(),
        integrators=console.access.integrators(),
        scopes=SCOPES,
        rules=rules,
        names=names,
        chart=console.ledger.chart(),
        platforms=PLATFORMS,
        directions=DIRECTIONS,
        error=error,
        notice=notice,
        secret=secret,
    )
    if secret is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/settings")
def settings_page(request: Request) -> HTMLResponse:
    return render_settings(request, _admin(request))


@router.post("/settings/{action}")
async def settings_action(request: Request, action: str):
    form = await request.form()
    return await run_in_threadpool(_settings_action, request, action, dict(form))


def _text(form: dict, name: str, limit: int = 128) -> str:
    return str(form.get(name) or "").strip()[:limit]


def _int(form: dict, name: str) -> int | None:
    value = _text(form, name, 12)
    return int(value) if value.isdigit() else None


def _settings_action(request: Request, action: str, form: dict):
    viewer = _admin(request)
    if action not in ACTIONS:
        raise Refused(viewer, "页面不存在。", 404)
    if not same(form.get("csrf"), viewer.csrf):
        return render_settings(request, viewer, 403, error=STALE_FORM)
    try:
        shown = ACTIONS[action](request, viewer, form)
    except Invalid as exc:
        return render_settings(request, viewer, 400, error=f"{exc}；未作任何修改。")
    except NotFound:
        return render_settings(request, viewer, 404, error=MISSING)
    except LedgerError as exc:
        # the core's words (a duplicate name, a short password, …): never a secret
        return render_settings(request, viewer, 409, error=f"未能保存：{exc}；未作任何修改。")
    if shown is not None:
        return render_settings(request, viewer, notice=shown[0], secret=shown[1:])
    return RedirectResponse(f"{PATH}/settings?{urlencode({'done': action})}", status_code=303)


class Invalid(Exception):
    """A form value the console refuses before asking the core (a Chinese message)."""


def _role(form: dict) -> str:
    role = _text(form, "role", 16)
    if role not in ROLE_CHOICES and role not in roles.STORED:
        raise Invalid(f"未知的角色「{role}」")
    return role


def _username(form: dict) -> str:
    username = _text(form, "username", 64)
    if not username:
        raise Invalid("请填写用户名")
    return username


def _user_add(request: Request, viewer: Viewer, form: dict):
    password = str(form.get("password") or "")
    if len(password) < 8:
        raise Invalid("密码至少 8 个字符")
    _console(request).access.add_user(
        username=_username(form),
        display_name=_text(form, "display_name", 64),
        role=_role(form),
        password=password[:1024],
    )


def _user_role(request: Request, viewer: Viewer, form: dict):
    username, role = _username(form), _role(form)
    if username == viewer.user.username and not roles.holds(role, "admin"):
        raise Invalid("不能降低自己的角色（以免没有管理员）")
    _console(request).access.set_role(username, role)


def _user_enabled(enabled: bool):
    def work(request: Request, viewer: Viewer, form: dict):
        username = _username(form)
        if username == viewer.user.username and not enabled:
            raise Invalid("不能停用自己")
        _console(request).access.set_user_enabled(username, enabled)

    return work


def _key_add(request: Request, viewer: Viewer, form: dict):
    flag = _text(form, "integrator", 64)
    if not flag:
        raise Invalid("请选择集成方")
    scopes = [s for s in SCOPES if form.get(f"scope_{s}") == "1"]
    if not scopes:
        raise Invalid("请至少选择一项权限")
    _app, key, secret = _console(request).access.add_api_key(
        integrator=flag, scopes=scopes, name=_text(form, "name", 64)
    )
    return (f"已创建 API 密钥 {key.prefix}。", "API 密钥", secret)


def _key_revoke(request: Request, viewer: Viewer, form: dict):
    key_id = _int(form, "key_id")
    if key_id is None:
        raise Invalid("请选择要撤销的密钥")
    _console(request).access.revoke_api_key(key_id)


def _cipher(request: Request):
    settings = _console(request).settings
    return apps.fernet_for(settings.secret_key, settings.database_url)


def _app_add(request: Request, viewer: Viewer, form: dict):
    name = _text(form, "name", 64)
    if not name:
        raise Invalid("请填写集成方名称")
    app, token = _console(request).access.add_integrator(name=name, cipher=_cipher(request))
    return (f"已添加集成方 {app.name}（flag {app.flag}）。", "集成方令牌", token)


def _app_rotate(request: Request, viewer: Viewer, form: dict):
    flag = _text(form, "flag", 64)
    if not flag:
        raise Invalid("请选择集成方")
    token = _console(request).access.rotate_token(flag, _cipher(request))
    return (f"已更换集成方 {flag} 的令牌，旧令牌立即失效。", "集成方新令牌", token)


def _rule_key(form: dict) -> tuple[str, str, str]:
    platform, direction = _text(form, "platform", 32), _text(form, "direction", 16) or "any"
    business_type = _text(form, "business_type", 64)
    if platform not in PLATFORMS:
        raise Invalid(f"未知的平台「{platform}」")
    if direction not in DIRECTIONS:
        raise Invalid(f"未知的方向「{direction}」")
    if not business_type:
        raise Invalid("请填写业务类型")
    return platform, business_type, direction


def _rule_add(request: Request, viewer: Viewer, form: dict):
    platform, business_type, direction = _rule_key(form)
    category, subject = _int(form, "category_id"), _int(form, "subject_id")
    if category is None and subject is None:
        raise Invalid("请选择分类或科目")
    Imports(_console(request).ledger).set_rule(
        platform, business_type, category_id=category, subject_id=subject, direction=direction
    )


def _rule_delete(request: Request, viewer: Viewer, form: dict):
    platform, business_type, direction = _rule_key(form)
    if not Imports(_console(request).ledger).delete_rule(platform, business_type, direction):
        raise NotFound("no such rule")


ACTIONS = {
    "user-add": _user_add,
    "user-role": _user_role,
    "user-disable": _user_enabled(False),
    "user-enable": _user_enabled(True),
    "key-add": _key_add,
    "key-revoke": _key_revoke,
    "app-add": _app_add,
    "app-rotate": _app_rotate,
    "rule-add": _rule_add,
    "rule-delete": _rule_delete,
}
