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
    if name:
        try:
            book = service.book(name)
        except NotFound:
            errors.append(no_book(name))
    if book is not None:
        rules = json.dumps(service.rules(book.name), ensure_ascii=False, indent=1)
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
    verb = {"generate": "生成凭证", "export": "导出凭证"}.get(action)
    if verb is None:
        raise Refused(viewer, "页面不存在。", 404)
    if not same(form.get("csrf"), viewer.csrf):
        return render_vouchers(request, viewer, params, 403, error=STALE_FORM)
    if not viewer.can("supervisor"):
        return render_vouchers(
            request, viewer, params, 403, error=f"{verb}需要主管权限，未作任何修改。"
        )
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
