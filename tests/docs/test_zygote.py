"""The docs test's fork server (tests/docs/zygote.py): a ``zhangben`` forked from it behaves as
the console script does, seen from bash.

Each case runs the same bash snippet twice, in a new session (no terminal), once with the shim
first on ``PATH`` and once with the venv's ``zhangben``, and compares what bash sees: exit
status, stdout, stderr, files written.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.docs import zygote as zygote_module
from tests.docs.zygote import VENV_BIN, base_env


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, zygote) -> Path:
    """A demo ledger with a month of Alipay bills (3000 entries on ALI-TOUR: a long flow)."""
    where = tmp_path_factory.mktemp("zygote-demo")
    env = _env(zygote, True, where / "demo.db")
    run = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + textwrap.dedent("""
            zhangben demo
            zhangben import-samples bills
            zhangben account add ALI-TOUR "支付宝-旗舰店" --type alipay --shop S001
            zhangben import bills/alipay_2024-03.zip --account ALI-TOUR
        """)],
        cwd=where, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    return where / "demo.db"


def _env(zygote, fork: bool, db: Path) -> dict[str, str]:
    env = base_env()
    if fork:
        env["PATH"] = f"{zygote.bin}{os.pathsep}{env['PATH']}"
    env["ZHANGBEN_DATABASE_URL"] = f"sqlite:///{db}"
    return env


def bash(
    zygote, script: str, cwd: Path, *, fork: bool, db: Path, **env
) -> subprocess.CompletedProcess:
    """``script`` under ``set -euo pipefail`` in a new session, ``zhangben`` the zygote's shim
    (``fork``) or the console script."""
    full = _env(zygote, fork, db)
    full.update(env)
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + textwrap.dedent(script)],
        cwd=cwd, env=full, capture_output=True, text=True, timeout=120,
        start_new_session=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def both(zygote, script: str, tmp_path: Path, db: Path | None = None, **env):
    """The snippet run forked and real, each in a directory of its own with its own copy of
    ``db`` (``work/ledger.db``); (forked, real)."""
    runs = []
    for name, fork in (("forked", True), ("real", False)):
        work = tmp_path / name
        work.mkdir()
        ledger = work / "ledger.db"
        if db is not None:
            shutil.copy(db, ledger)
        runs.append(bash(zygote, script, work, fork=fork, db=ledger, **env))
    return runs[0], runs[1]


def same(forked, real, tmp_path: Path | None = None) -> None:
    """What bash saw is the same, the directories' names aside."""

    def clean(text: str) -> str:
        text = text.replace(f"{tmp_path}/forked", "DIR").replace(f"{tmp_path}/real", "DIR")
        return re.sub(r"^(bash: line \d+: ) *\d+ ", r"\1PID ", text, flags=re.M)  # a job's pid

    assert (forked.returncode, clean(forked.stdout), clean(forked.stderr)) == (
        real.returncode, clean(real.stdout), clean(real.stderr)
    )  # fmt: skip


def test_the_shim_is_the_zhangben_on_path(zygote, tmp_path, demo_db):
    run = bash(zygote, "type -p zhangben", tmp_path, fork=True, db=demo_db)
    assert run.stdout.strip() == str(zygote.bin / "zhangben")
    assert (zygote.bin / "zhangben").read_text().startswith(f"#!{sys.executable} -IS\n")


def test_success_is_0_with_the_same_output(zygote, tmp_path, demo_db):
    forked, real = both(zygote, "zhangben account list; zhangben balance ACC001", tmp_path, demo_db)
    assert forked.returncode == 0 and "ACC001" in forked.stdout
    same(forked, real)


@pytest.mark.parametrize(
    "command",
    ["zhangben nosuch", "zhangben flows --size many", "zhangben post income"],
    ids=["unknown-command", "bad-option", "missing-argument"],
)
def test_a_usage_error_is_2(zygote, tmp_path, demo_db, command):
    forked, real = both(zygote, command, tmp_path, demo_db)
    assert forked.returncode == 2 and "Usage: zhangben" in forked.stderr
    same(forked, real)


def test_a_refusal_is_1_with_its_line(zygote, tmp_path, demo_db):
    forked, real = both(zygote, "zhangben balance NO-SUCH-ACCOUNT", tmp_path, demo_db)
    assert forked.returncode == 1 and forked.stderr.startswith("error:")
    same(forked, real)


def test_an_uncaught_exception_is_1_with_its_traceback_on_stderr(zygote, tmp_path, demo_db):
    broken = tmp_path / "broken.db"
    shutil.copy(demo_db, broken)
    conn = sqlite3.connect(broken)  # the schema's version, without its accounts table
    conn.execute("ALTER TABLE accounts RENAME TO accounts_gone")
    conn.commit()
    conn.close()  # (the WAL checkpointed into the file, which is copied)
    forked, real = both(zygote, "zhangben account list", tmp_path, broken)
    for run in (forked, real):
        assert run.returncode == 1 and run.stdout == ""
        assert run.stderr.startswith("Traceback (most recent call last):\n")
        assert "sqlite3.OperationalError) no such table: accounts" in run.stderr

    def from_the_cli(traceback: str) -> str:  # the first frame is the script's, or the zygote's
        return traceback[traceback.index('zhangben/cli/__init__.py"') :]

    assert from_the_cli(forked.stderr) == from_the_cli(real.stderr)


def test_stdin_from_a_pipe_and_from_a_file(zygote, tmp_path, demo_db):
    # without a terminal, the hidden password prompt reads stdin (getpass warns on stderr)
    script = """
        printf 'pass-word-1\\npass-word-1\\n' | zhangben user add piped --role clerk
        printf 'pass-word-2\\npass-word-2\\n' > answers.txt
        zhangben user add filed --role clerk < answers.txt
        zhangben user list
    """
    forked, real = both(zygote, script, tmp_path, demo_db)
    assert forked.returncode == 0, forked.stderr
    assert "added clerk piped" in forked.stdout and "added clerk filed" in forked.stdout
    same(forked, real, tmp_path)


@pytest.mark.parametrize(
    ("unbuffered", "status"), [("", 1), ("1", 0)], ids=["buffered", "PYTHONUNBUFFERED"]
)
def test_stdout_into_a_pipe_closed_early(zygote, tmp_path, demo_db, unbuffered, status):
    """``| head -1`` under pipefail: head leaves after the first line of a flow several times
    longer than a pipe holds. Buffered, the write fails (EPIPE: click's exit status 1); with
    PYTHONUNBUFFERED, an interpreter's unbuffered stdout drops what one write() did not take
    (status 0). Forked, each is the console script's, status and stderr."""
    script = "zhangben flows --account ALI-TOUR --size 1000 | head -1"
    forked, real = both(zygote, script, tmp_path, demo_db, PYTHONUNBUFFERED=unbuffered)
    assert forked.returncode == status and forked.stdout.count("\n") == 1
    same(forked, real)
    whole = bash(zygote, "zhangben flows --account ALI-TOUR --size 1000 | wc -c", tmp_path,
                 fork=True, db=demo_db)  # fmt: skip
    assert int(whole.stdout) > 2 * 65536  # a pipe's 64 KiB, twice over


def test_output_captured_by_command_substitution(zygote, tmp_path, demo_db):
    script = """
        balance=$(zhangben balance ACC001)
        lines=$(zhangben account list | wc -l)
        echo "lines=$lines"; echo "[$balance]"
    """
    forked, real = both(zygote, script, tmp_path, demo_db)
    assert forked.returncode == 0 and "lines=" in forked.stdout and "ACC001" in forked.stdout
    same(forked, real)


def test_environment_working_directory_and_umask_are_the_callers(zygote, tmp_path, demo_db):
    """A relative SQLite URL resolves in the caller's directory, an exported setting and one
    set for the command alone are seen, and a new file gets the caller's umask."""
    script = """
        mkdir -p sub && cd sub
        umask 077
        ZHANGBEN_DATABASE_URL=sqlite:///here.db zhangben demo
        stat -c '%a %n' here.db
        export ZHANGBEN_TIMEZONE=UTC
        zhangben flows --account ACC001 --size 2
        ZHANGBEN_TIMEZONE=America/New_York zhangben flows --account ACC001 --size 2
        ZHANGBEN_TIMEZONE=Nowhere/Atlantis zhangben flows || echo "status $?"
        pwd
    """
    forked, real = both(zygote, script, tmp_path, demo_db)
    assert forked.returncode == 0, forked.stderr
    assert "600 here.db" in forked.stdout and "status 2" in forked.stdout
    assert "ZHANGBEN_TIMEZONE" in forked.stderr  # the bad zone named
    assert (tmp_path / "forked/sub/here.db").exists()
    same(forked, real, tmp_path)
    utc, new_york = re.findall(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", forked.stdout)[:3:2]
    assert utc != new_york  # each call read its own ZHANGBEN_TIMEZONE


def test_a_call_does_not_see_the_previous_ones_state(zygote, tmp_path, demo_db):
    """Settings are read once per process (an lru_cache), the database once per command: in a
    fork, the next call reads its own again."""
    script = """
        ZHANGBEN_TIMEZONE=UTC zhangben flows --account ACC001 --size 1
        zhangben flows --account ACC001 --size 1
        zhangben --db "sqlite:///$PWD/other.db" account add ONLY-OTHER 其他 --type main
        zhangben --db "sqlite:///$PWD/other.db" account list
        echo "--- the page's database again"
        zhangben account list
    """
    forked, real = both(zygote, script, tmp_path, demo_db)
    assert forked.returncode == 0, forked.stderr
    times = re.findall(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", forked.stdout)
    assert times[0] != times[1]  # the second call: Asia/Shanghai again
    other, default = forked.stdout.split("--- the page's database again")
    assert "ONLY-OTHER" in other and "ONLY-OTHER" not in default and "ACC001" in default
    same(forked, real, tmp_path)


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _no_children_left(zygote, seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _children_of(zygote.proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


#: a command blocked reading stdin (a password prompt on a FIFO nobody writes), then killed
WAITING = """
    mkfifo in.fifo
    exec 3<>in.fifo
    zhangben user add waiter --role clerk < in.fifo > out.txt 2> err.txt &
    pid=$!
    # until it waits on its prompt (a minute: the console script starts slowly on a busy
    # machine); -s: err.txt may not be there yet, the background job opens it
    for _ in $(seq 1200); do grep -qs Password err.txt && break; sleep 0.05; done
    grep -qs Password err.txt || {{ echo "no prompt"; exit 1; }}
    {kills}
    wait $pid && echo "status 0" || echo "status $?"
    cat out.txt err.txt
"""


def test_kill_term_of_the_shim_ends_the_child(zygote, tmp_path, demo_db):
    forked, real = both(zygote, WAITING.format(kills="kill -TERM $pid"), tmp_path, demo_db)
    assert "status 143" in forked.stdout  # died of SIGTERM, as the console script does
    same(forked, real, tmp_path)
    assert _no_children_left(zygote) == []


@pytest.mark.parametrize(
    ("kills", "status"),
    [
        ("kill -HUP $pid", 129),
        # a background job of a script ignores SIGINT (bash), and so does its child
        ("kill -INT $pid; sleep 0.5; kill -TERM $pid", 143),
    ],
    ids=["HUP", "INT-ignored-in-background"],
)
def test_other_signals(zygote, tmp_path, demo_db, kills, status):
    forked, real = both(zygote, WAITING.format(kills=kills), tmp_path, demo_db)
    assert f"status {status}" in forked.stdout
    same(forked, real, tmp_path)
    assert _no_children_left(zygote) == []


def test_a_shim_killed_outright_takes_its_child_along(zygote, tmp_path, demo_db):
    """SIGKILL cannot be forwarded: the server sees the connection close and kills the child."""
    run = bash(zygote, WAITING.format(kills="kill -KILL $pid"), tmp_path, fork=True, db=demo_db)
    assert "status 137" in run.stdout
    assert _no_children_left(zygote) == []
    assert "caller of" in zygote.log_text()


def test_a_startup_variable_runs_the_console_script(zygote, tmp_path, demo_db):
    """What an interpreter reads at start-up (here PYTHONWARNINGS) cannot change in a fork:
    such a call runs the real console script, with the same result."""
    forked, real = both(zygote, "zhangben balance ACC001", tmp_path, demo_db,
                        PYTHONWARNINGS="ignore::UserWarning")  # fmt: skip
    assert forked.returncode == 0
    same(forked, real)
    assert "exec ['" in zygote.log_text() and "PYTHONWARNINGS differs" in zygote.log_text()


#: run in a fresh interpreter: import :data:`zygote.PRELOAD` and report what it read
_AUDIT = r"""
import json, os, sys
reads, opened, connected = set(), [], []

class Audited(type(os.environ)):
    def __getitem__(self, key):
        reads.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        reads.add(key)
        return super().__contains__(key)

    def __iter__(self):
        reads.add("<every variable>")
        return super().__iter__()

audited = Audited.__new__(Audited)
audited.__dict__.update(os.environ.__dict__)
os.environ = audited

def hook(event, args):
    if event == "open" and isinstance(args[0], str):
        opened.append(args[0])
    elif event in ("socket.connect", "sqlite3.connect", "subprocess.Popen", "os.system"):
        connected.append(event)

sys.addaudithook(hook)
sys.path.insert(0, sys.argv[1])
preload = json.loads(sys.argv[2])
for name in preload:
    __import__(name)
cli = sorted(m for m in sys.modules if m.startswith(("zhangben.cli", "zhangben.app")))
print(json.dumps({"reads": sorted(reads), "opened": opened, "connected": connected, "cli": cli}))
"""


def test_preloading_reads_no_setting_no_database_and_only_known_variables(tmp_path):
    """The server imports :data:`zygote.PRELOAD` before any fork: every environment variable
    those imports read is one of :data:`zygote.IMPORT_ENV` (or a start-up one), they open no
    file but code, package data and the system's zone and MIME tables, and connect nowhere."""
    import json

    env = base_env()
    env.update(ZHANGBEN_DATABASE_URL="sqlite:///must-not-be-opened.db", ZHANGBEN_TIMEZONE="UTC")
    run = subprocess.run(
        [sys.executable, "-c", _AUDIT, str(VENV_BIN), json.dumps(zygote_module.PRELOAD)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.splitlines()[-1])
    unknown = [name for name in seen["reads"] if not zygote_module.startup_sensitive(name)]
    assert unknown == [], "read at import: add to IMPORT_ENV (a call differing runs the script)"
    assert not any(name.startswith("ZHANGBEN_") for name in seen["reads"])
    code = (".py", ".pyc", ".so", ".pth", ".typed", "entry_points.txt", "METADATA", "RECORD")
    system = ("/usr/share/zoneinfo/", "/etc/mime.types")
    data = [p for p in seen["opened"] if not p.endswith(code) and not p.startswith(system)]
    machinery = ("site-packages", "/zhangben/", ".zip", "__path_hook__")  # the import system's
    assert all(any(part in p for part in machinery) for p in data), data
    assert not any(p.endswith(".db") or p.endswith(".env") for p in seen["opened"])
    assert seen["connected"] == []
    assert seen["cli"] == []  # the CLI's modules (their consoles) are imported in the child
