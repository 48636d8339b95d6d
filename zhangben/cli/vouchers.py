"""Accounting vouchers (记账凭证): ``zhangben voucher book|chart|map|rules|generate|test|
batches|show|export|void`` (vouchers.md)."""

from __future__ import annotations

import getpass
import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from zhangben.cli.common import console, fail, friendly, ledger
from zhangben.vouchers.model import Voucher
from zhangben.vouchers.service import Vouchers

voucher_app = typer.Typer(
    help="Accounting vouchers (记账凭证) for 金蝶 and 用友: books, 科目, rules, batches.",
    no_args_is_help=True,
)
book_app = typer.Typer(help="Books (账套): the target product and its codes.", no_args_is_help=True)
chart_app = typer.Typer(help="A book's 科目.", no_args_is_help=True)
voucher_app.add_typer(book_app, name="book")
voucher_app.add_typer(chart_app, name="chart")

BookOpt = Annotated[str, typer.Option("--book", help="the book's name")]


def _vouchers() -> Vouchers:
    return Vouchers(ledger())


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _amount(minor: int, decimals: int) -> str:
    return f"{Decimal(minor).scaleb(-decimals):,.{decimals}f}"


# -- books ----------------------------------------------------------------------------------


@friendly
def book_add(
    name: Annotated[str, typer.Argument(help="the book's name, e.g. 星空")],
    product: Annotated[
        str, typer.Option(help="k3cloud_xlsx | k3cloud_json | kingdee_dbf | u8_xml | generic_xlsx")
    ],
    standard: Annotated[str, typer.Option(help="cas2006 | sbe2013 (小企业)")] = "cas2006",
    shop: Annotated[str | None, typer.Option(help="only this shop's accounts")] = None,
    book_code: Annotated[str, typer.Option(help="账簿编码")] = "",
    org_code: Annotated[str, typer.Option(help="核算组织编码")] = "",
    word: Annotated[str, typer.Option(help="凭证字")] = "记",
    currency: Annotated[str | None, typer.Option(help="币别 code in the product")] = None,
    preparer: Annotated[str, typer.Option(help="制单人")] = "",
    template: Annotated[
        Path | None, typer.Option(help="a file exported from the product, to write like it")
    ] = None,
) -> None:
    """Add a book: its 科目 from the standard, its rules the defaults."""
    book = _vouchers().add_book(
        name, product=product, standard=standard, shop=shop, book_code=book_code,
        org_code=org_code, voucher_word=word, currency_code=currency, preparer=preparer,
        template=template.read_bytes() if template else None,
    )  # fmt: skip
    console.print(
        f"book {book.name}: {book.product}, {book.standard}, "
        f"{'shop ' + book.shop_code if book.shop_code else 'every account'}, 凭证字 "
        f"{book.voucher_word}, rounding to {book.rounding_subject}",
        highlight=False,
    )


@friendly
def book_list() -> None:
    """The books."""
    table = Table()
    for col in ("name", "product", "standard", "shop", "word", "closed through"):
        table.add_column(col)
    for b in _vouchers().books():
        table.add_row(b.name, b.product, b.standard, b.shop_code or "", b.voucher_word,
                      b.closed_through or "")  # fmt: skip
    console.print(table)


@friendly
def book_close(
    name: Annotated[str, typer.Argument(help="the book's name")],
    month: Annotated[str, typer.Argument(help="the book's last closed (结账) month")],
) -> None:
    """Record the book's own 结账 in the product: no voucher is made for that month or before."""
    book = _vouchers().close_book_period(name, month)
    console.print(f"book {book.name} closed (结账) through {book.closed_through}")


book_app.command("add")(book_add)
book_app.command("list")(book_list)
book_app.command("close")(book_close)


# -- 科目, mapping, rules --------------------------------------------------------------------


@friendly
def chart_import(
    path: Annotated[Path, typer.Argument(help="the product's 科目表 export (CSV or XLSX)")],
    book: BookOpt,
) -> None:
    """Replace the book's 科目 by the product's own 科目表."""
    n = _vouchers().import_chart(book, path.read_bytes(), path.name)
    console.print(f"book {book}: {n} 科目 imported from {path.name}", highlight=False)


@friendly
def chart_list(book: BookOpt) -> None:
    """The book's 科目."""
    table = Table()
    for col in ("code", "name", "dc", "leaf", "aux"):
        table.add_column(col)
    for s in _vouchers().subjects(book):
        table.add_row(s.code, s.name, s.dc, "yes" if s.leaf else "", " ".join(s.aux))
    console.print(table)


chart_app.command("import")(chart_import)
chart_app.command("list")(chart_list)


@friendly
def map_command(
    account: Annotated[str, typer.Argument(help="the account's number")],
    subject: Annotated[str, typer.Argument(help="the leaf 科目 its money is in")],
    book: BookOpt,
    aux: Annotated[list[str] | None, typer.Option(help="a dimension, 客户=天猫A店")] = None,
) -> None:
    """Map an account to a 科目 (and dimension values) of the book."""
    values = dict(item.split("=", 1) for item in aux or [] if "=" in item)
    _vouchers().map_account(book, account, subject, values)
    console.print(f"account {account} → {subject} in book {book}", highlight=False)


@friendly
def rules_command(
    book: BookOpt,
    set_: Annotated[
        Path | None, typer.Option("--set", help="replace them by this JSON file's list")
    ] = None,
    add_defaults: Annotated[
        bool,
        typer.Option(
            "--add-defaults", help="append the default rules the book lacks, after its own"
        ),
    ] = False,
) -> None:
    """Print the book's rules as JSON, replace them, or add the defaults it lacks."""
    service = _vouchers()
    if set_ is not None and add_defaults:
        fail("--set and --add-defaults: one or the other")
    if add_defaults:
        added = service.add_default_rules(book)
        for rule in added:
            console.print(f"added {rule['name']}", highlight=False)
        console.print(f"book {book}: {len(added)} default rules added", highlight=False)
        return
    if set_ is not None:
        try:
            data = json.loads(set_.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            fail(f"{set_}: not JSON: {exc}")
        console.print(f"book {book}: {service.set_rules(book, data)} rules")
        return
    print(json.dumps(service.rules(book), ensure_ascii=False, indent=1))


# -- batches --------------------------------------------------------------------------------


def _vouchers_table(found: list[Voucher], decimals: int, *, lines: bool = False) -> Table:
    table = Table()
    for col in ("凭证号", "日期", "摘要", "科目" if lines else "分录", "借方", "贷方"):
        table.add_column(col, justify="right" if col in ("借方", "贷方", "分录") else "left")
    for v in found:
        table.add_row(f"{v.word}-{v.number}", f"{v.date}", v.summary,
                      "" if lines else str(len(v.lines)), _amount(v.debit_total, decimals),
                      _amount(v.credit_total, decimals))  # fmt: skip
        if lines:
            for x in v.lines:
                aux = " ".join(f"{k}:{val}" for k, val in x.aux.items())
                table.add_row("", "", "", f"{x.subject_code} {x.subject_name} {aux}".strip(),
                              _amount(x.debit, decimals) if x.debit else "",
                              _amount(x.credit, decimals) if x.credit else "")  # fmt: skip
    return table


@friendly
def generate(
    month: Annotated[str, typer.Argument(help="the month, e.g. 2026-10")],
    book: BookOpt,
    out: Annotated[
        Path | None, typer.Option(help="write the import file here (exports it)")
    ] = None,
    preview: Annotated[bool, typer.Option(help="show the vouchers, write nothing")] = False,
) -> None:
    """Make the month's vouchers from every flow in no voucher yet."""
    service = _vouchers()
    decimals = service.book(book).decimals
    if preview:
        made = service.preview(book, month)
        console.print(_vouchers_table(made.vouchers, decimals))
        for problem in made.problems:
            console.print(f"[red]{problem}[/red]", highlight=False)
        return
    made = service.generate(book, month, actor=_actor())
    b = made.batch
    debit = sum(v.debit_total for v in made.vouchers)
    console.print(
        f"batch {b.id}: {b.vouchers} vouchers of {b.flows} flows"
        + (f" and {made.differences} reconciliation differences" if made.differences else "")
        + f", {month} of book {book} "
        f"(借 = 贷 = {_amount(debit, decimals)}); rounding lines: {len(made.rounding)}",
        highlight=False,
    )
    if out is not None:
        file = service.export(b.id)
        out.write_bytes(file.content)
        console.print(f"wrote {out}: batch {b.id} exported, sha256 {file.sha256}", highlight=False)


@friendly
def test_command(
    entry: Annotated[int, typer.Argument(help="the entry (flow) id")],
    book: BookOpt,
) -> None:
    """Which rule takes a flow, and the voucher lines it alone would make."""
    service = _vouchers()
    t = service.test_flow(book, entry)
    where = f"; in batch {t.vouchered_in}" if t.vouchered_in else ""
    if t.rule is None:
        fail(f"entry {entry} ({t.kind}): no rule matches{where}")
    console.print(f"entry {entry} ({t.kind}): rule {t.rule}{where}", highlight=False)
    console.print(_vouchers_table([t.voucher], service.book(book).decimals, lines=True))


@friendly
def batches(
    book: Annotated[str | None, typer.Option(help="the book's name")] = None,
    month: Annotated[str | None, typer.Option(help="the month")] = None,
) -> None:
    """The batches made, newest last."""
    table = Table()
    columns = ("batch", "book", "month", "state", "vouchers", "flows", "differences", "by",
               "file sha256")  # fmt: skip
    for col in columns:
        table.add_column(col)
    for b in _vouchers().batches(book, month):
        table.add_row(str(b.id), b.book, b.month, b.state, str(b.vouchers), str(b.flows),
                      str(b.differences), b.created_by, (b.file_sha256 or "")[:16])  # fmt: skip
    console.print(table)


@friendly
def show(batch: Annotated[int, typer.Argument(help="the batch id")]) -> None:
    """A batch's vouchers and their lines."""
    service = _vouchers()
    b, found = service.batch(batch)
    console.print(f"batch {b.id}: {b.month} of book {b.book}, {b.state}", highlight=False)
    console.print(_vouchers_table(found, service.book(b.book).decimals, lines=True))


@friendly
def export(
    batch: Annotated[int, typer.Argument(help="the batch id")],
    out: Annotated[Path, typer.Option(help="where to write the file")],
    product: Annotated[
        str | None, typer.Option(help="another product's format (the batch stays as it is)")
    ] = None,
) -> None:
    """Write a batch's import file; the book's own format marks a draft exported."""
    file = _vouchers().export(batch, product=product)
    out.write_bytes(file.content)
    console.print(f"wrote {out}: batch {batch}, sha256 {file.sha256}", highlight=False)


@friendly
def void(batch: Annotated[int, typer.Argument(help="the batch id")]) -> None:
    """Void a draft batch: its flows are free for the next one."""
    b = _vouchers().void(batch)
    console.print(f"batch {b.id} is {b.state}")


voucher_app.command("map")(map_command)
voucher_app.command("rules")(rules_command)
voucher_app.command("generate")(generate)
voucher_app.command("test")(test_command)
voucher_app.command("batches")(batches)
voucher_app.command("show")(show)
voucher_app.command("export")(export)
voucher_app.command("void")(void)
