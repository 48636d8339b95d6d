"""The console's 凭证 screen: a book's batch history with Σ借/Σ贷 and the exported files, a
month's preview (nothing written) with the unmapped flows, generating the draft and exporting
it (supervisors only, with CSRF), and the book's rules with a "test this flow" form.

Everything goes through the :class:`Vouchers` facade. A bad book, month or entry is a Chinese
message on the page, which stays whole; a refused generate or export writes nothing.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from zhangben.console.finance import bad_month
from zhangben.console.pages import ConsoleRoute, Refused, _console, render, viewer_of
from zhangben.console.session import PATH, STALE_FORM, Viewer, same
from zhangben.core.errors import LedgerError, NotFound, ValidationError
from zhangben.core.periods import Month
from zhangben.vouchers.generate import LEDGER_DECIMALS, UNMAPPED
from zhangben.vouchers.rules import rules_sha256
from zhangben.vouchers.service import Vouchers

router = APIRouter(prefix=PATH, include_in_schema=False, route_class=ConsoleRoute)

#: how many batches the history shows (newest first; each is read for its sums)
HISTORY = 30
STATE_LABELS = {"draft": "草稿", "exported": "已导出", "void": "已作废"}


def amount(minor: int, decimals: int) -> str:
    """Minor units of the book as ``1,234.50``."""
    return f"{Decimal(minor).scaleb(-decimals):,.{decimals}f}"


def no_book(name: str) -> str:
    return f"账套「{name}」不存在。"


def _staff(viewer: Viewer) -> None:
    if not viewer.user.is_staff:
        raise Refused(viewer, "凭证页面仅供财务人员查看。")


def _history(service: Vouchers, book: str | None, decimals: dict[str, int]) -> list[dict]:
    rows = []
    for b in reversed(service.batches(book)[-HISTORY:]):
        debit, credit = _totals(service.batch(b.id)[1])
        rows.append({"batch": b, "debit": debit, "credit": credit, "decimals": decimals[b.book]})
    return rows


def render_vouchers(
    request: Request,
    viewer: Viewer,
    params,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    rule_form: dict | None = None,
) -> HTMLResponse:
    _staff(viewer)
    service = Vouchers(_console(request).ledger)
    books = service.books()
    decimals = {b.name: b.decimals for b in books}
    name = (params.get("book") or "").strip()[:64] or (books[0].name if books else "")
    month = (params.get("month") or "").strip()[:20]
    entry = (params.get("entry") or "").strip()[:20]
    errors: list[str] = []
    book = preview = rules = test = None
    rule_items: list[tuple[int, str, str]] = []
    params_sha = ""
    if name:
        try:
            book = service.book(name)
        except NotFound:
            errors.append(no_book(name))
    if book is not None:
        stored = service.rules(book.name)
        rules = json.dumps(stored, ensure_ascii=False, indent=1)
        rule_items = [(i, str(d.get("name") or ""), _rule_text(d)) for i, d in enumerate(stored)]
        params_sha = rules_sha256(stored)
        if month:
            try:
                month = str(Month.parse(month))
            except ValidationError:
                errors.append(bad_month(month))
            else:
                preview = service.preview(book.name, month)
        if entry:
            try:
                test = service.test_flow(book.name, int(entry))
            except ValueError:
                errors.append(f"流水编号「{entry}」无效，请填写数字。")
            except NotFound:
                errors.append(f"流水 {entry} 不存在，或不在账套「{book.name}」的账户中。")
    if errors and status == 200:
        status = 400
    done = params.get("done") or ""
    if notice is None and done.isdigit():
        notice = f"已生成凭证批次 {done}（草稿）。"
    if notice is None and done == "rules":
        notice = "规则已保存。"
    added = done.removeprefix("defaults-")
    if notice is None and added != done and added.isdigit():
        n = int(added)
        notice = (f"已补充 {n} 条默认规则，排在原有规则之后。" if n
                  else "默认规则都已在账套中，未作任何修改。")  # fmt: skip
    return render(
        request,
        "vouchers.html",
        status,
        viewer=viewer,
        nav="vouchers",
        books=books,
        book=book,
        name=name,
        month=month,
        entry=entry,
        preview=preview,
        rules=rules,
        rule_items=rule_items,
        rules_sha=params_sha,
        rule_form=rule_form or {},
        test=test,
        history=_history(service, book.name if book else None, decimals),
        errors=errors,
        error=error,
        notice=notice,
        amount=amount,
        state_labels=STATE_LABELS,
        decimals=book.decimals if book else 2,
        preview_totals=_totals(preview.vouchers if preview else []),
        unmapped=_unmapped(preview, book.decimals if book else 2),
        problems=[p for p in preview.problems if not p.startswith(UNMAPPED)] if preview else [],
    )


def _unmapped(preview, decimals: int) -> list[tuple[str, int, str]]:
    """Each unmapped (platform/type) once: its count and total (the book's decimals)."""
    if preview is None:
        return []
    unit = Decimal(1).scaleb(-decimals)

    def total(kind: str) -> str:
        value = Decimal(preview.unmapped_totals.get(kind, 0)).scaleb(-LEDGER_DECIMALS)
        return f"{value.quantize(unit, ROUND_HALF_UP):,}"

    return [(kind, n, total(kind)) for kind, n in sorted(preview.unmapped.items())]


def _rule_text(rule: dict) -> str:
    return json.dumps(rule, ensure_ascii=False, indent=1)


RULE_ACTIONS = {"add": "添加", "edit": "保存", "delete": "删除", "up": "上移", "down": "下移",
                "defaults": "补充默认规则"}  # fmt: skip


def _rules_action(request: Request, viewer: Viewer, form: dict):
    """A supervisor's change to a book's rules: ``add`` (at ``index``, or the end), ``edit``,
    ``delete``, ``up`` or ``down`` the rule at ``index``. The whole list then goes through
    ``Vouchers.set_rules``, the check the CLI and REST use: a bad rule is an inline error and
    nothing is written. ``sha`` is the list the form was made from: if it changed meanwhile,
    the change is refused rather than applied at a moved index."""
    params = {k: str(form.get(k) or "") for k in ("book", "month")}
    op = str(form.get("op") or "")
    text = str(form.get("rule") or "")
    index_text = str(form.get("index") or "").strip()
    position = str(form.get("position") or "").strip()  # add: 1-based, as the list shows
    if op == "add" and position:
        index_text = str(int(position) - 1) if position.isdigit() else position
    kept = {"op": op, "index": index_text, "rule": text}

    def refuse(status: int, message: str):
        return render_vouchers(request, viewer, params, status, error=message, rule_form=kept)

    if op not in RULE_ACTIONS:
        return refuse(400, "未知的规则操作，未作任何修改。")
    service = Vouchers(_console(request).ledger)
    name = params["book"].strip()
    try:
        rules = service.rules(name)
    except NotFound:
        return refuse(404, no_book(name))
    if str(form.get("sha") or "") != rules_sha256(rules):
        return refuse(409, "规则已被他人修改：请查看最新的规则后再操作，未作任何修改。")
    if op == "defaults":  # after the book's own rules (Vouchers.add_default_rules)
        added = service.add_default_rules(name)
        target = urlencode(
            {"book": name, "month": params["month"], "done": f"defaults-{len(added)}"}
        )
        return RedirectResponse(f"{PATH}/vouchers?{target}#mapping", status_code=303)
    try:
        index = int(index_text) if index_text else len(rules)
    except ValueError:
        return refuse(400, f"规则序号「{index_text[:20]}」无效，未作任何修改。")
    if not 0 <= index < len(rules) + (op == "add"):
        return refuse(400, f"规则序号 {index} 不存在，未作任何修改。")
    if op in ("add", "edit"):
        try:
            rule = json.loads(text)
        except ValueError as exc:
            return refuse(400, f"规则不是有效的 JSON（{exc}），未作任何修改。")
        if op == "add":
            rules.insert(index, rule)
        else:
            rules[index] = rule
    elif op == "delete":
        del rules[index]
    else:
        other = index - 1 if op == "up" else index + 1
        if not 0 <= other < len(rules):
            return refuse(
                400, f"规则 {index + 1} 已在{'最前' if op == 'up' else '最后'}，未作任何修改。"
            )
        rules[index], rules[other] = rules[other], rules[index]
    try:
        service.set_rules(name, rules)
    except LedgerError as exc:
        return refuse(400, f"规则未保存：{exc}")
    target = urlencode({"book": name, "month": params["month"], "done": "rules"})
    return RedirectResponse(f"{PATH}/vouchers?{target}#mapping", status_code=303)


def _totals(found) -> tuple[int, int]:
    return sum(v.debit_total for v in found), sum(v.credit_total for v in found)


@router.get("/vouchers")
def vouchers_page(request: Request) -> HTMLResponse:
    return render_vouchers(request, viewer_of(request), request.query_params)


def _attachment(file) -> Response:
    fallback = "vouchers" + file.filename[file.filename.rfind(".") :]
    return Response(
        file.content,
        media_type=file.media_type,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file.filename)}"
            ),
            "Cache-Control": "no-store",
        },
    )


@router.get("/vouchers/batches/{batch_id}/file")
def batch_file(request: Request, batch_id: int) -> Response:
    """The file of an exported batch (downloading it again changes nothing)."""
    viewer = viewer_of(request)
    _staff(viewer)
    service = Vouchers(_console(request).ledger)
    try:
        batch, _ = service.batch(batch_id)
    except NotFound:
        raise Refused(viewer, f"凭证批次 {batch_id} 不存在。", 404) from None
    if batch.state != "exported":
        state = STATE_LABELS.get(batch.state, batch.state)
        raise Refused(viewer, f"凭证批次 {batch_id} {state}，只有已导出的批次可以下载。", 409)
    return _attachment(service.export(batch_id))


@router.post("/vouchers/{action}")
async def voucher_action(request: Request, action: str):
    form = await request.form()
    return await run_in_threadpool(_voucher_action, request, action, dict(form))


def _voucher_action(request: Request, action: str, form: dict):
    """``generate`` a book's month as a draft, or ``export`` a draft batch (its file)."""
    viewer = viewer_of(request)
    _staff(viewer)
    params = {k: str(form.get(k) or "") for k in ("book", "month")}
    verb = {"generate": "生成凭证", "export": "导出凭证", "rules": "修改规则"}.get(action)
    if verb is None:
        raise Refused(viewer, "页面不存在。", 404)
    if not same(form.get("csrf"), viewer.csrf):
        return render_vouchers(request, viewer, params, 403, error=STALE_FORM)
    if not viewer.can("supervisor"):
        return render_vouchers(
            request, viewer, params, 403, error=f"{verb}需要主管权限，未作任何修改。"
        )
    if action == "rules":
        return _rules_action(request, viewer, form)
    service = Vouchers(_console(request).ledger)
    name, month = params["book"].strip(), params["month"].strip()
    try:
        if action == "export":
            return _attachment(service.export(int(str(form.get("batch") or ""))))
        made = service.generate(name, month, actor=f"user:{viewer.user.username}")
    except ValueError:
        return render_vouchers(request, viewer, params, 400, error="凭证批次编号无效。")
    except ValidationError:
        return render_vouchers(request, viewer, params, 400, error=bad_month(month))
    except NotFound as exc:
        message = no_book(name) if action == "generate" else f"凭证批次不存在：{exc}"
        return render_vouchers(request, viewer, params, 404, error=message)
    except LedgerError as exc:
        return render_vouchers(request, viewer, params, 409, error=f"未能{verb}：{exc}")
    target = urlencode({"book": name, "month": month, "done": made.batch.id})
    return RedirectResponse(f"{PATH}/vouchers?{target}", status_code=303)
