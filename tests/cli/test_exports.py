"""``zhangben flows … --export`` and ``zhangben find``: files that hold the listed rows, no
overwrite without --force, nothing left behind, a progress bar on a terminal. On SQLite."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.exports.support import books, csv_cells, read_csv, read_xlsx, same_rows, xlsx_cells
from zhangben.core.queries import EntryFilter

ZHANGBEN = Path(sys.prefix) / "bin" / "zhangben"


@pytest.fixture
def filled(ledger, tmp_path):
    books(ledger, tmp_path)
    return ledger


def test_export_csv_and_xlsx(cli, filled, tmp_path):
    out = cli("flows", "--account", "ACC001", "--export", str(tmp_path / "a.csv")).output
    assert "exported 4 entries to" in out
    listed = filled.entries(EntryFilter(account_numbers=["ACC001"]), limit=100).items
    assert read_csv((tmp_path / "a.csv").read_bytes()) == [csv_cells(e) for e in listed]
    cli("flows", "--shop", "S001", "--find", "T-3", "--export", str(tmp_path / "b.XLSX"))
    found = filled.entries(EntryFilter(shop_codes=["S001"], find="T-3")).items
    same_rows(read_xlsx(tmp_path / "b.XLSX"), [xlsx_cells(e) for e in found])
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith("part")) == []


def test_an_existing_file_is_kept_without_force(cli, filled, tmp_path):
    target = tmp_path / "flows.csv"
    target.write_text("mine")
    r = cli("flows", "--export", str(target), ok=False)
    assert r.exit_code == 1 and "exists: give --force to overwrite it" in r.output
    assert target.read_text() == "mine"
    cli("flows", "--export", str(target), "--force")
    assert len(read_csv(target.read_bytes())) == 36


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("flows.xls", "must end in .csv or .xlsx"),
        ("no-such-dir/flows.csv", "is not a directory"),
    ],
)
def test_bad_targets(cli, filled, tmp_path, target, message):
    r = cli("flows", "--export", str(tmp_path / target), ok=False)
    assert r.exit_code == 1 and message in r.output
    assert not (tmp_path / target).exists()


def test_find_and_the_find_filters(cli, filled):
    out = cli("find", "T050000000007").output
    assert "1 entries match" in out and "ALI001" in out
    out = cli("find", "T-3").output
    assert "2 entries match" in out and "transfer_in" in out and "transfer_out" in out
    assert "0 entries match" in cli("find", "nothing-like-it").output
    assert "1 entries in all" in cli("flows", "--external-id", "20240301000000000007").output
    assert "1 entries in all" in cli("flows", "--order-no", "T050000000007").output
    assert "1 entries in all" in cli("flows", "--counterparty", "buyer7@example.com").output
    assert "2 entries in all" in cli("flows", "--trade-no", "T-3").output


def test_a_long_export_shows_a_progress_bar(ledger, db_url, tmp_path, backend):
    """On a terminal (a pty), past one page of rows; the command line runs for real."""
    if backend != "sqlite":
        pytest.skip("the bar is the same on both databases")
    ledger.open_account(number="BIG", name="big")
    ledger.post_many([{"kind": "income", "account": "BIG", "amount": "1"}] * 6000)
    target = tmp_path / "big.csv"
    leader, follower = pty.openpty()
    env = {**os.environ, "ZHANGBEN_DATABASE_URL": db_url, "COLUMNS": "120", "TERM": "xterm"}
    proc = subprocess.Popen(
        [str(ZHANGBEN), "flows", "--export", str(target)],
        stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        try:
            data = os.read(leader, 65536) if ready else b""
        except OSError:  # the pty closed: the command is done
            data = b""
        if not data:
            break
        seen += data
    assert proc.wait(timeout=60) == 0, seen
    text = seen.decode("utf-8", "replace")
    assert "exporting" in text and "6000/6000" in text and "━" in text
    assert "exported 6,000 entries" in text
    assert len(read_csv(target.read_bytes())) == 6000
