"""Reconciliation (核销): ``zhangben recon import|run|queues|queue|apply|match|approve|reject|
undo|void|ignore|key|groups|events`` (docs/reconciliation.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from zhangben.cli.common import (
    Operator,
    console,
    fail,
    friendly,
    ledger,
    local,
    money,
    settings,
)
from zhangben.cli.common import actor as _actor
from zhangben.core.errors import ActionFileError
from zhangben.core.money import from_minor, parse_amount, to_minor
from zhangben.recon.actions import NAMES
from zhangben.recon.queues import Queue, write_xlsx
from zhangben.recon.service import ActionResult, Group, Recon

recon_app = typer.Typer(
    help="Reconciliation (核销): orders' expected money against the bills, queues, undo.",
    no_args_is_help=True,
)

Reason = Annotated[str | None, typer.Option(help="why (required)")]


def _recon() -> Recon:
    above = to_minor(settings().recon_force_approval_above)
    return Recon(ledger(), force_approval_above=above)


def _m(minor: int) -> str:
    return money(from_minor(minor))


def _item(text: str, field: str) -> tuple[int, int | None]:
    """``ID`` (the whole open amount) or ``ID:AMOUNT`` (yuan, signed as the item)."""
    head, _, amount = text.partition(":")
    if not head.strip().isdigit():
        raise ValueError(f"{field}: {text!r} is not ID or ID:AMOUNT")
    part = None
    if amount:
        part = to_minor(parse_amount(amount, field=field, allow_zero=False))
    return int(head), part


def _group_id(text: str) -> int:
    """A group's id, or its number (``HX20240305-12``)."""
    tail = text.rsplit("-", 1)[-1].strip()
    if not tail.isdigit():
        raise ValueError(f"group: {text!r} is not a group id or number like HX20240305-12")
    return int(tail)


@friendly
def import_command(
    file: Annotated[Path, typer.Argument(help="the order file (CSV or XLSX)")],
    shop: Annotated[str | None, typer.Option(help="the shop, when the file has no 店铺")] = None,
    platform: Annotated[
        str | None, typer.Option(help="the platform, when the file has no 平台 (default other)")
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="COLUMN=HEADER: read a column from your own header text"),
    ] = None,
    operator: Operator = None,
) -> None:
    """Import an order file: every line checked first; a bad one refuses the whole file."""
    mapping = {}
    for item in map_ or []:
        column, sep, header = item.partition("=")
        if not sep or not header.strip():
            raise ValueError(f"--map: {item!r} is not COLUMN=HEADER (e.g. 订单号=平台单号)")
        mapping[column.strip()] = header.strip()
    result = _recon().import_expected(
        file, shop=shop, platform=platform, mapping=mapping, actor=_actor(operator)
    )
    console.print(
        f"imported {file.name}: {result.lines} lines, {result.new} new, "
        f"{result.existing} already imported",
        highlight=False,
    )


@friendly
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="report what a run would do; write nothing")
    ] = False,
    operator: Operator = None,
) -> None:
    """Match every open expected line and bill row, key group by key group."""
    report = _recon().run(dry_run=dry_run, actor=_actor(operator))
    c = report.counts
    head = "dry run (nothing written)" if dry_run else f"run {report.run_id}"
    console.print(
        f"{head}: cut at bill row {report.cut_bill_row_id}, expected line "
        f"{report.cut_expected_id}; {c.get('keyed', 0)} bill rows keyed, "
        f"{c.get('groups', 0)} key groups",
        highlight=False,
    )
    for name in sorted(k for k in c if k.startswith(("auto_", "suggested_"))):
        if name != "auto_amount":
            console.print(f"  {name.replace('_', ' ', 1)}: {c[name]}", highlight=False)
    console.print(f"report sha256 {report.sha256}", highlight=False)


def _ageing_table(queues: list[Queue]) -> Table:
    table = Table()
    for col in ("queue", "code", "count", "total", "0-3", "4-7", "8-15", "16-30", ">30"):
        table.add_column(col, justify="left" if col in ("queue", "code") else "right")
    for q in queues:
        label = q.label if q.counted else f"{q.label} (not counted)"
        table.add_row(label, q.code, str(q.count), _m(q.total), *map(str, q.ageing.values()))
    return table


@friendly
def queues() -> None:
    """Every exception queue: count, total and ageing in days (等待中 shown apart)."""
    found = _recon().queues()
    console.print(_ageing_table(found))
    exceptions = sum(q.count for q in found if q.counted)
    console.print(f"{exceptions} exception(s)", highlight=False)


@friendly
def queue(
    name: Annotated[str, typer.Argument(help="the queue: 到账无订单 or paid_no_order, …")],
    xlsx: Annotated[Path | None, typer.Option(help="write the queue's rows to this XLSX")] = None,
    limit: Annotated[int, typer.Option(min=1, help="rows shown (the XLSX has all)")] = 50,
) -> None:
    """One queue's rows, oldest first; ``--xlsx`` exports them with a 动作 column."""
    service = _recon()
    q = service.queue(name, limit=None if xlsx else limit)
    console.print(f"{q.label} ({q.code}): {q.count} row(s), total {_m(q.total)}", highlight=False)
    table = Table()
    for col in ("subject", "id", "shop", "order", "amount", "since", "days", "note"):
        table.add_column(col, justify="right" if col in ("id", "amount", "days") else "left")
    for r in q.rows[:limit]:
        table.add_row(r.subject, str(r.id), r.shop, r.key or "", _m(r.amount), local(r.at),
                      str(r.age_days), r.text)  # fmt: skip
    console.print(table)
    if xlsx:
        write_xlsx(q, xlsx, settings().tz)
        console.print(f"wrote {xlsx} ({len(q.rows)} rows)", highlight=False)


STATUS = {"apply": "would apply", "applied": "applied", "done": "done already", "error": "ERROR"}


def _print_report(rows: tuple[ActionResult, ...] | list) -> None:
    table = Table()
    for col in ("row", "action", "subject", "id", "status", "column", "what"):
        table.add_column(col, justify="right" if col in ("row", "id") else "left")
    for r in rows:
        table.add_row(str(r.line), NAMES.get(r.action or "", ""), r.subject or "",
                      "" if r.id is None else str(r.id), STATUS[r.status], r.column or "",
                      r.message)  # fmt: skip
    console.print(table)


@friendly
def apply(
    file: Annotated[Path, typer.Argument(help="a queue's XLSX with its 动作 column filled in")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="what each row would do; write nothing")
    ] = False,
    operator: Operator = None,
) -> None:
    """Apply a queue's workbook: each row's 动作 (忽略, 作废, 设订单号, 核销), all or nothing."""
    service = _recon()
    try:
        report = service.apply_actions(file, actor=_actor(operator), dry_run=dry_run)
    except ActionFileError as exc:
        for where, message in exc.problems:
            console.print(f"  {where}: {message}", markup=False, highlight=False)
        fail(f"{file.name} refused: {len(exc.problems)} problem(s); nothing applied")
    _print_report(report.rows)
    n = {s: report.count(s) for s in STATUS}
    if dry_run:
        console.print(
            f"dry run (nothing written): {n['apply']} would apply, {n['done']} done already, "
            f"{n['error']} error(s)",
            highlight=False,
        )
        if n["error"]:
            raise typer.Exit(1)
        return
    console.print(
        f"applied {n['applied']} row(s), {n['done']} done already (file sha256 "
        f"{report.sha256[:12]}…)",
        highlight=False,
    )


def _print_group(g: Group, verb: str) -> None:
    gap = f", gap type {g.gap_type}" if g.gap_type else ""
    console.print(
        f"{verb} group {g.id} ({g.group_no}): {g.outcome}, expected {_m(g.expected_total)}, "
        f"actual {_m(g.actual_total)}, difference {_m(g.difference)}{gap}",
        highlight=False,
    )
    if g.state == "pending":
        console.print(
            "pending: its lines are held until a second person approves it "
            f"(zhangben recon approve {g.id}) or rejects it (recon reject {g.id} --reason …)",
            highlight=False,
        )


@friendly
def match(
    expected: Annotated[
        list[str] | None, typer.Option(help="an expected line: ID or ID:AMOUNT (repeat)")
    ] = None,
    actual: Annotated[
        list[str] | None, typer.Option(help="a bill row: ID or ID:AMOUNT (repeat)")
    ] = None,
    gap_type: Annotated[
        str | None, typer.Option(help="why the amounts differ (COMMISSION, PROMO, …)")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="write the difference off")] = False,
    memo: Annotated[str | None, typer.Option(help="required with --force (4+ chars)")] = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="show the totals and outcome; write nothing")
    ] = False,
    operator: Operator = None,
) -> None:
    """Match expected lines with bill rows by hand, whole or in part."""
    es = [_item(t, "expected") for t in expected or []]
    as_ = [_item(t, "actual") for t in actual or []]
    service = _recon()
    if preview:
        p = service.preview(es, as_, gap_type=gap_type, force=force)
        console.print(
            f"preview: expected {_m(p.expected_total)}, actual {_m(p.actual_total)}, "
            f"difference {_m(p.difference)}: {p.outcome}",
            highlight=False,
        )
        return
    g = service.match(es, as_, actor=_actor(operator), gap_type=gap_type, force=force, memo=memo)
    _print_group(g, "matched")


@friendly
def undo(
    group: Annotated[str, typer.Argument(help="the group's id or number (HX…-12)")],
    reason: Reason = None,
    operator: Operator = None,
) -> None:
    """Undo a match: its lines are released, the group and its history kept."""
    g = _recon().undo(_group_id(group), reason=reason or "", actor=_actor(operator))
    _print_group(g, "undone")


@friendly
def approve(
    group: Annotated[str, typer.Argument(help="the pending group's id or number (HX…-12)")],
    memo: Annotated[str | None, typer.Option(help="a note")] = None,
    operator: Operator = None,
) -> None:
    """Approve a pending forced match (not the person who forced it): it is applied."""
    g = _recon().approve(_group_id(group), actor=_actor(operator), memo=memo)
    _print_group(g, "approved")


@friendly
def reject(
    group: Annotated[str, typer.Argument(help="the pending group's id or number (HX…-12)")],
    reason: Reason = None,
    operator: Operator = None,
) -> None:
    """Reject a pending forced match (not the person who forced it): its lines are released."""
    g = _recon().reject(_group_id(group), reason=reason or "", actor=_actor(operator))
    _print_group(g, "rejected")


@friendly
def void(
    expected_id: Annotated[int, typer.Argument(help="the expected line's id")],
    reason: Reason = None,
    operator: Operator = None,
) -> None:
    """Void an expected line (a cancelled order)."""
    _recon().void(expected_id, reason=reason or "", actor=_actor(operator))
    console.print(f"voided expected line {expected_id}", highlight=False)


@friendly
def ignore(
    bill_row: Annotated[int, typer.Argument(help="the bill row's id")],
    reason: Reason = None,
    operator: Operator = None,
) -> None:
    """Take a bill row out of reconciliation."""
    _recon().ignore(bill_row, reason=reason or "", actor=_actor(operator))
    console.print(f"ignored bill row {bill_row}", highlight=False)


@friendly
def key(
    bill_row: Annotated[int, typer.Argument(help="the bill row's id")],
    order_no: Annotated[str, typer.Argument(help="its order number")],
    reason: Annotated[str | None, typer.Option(help="why")] = None,
    operator: Operator = None,
) -> None:
    """Set a bill row's order key by hand (the next run matches it)."""
    _recon().set_key(bill_row, order_no, actor=_actor(operator), reason=reason)
    console.print(f"bill row {bill_row}: key set", highlight=False)


@friendly
def groups(
    state: Annotated[
        str | None,
        typer.Option(help="active | pending | rejected | undone | suggested | superseded"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
) -> None:
    """The matches (核销单), newest first."""
    table = Table()
    for col in ("id", "group no", "order", "origin", "outcome", "expected", "actual",
                "difference", "gap type", "state", "period", "by"):  # fmt: skip
        table.add_column(col)
    for g in _recon().groups(state=state, limit=limit):
        table.add_row(str(g.id), g.group_no, g.key or "", g.origin, g.outcome,
                      _m(g.expected_total), _m(g.actual_total), _m(g.difference),
                      g.gap_type or "", g.state, g.period or "", g.created_by)  # fmt: skip
    console.print(table)


@friendly
def events(
    limit: Annotated[int, typer.Option(min=1)] = 20,
    group: Annotated[str | None, typer.Option(help="only this group's events")] = None,
) -> None:
    """The audit trail, newest first: who did what, when, before and after."""
    subject = ("group", str(_group_id(group))) if group else None
    table = Table()
    for col in ("id", "at", "actor", "action", "subject", "reason", "after"):
        table.add_column(col)
    for e in _recon().events(limit=limit, subject=subject):
        after = json.dumps(e.after, ensure_ascii=False) if e.after else ""
        table.add_row(str(e.id), local(e.at), e.actor, e.action,
                      f"{e.subject_type} {e.subject_id}", e.reason or "",
                      after[:80])  # fmt: skip
    console.print(table)


@friendly
def verify() -> None:
    """Walk the audit trail's hash chain (also part of ``zhangben verify``)."""
    checked, problems = _recon().verify_chain()
    if problems:
        for p in problems:
            console.print(f"  - {p}", markup=False)
        fail(f"{len(problems)} problem(s) in {checked} events")
    console.print(f"recon OK: {checked} events, hash chain intact", highlight=False)


recon_app.command("import")(import_command)
recon_app.command("run")(run)
recon_app.command("queues")(queues)
recon_app.command("queue")(queue)
recon_app.command("apply")(apply)
recon_app.command("match")(match)
recon_app.command("approve")(approve)
recon_app.command("reject")(reject)
recon_app.command("undo")(undo)
recon_app.command("void")(void)
recon_app.command("ignore")(ignore)
recon_app.command("key")(key)
recon_app.command("groups")(groups)
recon_app.command("events")(events)
recon_app.command("verify")(verify)
