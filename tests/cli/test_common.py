"""A command that cannot start: a bad ``ZHANGBEN_DATABASE_URL`` or time zone is one line on
stderr and exit code 2, never a traceback, whatever the command (issue 14, point 14). Run as
an operator runs them: the installed ``zhangben`` in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ZHANGBEN = str(Path(sys.prefix) / "bin" / "zhangben")

#: commands that reach the database, each in its own way (read, write, migrate, serve, import)
COMMANDS = [
    ["account", "list"],
    ["flows", "--size", "1"],
    ["post", "income", "ACC001", "1"],
    ["db", "upgrade"],
    ["demo"],
    ["serve", "--port", "1"],
    ["verify"],
    ["user", "list"],
    ["import", "nothing.csv", "--account", "ACC001"],
]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ZHANGBEN_")}
    return subprocess.run(
        [ZHANGBEN, *args],
        cwd=cwd,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line(result: subprocess.CompletedProcess, *says: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for text in says:
        assert text in lines[0], lines[0]
    assert result.stdout == ""
    return lines[0]


BAD_URLS = [
    ("not a url", "is not a database URL; use sqlite:///FILE or postgresql://"),
    ("postgres//user:s3cret-pw@db/ledger", "is not a database URL"),
    ("mysql://user@db/ledger", "unknown database 'mysql'; zhangben runs on sqlite and postgresql"),
    ("oracle+nothing://db/x", "unknown database 'oracle'"),
    ("postgresql+psycopg2://user:s3cret-pw@db/x", "cannot load its driver 'postgresql+psycopg2'"),
    ("sqlite:///no/such/dir/ledger.db", "the directory 'no/such/dir' does not exist"),
    ("sqlite:////no/such/dir/ledger.db", "the directory '/no/such/dir' does not exist"),
    ("postgresql://user:s3cret-pw@127.0.0.1:{port}/ledger", "cannot connect to the database"),
]


@pytest.mark.parametrize(("url", "says"), BAD_URLS, ids=[u for u, _ in BAD_URLS])
def test_a_bad_database_url_is_one_line_and_exit_code_2(tmp_path, url, says):
    url = url.format(port=_closed_port())
    line = assert_one_line(run(["account", "list"], tmp_path, ZHANGBEN_DATABASE_URL=url), says)
    assert "s3cret-pw" not in line  # the password is masked
    assert "ZHANGBEN_DATABASE_URL" in line or "Connection refused" in line
    assert not list(tmp_path.iterdir())  # nothing created


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_every_command_says_so_in_one_line(tmp_path, command):
    port = _closed_port()
    unreachable = f"postgresql://zb:pw@127.0.0.1:{port}/ledger"
    assert_one_line(
        run(command, tmp_path, ZHANGBEN_DATABASE_URL=unreachable),
        f"cannot connect to the database postgresql://zb:***@127.0.0.1:{port}/ledger: "
        "connection failed",
    )
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", COMMANDS[::4], ids=[" ".join(c[:2]) for c in COMMANDS[::4]])
def test_a_missing_directory_and_a_bad_time_zone_too(tmp_path, command):
    missing = "sqlite:///gone/ledger.db"
    assert_one_line(run(command, tmp_path, ZHANGBEN_DATABASE_URL=missing), "'gone' does not exist")
    assert_one_line(
        run(command, tmp_path, ZHANGBEN_TIMEZONE="Mars/Olympus_Mons"),
        "invalid setting ZHANGBEN_TIMEZONE: 'Mars/Olympus_Mons' is not a time zone",
    )
    assert not list(tmp_path.iterdir())


def test_the_db_option_is_checked_the_same_way(tmp_path):
    assert_one_line(run(["--db", "nope", "verify"], tmp_path), "'nope'", "not a database URL")


@pytest.mark.parametrize("zone", ["", "Asia/Nowhere", "../../etc/passwd", "x" * 300])
def test_an_invalid_time_zone_is_one_line(tmp_path, zone):
    assert_one_line(
        run(["balance"], tmp_path, ZHANGBEN_TIMEZONE=zone), "ZHANGBEN_TIMEZONE", "not a time zone"
    )


def test_other_settings_too_and_help_still_works(tmp_path):
    assert_one_line(run(["flows"], tmp_path, ZHANGBEN_PORT="eighty"), "ZHANGBEN_PORT")
    helped = run(["flows", "--help"], tmp_path, ZHANGBEN_TIMEZONE="Mars/Olympus_Mons")
    assert helped.returncode == 0 and "Usage" in helped.stdout


def test_good_settings_still_work(tmp_path):
    ok = run(["account", "list"], tmp_path, ZHANGBEN_TIMEZONE="UTC")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "zhangben.db").exists()
