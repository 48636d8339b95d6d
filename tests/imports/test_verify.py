"""One verifier, every surface: a problem of each kind planted behind the ledger's back, then
``zhangben verify`` and ``GET /api/v1/verify`` report the same checks with the same problems
(issue 14: the REST verify said ok while the CLI reported a duplicate bill row)."""

import re

import sqlalchemy as sa
from typer.testing import CliRunner

from tests.api.support import bearer
from zhangben.cli import app
from zhangben.demo import bills as s
from zhangben.imports.runner import import_file
from zhangben.imports.service import Imports
from zhangben.store.bills_tables import bill_rows
from zhangben.store.migrations.ledger_edits import ledger_rows_editable
from zhangben.store.tables import accounts, entries

runner = CliRunner()


def cli_report(db_url) -> tuple[int, dict[str, list[str]]]:
    """``zhangben verify`` read back: exit code, each check's problems (empty when OK)."""
    result = runner.invoke(app, ["--db", db_url, "verify"])
    checks: dict[str, list[str]] = {}
    current = None
    for line in result.output.splitlines():
        if m := re.fullmatch(r"(\w+) OK: (\d+ accounts, )?\d+ [\w ]+ checked", line):
            checks[m[1]] = []
        elif m := re.fullmatch(r"(\w+): \d+ problem\(s\)", line):
            current = checks[m[1]] = []
        elif line.startswith("  - "):
            current.append(line[4:])
        else:
            raise AssertionError(f"unexpected line: {line!r}\n{result.output}")
    return result.exit_code, checks


def rest_report(client, token) -> dict:
    r = client.get("/api/v1/verify", headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()


def same_everywhere(db_url, client, token) -> dict[str, list[str]]:
    code, cli = cli_report(db_url)
    rest = rest_report(client, token)
    assert [c["name"] for c in rest["checks"]] == list(cli)
    assert list(cli) == ["ledger", "bills", "drift", "periods", "recon"]
    assert {c["name"]: c["problems"] for c in rest["checks"]} == cli
    assert rest["ok"] is (code == 0) and rest["ok"] is all(not p for p in cli.values())
    assert rest["problems"] == [f"{name}: {p}" for name, ps in cli.items() for p in ps]
    return cli


def edit(ledger, *statements):
    with ledger.engine.begin() as conn, ledger_rows_editable(conn):
        for statement in statements:
            conn.execute(statement)


def test_every_kind_of_problem_is_reported_alike_by_the_cli_and_the_rest_api(
    ledger, db_url, client, make_session, tmp_path
):
    staff, _ = make_session("boss", "staff")
    ledger.open_account(number="ALI001", name="支付宝", type="alipay")
    ledger.open_account(number="JD001", name="京东", type="jd_wallet")
    ledger.open_account(number="A", name="a")
    ledger.open_account(number="B", name="b")
    files = s.write_demo_files(tmp_path, rows=60)
    ali = import_file(ledger, files["alipay"], account="ALI001")
    import_file(ledger, files["tampered"], account="JD001")  # one row missing
    ledger.income("A", "100.00")
    moved = ledger.transfer("A", "B", "10.00")
    spent = ledger.expense("A", "5.00")
    back = ledger.reverse_entry(spent.entries[0].id)
    clean = same_everywhere(db_url, client, staff)
    assert clean["ledger"] == [] and len(clean["bills"]) == len(clean["drift"]) == 1
    import_file(ledger, files["jd_wallet"], account="JD001")  # the missing row comes
    assert same_everywhere(db_url, client, staff) == {
        "ledger": [],
        "bills": [],
        "drift": [],
        "periods": [],
        "recon": [],
    }

    # ledger: a balance, a balance-after, a transfer's leg, a reversal, a subject
    e = entries.c
    edit(
        ledger,
        accounts.update().where(accounts.c.number == "B").values(balance=1),
        entries.update().where(e.id == moved.entries[1].id).values(amount=110000),
        entries.update().where(e.id == back.entries[0].id).values(amount=40000),
        entries.update().where(e.id == spent.entries[0].id).values(subject_id=9999),
    )
    # bills: a duplicate row (the case), a row without its entry, a row whose entry
    # is another's; drift: a posting by hand dated between two rows
    with ledger.engine.begin() as conn:
        rows = conn.execute(
            sa.select(bill_rows).where(bill_rows.c.import_id == ali.import_id).order_by("id")
        ).all()
        copy = {k: v for k, v in rows[10]._mapping.items() if k != "id"}
        conn.execute(bill_rows.insert().values({**copy, "unique_key": "DUPLICATE-1", "line": 99}))
        conn.execute(bill_rows.update().where(bill_rows.c.id == rows[20].id).values(entry_id=None))
        conn.execute(
            bill_rows.update()
            .where(bill_rows.c.id == rows[30].id)
            .values(entry_id=rows[31].entry_id)
        )
    when = rows[40].trade_time + (rows[41].trade_time - rows[40].trade_time) / 2
    ledger.expense("ALI001", "1.00", trade_time=when)

    found = same_everywhere(db_url, client, staff)
    ledger_problems = "\n".join(found["ledger"])
    assert "account B: balance 0.00 but its entries sum to 11.00" in ledger_problems
    assert "≠ previous" in ledger_problems  # the edited leg's balance-after
    assert f"transfer {moved.posting_id}: legs sum to 1.00, not zero" in ledger_problems
    assert f"reversal {back.entries[0].id} does not cancel" in ledger_problems
    assert "subject_id 9999 is not in the chart" in ledger_problems
    bills_problems = "\n".join(found["bills"])
    assert "line 99 of import 1" in bills_problems and "duplicate row" in bills_problems
    assert f"line {rows[20].line} of import 1: no ledger entry" in bills_problems
    assert f"line {rows[30].line} of import 1: entry {rows[31].entry_id} does not match" in (
        bills_problems
    )
    (drift,) = found["drift"]
    assert drift.startswith("alipay account ALI001: the ledger parts from the platform at line")
    assert Imports(ledger).verify().problems == [
        f"{name}: {p}" for name, problems in found.items() for p in problems
    ]


def test_verify_is_staff_only_and_in_the_openapi_schema(client, make_session, make_key):
    key = make_key(("read", "write"))
    assert client.get("/api/v1/verify", headers=bearer(key)).status_code == 403
    schema = client.get("/openapi.json").json()
    out = schema["components"]["schemas"]["VerifyOut"]["properties"]
    assert {"ok", "problems", "checks"} <= set(out)
    staff, _ = make_session("boss", "staff")
    body = client.get("/api/v1/verify", headers=bearer(staff)).json()
    assert body["ok"] and [c["rows"] for c in body["checks"]] == [
        "entries",
        "bill rows",
        "platform balances",
        "closed periods",
        "reconciliation events",
    ]
