"""The console's 对账 screens (docs/reconciliation.md): the exception queues with their
counts, totals and ageing (等待中 apart), each queue's rows and its XLSX; an order's
workspace (expected lines beside bill rows, a live Σ in app.js, the match form); the match
history with undo, and the approval (复核) of a forced match above the approval amount.

Finance staff see them; matching needs a clerk, forcing, undo and approving a supervisor
(approving another person's forced match). A refused action is a Chinese message on the
page, which stays whole, and writes nothing.
"""

from __future__ import annotations

import base64
import re
import tempfile
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from zhangben.console.pages import ConsoleRoute, Refused, _console, render, viewer_of
from zhangben.console.session import PATH, STALE_FORM, Viewer, same
from zhangben.core.errors import (
    ActionFileError,
    InvalidAmount,
    LedgerError,
    NotFound,
    OverApplied,
    PeriodClosed,
    ReconState,
    SecondApproverNeeded,
    ValidationError,
)
from zhangben.core.money import parse_amount, to_minor
from zhangben.periods.workbook import MEDIA_TYPE
from zhangben.recon.actions import NAMES as ACTION_NAMES
from zhangben.recon.orders import KIND_LABELS
from zhangben.recon.queues import write_xlsx
from zhangben.recon.service import Recon

router = APIRouter(prefix=f"{PATH}/recon", include_in_schema=False, route_class=ConsoleRoute)

QUEUE_ROWS = 500  # rows a queue's page shows; the XLSX has them all
OUTCOMES = {
    "exact": "完全一致",
    "within_tolerance": "容差内",
    "with_difference": "有差异",
    "forced": "强制核销",
}
STATES = {
    "active": "有效",
    "undone": "已撤销",
    "suggested": "建议",
    "superseded": "已替代",
    "pending": "待复核",
    "rejected": "已驳回",
}
SUBJECTS = {"expected": "应收/应付", "bill_row": "账单行", "group": "对账组", "import": "导入批次"}
ACTION_STATES = {"apply": "将执行", "applied": "已执行", "done": "此前已处理", "error": "错误"}
ITEM_STATES = {"open": "未核销", "void": "已作废", "ignored": "已忽略"}


#: an expected line's kind as the order file names it (销售, 退款, …), for Chinese labels first
KIND_NAMES = {kind: label for label, kind in KIND_LABELS.items()}


def yuan(minor: int | None) -> Decimal:
    """The facade's amounts are in 1/10000 yuan."""
    return Decimal(minor or 0) / 10_000


def _recon(request: Request) -> Recon:
    console = _console(request)
    above = to_minor(console.settings.recon_force_approval_above)
    return Recon(console.ledger, force_approval_above=above)


def _staff(viewer: Viewer) -> None:
    if not viewer.user.is_staff:
        raise Refused(viewer, "对账页面仅供财务人员查看。")


def _page(request: Request, template: str, viewer: Viewer, status: int = 200, **context):
    return render(
        request,
        template,
        status,
        viewer=viewer,
        nav="recon",
        yuan=yuan,
        kinds=KIND_NAMES,
        outcomes=OUTCOMES,
        states=STATES,
        **context,
    )


@router.get("")
def queues_page(request: Request) -> HTMLResponse:
    viewer = viewer_of(request)
    _staff(viewer)
    queues = _recon(request).queues()
    return _page(request, "recon.html", viewer, queues=queues)


@router.get("/queues/{name}.xlsx")
def queue_xlsx(request: Request, name: str) -> Response:
    viewer = viewer_of(request)
    _staff(viewer)
    console = _console(request)
    queue = _queue(viewer, _recon(request), name, None)
    with tempfile.TemporaryDirectory() as tmp:
        data = write_xlsx(queue, Path(tmp) / "queue.xlsx", console.ledger.tz).read_bytes()
    filename = f"对账-{queue.label}.xlsx"
    return Response(
        data,
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": (
                f'attachment; filename="recon-{queue.code}.xlsx"; '
                f"filename*=UTF-8''{quote(filename)}"
            ),
            "Cache-Control": "no-store",
        },
    )


def _queue(viewer: Viewer, recon: Recon, name: str, limit: int | None):
    try:
        return recon.queue(name, limit=limit)
    except NotFound:
        raise Refused(viewer, f"没有名为「{name[:40]}」的对账队列。", 404) from None


@router.get("/queues/{name}")
def queue_page(request: Request, name: str) -> HTMLResponse:
    return render_queue(request, viewer_of(request), name)


def render_queue(request: Request, viewer: Viewer, name: str, status: int = 200, **context):
    _staff(viewer)
    queue = _queue(viewer, _recon(request), name, QUEUE_ROWS)
    return _page(
        request, "recon_queue.html", viewer, status, queue=queue, subjects=SUBJECTS,
        action_names=ACTION_NAMES, action_states=ACTION_STATES, **context,
    )  # fmt: skip


# -- the Excel round trip: upload → the dry run's table → apply --------------------------------


@router.post("/queues/{name}/actions")
async def actions_action(request: Request, name: str):
    """An uploaded workbook is dry-run and shown row by row; the apply form carries the same
    bytes back (base64, CSRF-protected), so what is applied is exactly what was reviewed."""
    raw = await request.form()
    try:
        upload = raw.get("file")
        data = None
        if upload is not None and not isinstance(upload, str) and upload.filename:
            data = await upload.read()
        elif raw.get("data"):
            try:
                data = base64.b64decode(str(raw.get("data")), validate=True)
            except ValueError:
                data = b""
        form = {"csrf": str(raw.get("csrf") or ""), "apply": raw.get("apply") == "1"}
    finally:
        await raw.close()
    return await run_in_threadpool(_actions, request, name, form, data)


def _actions(request: Request, name: str, form: dict, data: bytes | None):
    viewer = viewer_of(request)

    def again(status: int, error: str | None = None, **context) -> HTMLResponse:
        return render_queue(request, viewer, name, status, error=error, **context)

    _staff(viewer)
    if not same(form["csrf"], viewer.csrf):
        return again(403, STALE_FORM)
    if not data:
        return again(400, "请选择填好「动作」列的 XLSX 文件。")
    recon = _recon(request)
    actor = f"user:{viewer.user.username}"
    if not form["apply"]:
        try:
            report = recon.apply_actions(data, actor=actor, dry_run=True)
        except ActionFileError as exc:
            return again(422, f"无法读取该文件，未作任何修改：{exc}")
        return again(200, report=report, data=base64.b64encode(data).decode())
    if not viewer.can("clerk"):
        return again(403, "按文件执行动作需要出纳权限，未作任何修改。")
    try:
        report = recon.apply_actions(data, actor=actor)
    except ActionFileError as exc:
        lines = "；".join(f"{w}：{m}" for w, m in exc.problems[:20])
        return again(422, f"文件中有错误的行，整份文件未执行，未作任何修改：{lines}")
    notice = f"已执行 {report.count('applied')} 行，{report.count('done')} 行此前已处理。"
    return again(200, report=report, notice=notice)


# -- an order's workspace ----------------------------------------------------------------------


def render_order(
    request: Request,
    viewer: Viewer,
    shop: str,
    key: str,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    form: dict | None = None,
) -> HTMLResponse:
    _staff(viewer)
    recon = _recon(request)
    expected, actual = recon.order(shop, key)
    if not expected and not actual:
        raise Refused(viewer, f"店铺「{shop[:32]}」没有订单「{key[:64]}」的对账项。", 404)
    form = form or {}
    return _page(
        request,
        "recon_order.html",
        viewer,
        status,
        shop=shop,
        key=key,
        expected=expected,
        actual=actual,
        gap_types=recon.gap_types(),
        item_states=ITEM_STATES,
        chosen={("expected", int(i)) for i in form.get("e", []) if str(i).isdigit()}
        | {("actual", int(i)) for i in form.get("a", []) if str(i).isdigit()},
        form=form,
        error=error,
        notice=notice,
    )


@router.get("/orders/{shop}/{key}")
def order_page(request: Request, shop: str, key: str) -> HTMLResponse:
    viewer = viewer_of(request)
    done, held = request.query_params.get("matched"), request.query_params.get("pending")
    notice = f"已核销，对账组 {done[:32]}。" if done else None
    if held:
        notice = f"强制核销金额超过复核限额：对账组 {held[:32]} 待另一位主管复核，所选行已锁定。"
    return render_order(request, viewer, shop, key, notice=notice)


@router.post("/orders/{shop}/{key}/match")
async def match_action(request: Request, shop: str, key: str):
    raw = await request.form()
    form = {
        "csrf": str(raw.get("csrf") or ""),
        "e": [str(v) for v in raw.getlist("e")],
        "a": [str(v) for v in raw.getlist("a")],
        # a part of a ticked line's open amount (yuan, a magnitude); empty: all of it
        "parts": {
            name: str(value).strip()[:32]
            for name, value in raw.items()
            if re.fullmatch(r"p[ea]_\d{1,18}", name) and str(value).strip()
        },
        "gap_type": str(raw.get("gap_type") or "").strip()[:32],
        "force": raw.get("force") == "1",
        "memo": str(raw.get("memo") or "").strip()[:500],
    }
    return await run_in_threadpool(_match, request, shop, key, form)


def _ids(values: list[str]) -> list[int] | None:
    if not all(v.isdigit() and len(v) < 19 for v in values):
        return None
    return [int(v) for v in values]


def _with_parts(side: str, ids: list[int], parts: dict[str, str]) -> list[tuple[int, int | None]]:
    """Each ticked id with its part (minor units) or None (its whole open amount); a part
    that is not an amount raises :class:`~zhangben.core.errors.InvalidAmount`."""
    out = []
    for i in ids:
        text = parts.get(f"p{side}_{i}")
        part = None if not text else to_minor(parse_amount(text, field=f"p{side}_{i}"))
        out.append((i, part))
    return out


def _match(request: Request, shop: str, key: str, form: dict):
    viewer = viewer_of(request)

    def again(status: int, error: str) -> HTMLResponse:
        return render_order(request, viewer, shop, key, status, error=error, form=form)

    _staff(viewer)
    if not same(form["csrf"], viewer.csrf):
        return again(403, STALE_FORM)
    if not viewer.can("clerk"):
        return again(403, "核销需要出纳权限，未作任何修改。")
    if form["force"] and not viewer.can("supervisor"):
        return again(403, "强制核销需要主管权限，未作任何修改。")
    ids_e, ids_a = _ids(form["e"]), _ids(form["a"])
    if ids_e is None or ids_a is None:
        return again(400, "所选的对账项无效，未作任何修改。")
    if not ids_e and not ids_a:
        return again(400, "请至少勾选一行应收/应付或账单行。")
    try:
        expected = _with_parts("e", ids_e, form["parts"])
        actual = _with_parts("a", ids_a, form["parts"])
    except InvalidAmount as exc:
        line = "应收/应付" if exc.field.startswith("pe") else "账单行"
        return again(
            400, f"{line} {exc.field[3:]} 的核销金额「{form['parts'][exc.field]}」无效"
            "（须为正数，最多 4 位小数）；未作任何修改。",
        )  # fmt: skip
    if form["force"] and len(form["memo"]) < 4:
        return again(400, "强制核销必须填写说明（至少 4 个字）；未作任何修改。")
    actor = f"user:{viewer.user.username}"
    try:
        group = _recon(request).match(
            expected,
            actual,
            actor=actor,
            gap_type=form["gap_type"] or None,
            force=form["force"],
            memo=form["memo"] or None,
        )
    except ValidationError as exc:
        return again(400, _match_error(exc))
    except NotFound:
        return again(404, "所选的对账项不存在，未作任何修改。")
    except OverApplied as exc:
        return again(409, f"核销金额超过未核销金额（{exc}）；未作任何修改。")
    except ReconState as exc:
        return again(409, f"所选的对账项已核销或状态不允许核销（{exc}）；未作任何修改。")
    except LedgerError as exc:
        return again(409, f"未能核销：{exc}")
    target = f"{PATH}/recon/orders/{quote(shop, safe='')}/{quote(key, safe='')}"
    done = "pending" if group.state == "pending" else "matched"
    return RedirectResponse(f"{target}?{done}={quote(group.group_no)}", status_code=303)


def _match_error(exc: ValidationError) -> str:
    if exc.field == "gap_type" and "unknown" in exc.reason:
        return "差异类型无效，请从列表中选择；未作任何修改。"
    if exc.field == "gap_type":
        return "合计有差异，必须选择差异类型（或由主管强制核销）；未作任何修改。"
    if exc.field == "memo":
        return "强制核销必须填写说明（至少 4 个字）；未作任何修改。"
    return f"输入无效（{exc}）；未作任何修改。"


# -- the match history -----------------------------------------------------------------------


def render_groups(
    request: Request,
    viewer: Viewer,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    _staff(viewer)
    groups = _recon(request).groups(limit=200)
    shown = [g for g in groups if g.state in ("active", "undone", "pending", "rejected")]
    return _page(
        request, "recon_groups.html", viewer, status, groups=shown, error=error, notice=notice
    )


NOTICES = {"undone": "已撤销对账组 {}。", "approved": "已复核通过对账组 {}。",
           "rejected": "已驳回对账组 {}，所选行已释放。"}  # fmt: skip


@router.get("/groups")
def groups_page(request: Request) -> HTMLResponse:
    viewer = viewer_of(request)
    notice = next(
        (text.format(request.query_params[k][:32]) for k, text in NOTICES.items()
         if request.query_params.get(k)),
        None,
    )  # fmt: skip
    return render_groups(request, viewer, notice=notice)


@router.post("/groups/{group_id}/approve")
async def approve_action(request: Request, group_id: int):
    raw = await request.form()
    form = {k: str(raw.get(k) or "") for k in ("csrf", "reason")}
    return await run_in_threadpool(_decide, request, group_id, form, "approved")


@router.post("/groups/{group_id}/reject")
async def reject_action(request: Request, group_id: int):
    raw = await request.form()
    form = {k: str(raw.get(k) or "") for k in ("csrf", "reason")}
    return await run_in_threadpool(_decide, request, group_id, form, "rejected")


def _decide(request: Request, group_id: int, form: dict, verdict: str):
    """Approve or reject a pending forced match: a supervisor other than the one who forced
    it; a rejection needs a reason."""
    viewer = viewer_of(request)
    _staff(viewer)
    if not same(form["csrf"], viewer.csrf):
        return render_groups(request, viewer, 403, error=STALE_FORM)
    if not viewer.can("supervisor"):
        return render_groups(request, viewer, 403, error="复核需要主管权限，未作任何修改。")
    reason = form["reason"].strip()[:500]
    if verdict == "rejected" and not reason:
        return render_groups(request, viewer, 400, error="驳回必须填写原因；未作任何修改。")
    recon, actor = _recon(request), f"user:{viewer.user.username}"
    try:
        if verdict == "approved":
            group = recon.approve(group_id, actor=actor, memo=reason or None)
        else:
            group = recon.reject(group_id, reason=reason, actor=actor)
    except SecondApproverNeeded:
        message = "强制核销须由另一位主管复核，发起人不能复核自己的核销；未作任何修改。"
        return render_groups(request, viewer, 403, error=message)
    except NotFound:
        return render_groups(request, viewer, 404, error="对账组不存在，未作任何修改。")
    except ReconState:
        return render_groups(request, viewer, 409, error="该对账组不在待复核状态，未作任何修改。")
    except LedgerError as exc:
        return render_groups(request, viewer, 409, error=f"未能复核：{exc}")
    target = f"{PATH}/recon/groups?{verdict}={quote(group.group_no)}"
    return RedirectResponse(target, status_code=303)


@router.post("/groups/{group_id}/undo")
async def undo_action(request: Request, group_id: int):
    raw = await request.form()
    form = {k: str(raw.get(k) or "") for k in ("csrf", "reason")}
    return await run_in_threadpool(_undo, request, group_id, form)


def _undo(request: Request, group_id: int, form: dict):
    viewer = viewer_of(request)
    _staff(viewer)
    if not same(form["csrf"], viewer.csrf):
        return render_groups(request, viewer, 403, error=STALE_FORM)
    if not viewer.can("supervisor"):
        return render_groups(request, viewer, 403, error="撤销核销需要主管权限，未作任何修改。")
    reason = form["reason"].strip()[:500]
    if not reason:
        return render_groups(request, viewer, 400, error="撤销核销必须填写原因；未作任何修改。")
    try:
        group = _recon(request).undo(group_id, reason=reason, actor=f"user:{viewer.user.username}")
    except PeriodClosed as exc:
        where = f"店铺 {exc.shop} 的" if exc.shop else "账本的"
        message = (
            f"该对账组的单据所在{where}账期 {exc.period} 已结账，不能撤销；"
            "请先反结账。未作任何修改。"
        )
        return render_groups(request, viewer, 409, error=message)
    except NotFound:
        return render_groups(request, viewer, 404, error="对账组不存在，未作任何修改。")
    except ReconState:
        return render_groups(request, viewer, 409, error="该对账组已撤销，未作任何修改。")
    except LedgerError as exc:
        return render_groups(request, viewer, 409, error=f"未能撤销：{exc}")
    return RedirectResponse(f"{PATH}/recon/groups?undone={quote(group.group_no)}", status_code=303)
