"""The continuity check (对账): at import, across files, and in ``zhangben verify``."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from zhangben.cli import app
from zhangben.demo import bills as s
from zhangben.imports.check import windowed_breaks
from zhangben.imports.continuity import ChainChecker, ChainPoint
from zhangben.imports.runner import import_file
from zhangben.imports.service import Imports

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=SH)


def chain(cents, start=1_000_000):
    """Points with these nets (in cents), balances from 100.00 yuan; money in minor units."""
    points, balance = [], start
    for i, cent in enumerate(cents):
        net = cent * 100
        balance += net
        points.append(ChainPoint(i + 2, f"F{i}", T0 + timedelta(minutes=i), net, balance, f"F{i}"))
    return points


def check(points):
    checker = ChainChecker()
    for p in points:
        checker.feed(p)
    return checker.finish()


def test_clean_chain_has_no_breaks():
    assert check(chain([100, -50, 25, -75])) == []


def test_missing_row_is_named_with_its_neighbours():
    points = chain([100, -50, 25, -75, 10])
    (brk,) = check(points[:2] + points[3:])
    assert brk.kind == "missing" and brk.gap == 2500
    assert (brk.previous.line, brk.row.line) == (3, 5)
    text = str(brk)
    assert "line 5 (flow F3" in text and "line 3 (flow F1" in text
    assert "expected balance 99.75 (100.50 - 0.75), found 100.00" in text
    assert "0.25 unaccounted for" in text


def test_duplicate_row():
    points = chain([100, -50, 25])
    (brk,) = check(points[:2] + [points[1]] + points[2:])
    assert brk.kind == "duplicate" and "repeats" in str(brk)


def test_reordered_rows():
    points = chain([100, -50, 25, -75])
    (brk,) = check([points[0], points[2], points[1], points[3]])
    assert brk.kind == "reordered" and "out of order" in str(brk)


def test_missing_last_row_of_a_file_and_the_next_file_joins_it(ledger, tmp_path):
    ledger.open_account(number="ALI001", name="支付宝", type="alipay", allow_overdraft=True)
    txns = list(s.chained_txns(40))
    first = import_file(ledger, s.write_alipay_csv(tmp_path / "1.csv", txns[:20]), account="ALI001")
    assert first.breaks == []
    second = import_file(
        ledger, s.write_alipay_csv(tmp_path / "2.csv", txns[21:]), account="ALI001"
    )
    (brk,) = second.breaks
    assert brk.kind == "join" and brk.row.flow_no == txns[21].flow_no
    assert brk.previous.flow_no == txns[19].flow_no and brk.gap == int(txns[20].amount * 10000)
    assert f"of import {first.import_id}" in str(brk)
    assert not Imports(ledger).verify().ok
    # the missing day arrives later: it fills the hole, and verify is clean again
    late = import_file(
        ledger, s.write_alipay_csv(tmp_path / "3.csv", txns[18:23]), account="ALI001"
    )
    assert (late.rows_new, late.rows_duplicate, late.breaks) == (1, 4, [])
    report = Imports(ledger).verify()
    bills = report.check("bills")
    assert report.ok and bills.rows_checked == 40 and bills.accounts_checked == 1


@pytest.fixture
def cli(db_url):
    runner = CliRunner()

    def run(*args, code=0):
        result = runner.invoke(app, ["--db", db_url, *args])
        assert result.exit_code == code, result.output
        return result.output

    return run


def test_tampered_file_is_found_by_import_and_by_verify(cli, ledger, tmp_path):
    ledger.open_account(number="JD001", name="京东钱包", type="jd_wallet", allow_overdraft=True)
    txns = list(s.chained_txns(300, seed=21))
    removed = txns.pop(150)
    path = s.write_jd_wallet_csv(tmp_path / "tampered.csv", txns)
    out = cli("import", str(path), "--account", "JD001")
    assert "continuity breaks" in out and "line 152" in out and "line 151" in out
    out = cli("verify", code=1)
    assert "bills: 1 problem(s)" in out and "jd_wallet account JD001" in out
    assert "line 152 of import" in out and "unaccounted for" in out
    assert f"{removed.amount:.2f}".lstrip("-") in out
    assert "ledger OK" in out


# -- the chain check reads only the rows around its breaks ---------------------------------------


def _edited_chain(nets, edits):
    """A chain of ``nets`` with rows dropped, repeated, swapped or changed by ``edits``."""
    points = chain(nets)
    for op, i, value in edits:
        if not points:
            break
        i %= len(points)
        p = points[i]
        if op == "drop":
            del points[i]
        elif op == "repeat":
            points.insert(i, p)
        elif op == "swap" and i + 1 < len(points):
            points[i], points[i + 1] = points[i + 1], p
        elif op == "net":
            points[i] = ChainPoint(p.line, p.flow_no, p.trade_time, value * 100, p.balance, p.key)
        elif op == "balance":
            points[i] = ChainPoint(p.line, p.flow_no, p.trade_time, p.net, p.balance + value, p.key)
    return points


@settings(max_examples=400, deadline=None)
@given(
    nets=st.lists(st.integers(-3, 3), min_size=1, max_size=60),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["drop", "repeat", "swap", "net", "balance"]),
            st.integers(0, 59),
            st.integers(-3, 3),
        ),
        max_size=8,
    ),
)
def test_the_windowed_chain_check_finds_what_the_whole_chain_check_finds(nets, edits):
    """check.windowed_breaks, fed only the rows around the places where a row does not chain
    to the one before it, reports exactly what ChainChecker reports over the whole chain (or
    declines, and the chain is then checked whole)."""
    points = _edited_chain(nets, edits)
    numbered = {n: p for n, p in enumerate(points, start=1)}
    places = [n for n in range(2, len(points) + 1)
              if numbered[n - 1].balance + numbered[n].net != numbered[n].balance]  # fmt: skip
    whole = check(points)
    if not places:
        assert whole == []
        return
    found = windowed_breaks(places, len(points), lambda wanted: {n: numbered[n] for n in wanted})
    assert found is None or found == whole
