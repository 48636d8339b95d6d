"""The docs are honest: every fenced example in README.md and docs/*.md runs, as written.

Each page is one test. Its runnable blocks run in order, exactly as written, against a fresh
demo ledger on SQLite in a temporary directory, as a reader would run them in one shell
(docs/README.md, "Running the examples"):

* ```` ```bash ````: the CLI and the database only. The test's own venv is first on ``PATH``
  (and ``.venv`` in the working directory is that venv), ``ZHANGBEN_DATABASE_URL`` names the
  page's SQLite file;
* ```` ```bash server ```` and ```` ```python server ````: also a live server on that database
  (``zhangben serve --demo`` on a free port, ``ZHANGBEN_URL`` its address), started before
  the block once ``/healthz`` answers and stopped after it (kept running across consecutive
  blocks that need it);
* ```` ```bash postgres ````: ``ZHANGBEN_DATABASE_URL`` names an empty PostgreSQL database of
  the suite's server (the ``pg_base_url`` fixture) for that block alone;
* ```` ```python ````: the venv's python in the same environment.

Every bash block runs under ``set -euo pipefail``, so any failing command fails the page; the
shell variables a block sets (``KEY=…``, ``export ZHANGBEN_TOKEN=…``) are carried to the next
blocks of the page. A block passes when it exits 0 within the timeout and its output has no
``Traceback``. Other fences (none, ``json``) are never run.

The README runs as its reader runs it: from a fresh ``make run`` (``zhangben serve --demo`` on
an empty database, which loads the demo ledger), left running for every block, in order.

On the other pages, ``zhangben`` runs forked from a pre-imported interpreter. A page's
``zhangben`` (first on its ``PATH``) is a small shim that hands the call (argv, environment,
working directory, umask, fds 0/1/2) to a fork server of this pytest process (the ``zygote``
fixture, tests/docs/zygote.py), which has imported SQLAlchemy, Pydantic, Typer and the ledger
once; the forked child runs ``zhangben.cli.main`` as the console script does, and the shim
ends with its status. Why: the pages make some 450 calls, and a fresh interpreter spends ~0.75 s
of each importing those (``python -X importtime``), ~0.1 s is left. The bash is still the
page's, run as written; tests/docs/test_zygote.py holds the forked ``zhangben`` to the
console script's behaviour (statuses, tracebacks, stdin, pipes closed early, signals). The
README, the servers (``zhangben serve --demo``) and every call with
``ZHANGBEN_DOCS_FORK=0`` start real processes.

No shell example can slip past: a fence of another language (``sh``, ``console``, ``shell``,
…) is an error, and so is a fence the pattern would not see (``~~~``, four backticks), and an
unmarked fence holding a command, unless the command is one that is never run here (it runs
until stopped, or it concerns the repository: :data:`NEVER_RUN`).
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.docs.zygote import FORK, base_env

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
VENV_BIN = Path(sys.prefix) / "bin"
BLOCK_TIMEOUT = 300  # seconds: a hang guard; a page takes a few, a loaded CI machine far more
RUNNABLE = {"bash", "python"}
NEEDS = {"server", "postgres"}
NOT_RUN = {"", "json"}
#: pages run as from a fresh `make run`: the server up from the start, for every block
MAKE_RUN_PAGES = {"README.md"}

#: a line of an unmarked fence that is a command (a shell prompt, a CLI, curl, a variable set)
COMMAND = re.compile(
    r"^\s*(\$\s+)?(zhangben|curl|source|export|make|git|psql|sqlite3|pip|python3?|\.venv/\S+"
    r"|[A-Z][A-Z0-9_]*=\S*)(\s|$)"
)
#: the commands an unmarked fence may hold, because they are never run by this test: they run
#: until stopped (serve, uvicorn), take minutes (benchmarks, the suite) or change the checkout
NEVER_RUN = re.compile(
    r"^\s*(zhangben serve|make (run|test|test-reliability)\b|git worktree"
    r"|\.venv/bin/(pytest|uvicorn|ruff|lint-imports|python -m bench)"
    r"|([A-Z][A-Z0-9_]*=\S+ )+\.venv/bin/pytest)"
)
#: fences the pattern below does not read: they would hide an example from this test
HIDDEN_FENCE = re.compile(r"^[ ]*(~~~|````)", re.M)

#: a fenced block, also indented (in a list): its indent, info string and body
FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.S | re.M)  # fmt: skip

#: After a bash block: its shell variables (but bash's own) and its directory, for the next block
_CARRY = r"""
for __zb_v in $(compgen -v); do
  case $__zb_v in
    BASH*|COMP_*|DIRSTACK|EPOCHREALTIME|EPOCHSECONDS|EUID|FUNCNAME|GROUPS|HISTCMD|HOSTNAME|\
HOSTTYPE|IFS|LINENO|MACHTYPE|OLDPWD|OPTARG|OPTERR|OPTIND|OSTYPE|PIPESTATUS|PPID|PS4|PWD|\
RANDOM|SECONDS|SHELLOPTS|SHLVL|SRANDOM|UID|_|__zb_v) continue ;;
  esac
  [[ ${!__zb_v@a} == *r* ]] || declare -p "$__zb_v"
done > "$ZB_DOCS_STATE.new"
echo "cd $(printf %q "$PWD")" >> "$ZB_DOCS_STATE.new"
mv "$ZB_DOCS_STATE.new" "$ZB_DOCS_STATE"
"""


@dataclass
class Block:
    page: str
    number: int  # 1-based among the page's runnable blocks
    line: int  # line of the opening fence
    language: str
    needs: frozenset[str]
    body: str

    def __str__(self) -> str:
        fence = " ".join([self.language, *sorted(self.needs)])
        return f"{self.page} block {self.number} (```{fence}, line {self.line})"


def blocks(page: Path) -> list[Block]:
    """The page's runnable blocks, in order; an unknown fence is an error, never skipped."""
    text = page.read_text(encoding="utf-8")
    name = str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else page.name
    if hidden := HIDDEN_FENCE.search(text):
        line = text.count("\n", 0, hidden.start()) + 1
        raise AssertionError(
            f"{name}:{line}: a fence of {hidden[1]} is not read by this test: use ```"
        )
    found = []
    for match in FENCE.finditer(text):
        info = match["info"].split()
        language, needs = (info[0], set(info[1:])) if info else ("", set())
        line = text.count("\n", 0, match.start()) + 1
        if language == "" and not needs:
            for offset, command in enumerate(match["body"].splitlines(), start=1):
                assert not COMMAND.match(command) or NEVER_RUN.match(command), (
                    f"{name}:{line + offset}: a command in a fence without a language is never "
                    f"run: {command.strip()!r}. Mark the fence ```bash (or ```bash server) so "
                    "that it runs; only commands that run until stopped or concern the "
                    "repository stay unmarked"
                )
        if language in NOT_RUN and not needs:
            continue
        assert language in RUNNABLE and needs <= NEEDS and len(needs) <= 1, (
            f"{name}:{line}: unknown fence ```{match['info']}: runnable fences are bash or "
            "python, then server (or, for bash, postgres); json and none are not run"
        )
        assert not (language == "python" and "postgres" in needs), f"{name}:{line}"
        indent = len(match["indent"])
        body = "".join(ln[indent:] for ln in match["body"].splitlines(keepends=True))
        found.append(Block(name, len(found) + 1, line, language, frozenset(needs), body))
    return found


def test_every_page_has_only_known_fences():
    assert PAGES[0].name == "README.md" and len(PAGES) > 5
    for page in PAGES:
        blocks(page)


@pytest.mark.parametrize(
    ("fence", "says"),
    [
        ("```sh\nzhangben account list\n```", "unknown fence ```sh"),
        ("```console\n$ zhangben account list\n```", "unknown fence ```console"),
        ("```shell\nzhangben verify\n```", "unknown fence ```shell"),
        ("```bash live\nzhangben verify\n```", "unknown fence ```bash live"),
        ("~~~bash\nzhangben verify\n~~~", "a fence of ~~~ is not read"),
        ("````bash\nzhangben verify\n````", "a fence of ```` is not read"),
        ("```\nzhangben account list\n```", "'zhangben account list'. Mark the fence ```bash"),
        ("```\n$ zhangben flows\n```", "'$ zhangben flows'"),
        ("```\ncurl -s http://127.0.0.1:8000/healthz\n```", "'curl -s"),
        ("```\nKEY=abc\n```", "'KEY=abc'"),
        ("* a list\n\n  ```\n  zhangben verify\n  ```", "'zhangben verify'"),
    ],
)
def test_no_shell_example_is_skipped_silently(tmp_path, fence, says):
    """A shell example in a fence this test would not run fails the page instead."""
    page = tmp_path / "page.md"
    page.write_text(f"# A page\n\nText.\n\n{fence}\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=re.escape(says)):
        blocks(page)


def test_unmarked_fences_may_hold_what_is_never_run(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```\nzhangben serve --demo   # runs until stopped\nmake test\n"
        ".venv/bin/pytest tests/docs -q\nZHANGBEN_X=1 .venv/bin/pytest tests/x\n```\n\n"
        '```\nzhangben/\n  core/   the ledger\n```\n\n```json\n{"a": 1}\n```\n\n'
        "```bash\nzhangben verify\n```\n",
        encoding="utf-8",
    )
    assert [(b.language, b.body) for b in blocks(page)] == [("bash", "zhangben verify\n")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``zhangben serve --demo`` on the page's database, as the docs start it."""

    def __init__(self, env: dict[str, str], cwd: Path, port: int):
        self.env, self.cwd, self.port = env, cwd, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = cwd / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [str(VENV_BIN / "zhangben"), "serve", "--demo", "--port", str(self.port)],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited ({self.proc.returncode}):\n{self.log_text()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"the server did not answer /healthz within 60 s:\n{self.log_text()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    @property
    def running(self) -> bool:
        return self.proc is not None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


#: pages run two at a time (without pytest-xdist): a page waits on bash, its CLI calls and its
#: server as much as it computes
PAGE_WORKERS = 2


def _dsn(base: str, name: str) -> str:
    return base.replace("postgresql+psycopg://", "postgresql://") + "/" + name


def _script(block: Block, python: str) -> str:
    lines = ["set -euo pipefail", 'if [ -f "$ZB_DOCS_STATE" ]; then source "$ZB_DOCS_STATE"; fi']
    if "postgres" in block.needs:
        lines.append('export ZHANGBEN_DATABASE_URL="$ZB_DOCS_PG_URL"')
    if block.language == "python":
        lines.append(f"{python} - <<'ZB_DOCS_PYTHON'\n{block.body}ZB_DOCS_PYTHON")
    else:
        lines.append(block.body)
        if "postgres" not in block.needs:  # a postgres block's database stays its own
            lines.append(_CARRY)
    return "\n".join(lines) + "\n"


def run_page(page: Path, workdir: Path, pg_base: str | None, shim: Path | None = None) -> str:
    """Run the page's blocks in order in ``workdir``; fail naming the block that failed.
    ``shim``: the directory of the zygote's ``zhangben``, put first on ``PATH``."""
    started = time.monotonic()
    found = blocks(page)
    (workdir / ".venv").symlink_to(sys.prefix)  # `.venv/bin/…`, `source .venv/bin/activate`
    env = base_env()  # the venv's bin first on PATH, PYTHONUNBUFFERED=1
    if shim is not None:
        env["PATH"] = f"{shim}{os.pathsep}{env['PATH']}"
    env.update(
        ZHANGBEN_DATABASE_URL=f"sqlite:///{workdir / 'docs.db'}",
        ZB_DOCS_STATE=str(workdir / "state.sh"),
    )
    server = Server(env, workdir, _free_port())
    env["ZHANGBEN_URL"] = server.url
    make_run = str(page.relative_to(ROOT)) in MAKE_RUN_PAGES
    if make_run:  # `make run`: `zhangben serve --demo` on an empty database, left running
        assert not any("postgres" in b.needs for b in found), page
        server.start()
    else:
        demo = subprocess.run(
            [str((shim or VENV_BIN) / "zhangben"), "demo"], cwd=workdir, env=env,
            capture_output=True, text=True, timeout=BLOCK_TIMEOUT,
        )  # fmt: skip
        assert demo.returncode == 0 and "demo ledger loaded" in demo.stdout, demo.stdout
    pg_name = None
    took: list[tuple[float, Block]] = []
    try:
        for block in found:
            if make_run:
                pass
            elif "server" in block.needs and not server.running:
                server.start()
            elif "server" not in block.needs:
                server.stop()
            block_env = dict(env)
            if "postgres" in block.needs:
                assert pg_base, "no PostgreSQL server"
                if pg_name is None:
                    pg_name = f"zb_docs_{os.getpid()}_{next(_pg_counter)}"
                    with psycopg.connect(_dsn(pg_base, "postgres"), autocommit=True) as conn:
                        conn.execute(f"CREATE DATABASE {pg_name}")
                block_env["ZB_DOCS_PG_URL"] = _dsn(pg_base, pg_name)
            script = workdir / f"block{block.number}.sh"
            script.write_text(_script(block, sys.executable), encoding="utf-8")
            out = workdir / f"block{block.number}.out"
            began = time.monotonic()
            try:
                with out.open("w") as sink:
                    run = subprocess.run(
                        ["bash", str(script)], cwd=workdir, env=block_env,
                        stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                        timeout=BLOCK_TIMEOUT,
                    )  # fmt: skip
                status = f"exit status {run.returncode}" if run.returncode else None
            except subprocess.TimeoutExpired:
                status = f"still running after {BLOCK_TIMEOUT} s"
            output = out.read_text(errors="replace")
            if status is None and "Traceback" in output:
                status = "a Traceback in the output"
            if status:
                where = f"{block}: {status}\n--- the block ---\n{block.body}"
                where += f"--- its output ---\n{output[-6000:]}"
                if server.running:
                    where += f"\n--- the server's log ---\n{server.log_text()}"
                pytest.fail(where, pytrace=False)
            took.append((time.monotonic() - began, block))
        slowest = ", ".join(f"{b} {s:.1f} s" for s, b in sorted(took, key=lambda t: -t[0])[:5])
        return f"{len(found)} blocks in {time.monotonic() - started:.0f} s; slowest: {slowest}"
    finally:
        server.stop()
        if pg_name:
            with psycopg.connect(_dsn(pg_base, "postgres"), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")


_pg_counter = itertools.count()


def _cost(page: Path) -> int:
    """How long a page takes, roughly: the CLI's start-up is most of it."""
    return page.read_text(encoding="utf-8").count("zhangben ")


def _shim(page: Path, request) -> Path | None:
    """Where the page's ``zhangben`` is, when it runs forked from the zygote: every page but
    the README (run as from a fresh ``make run``), unless ``ZHANGBEN_DOCS_FORK=0``."""
    if not FORK or str(page.relative_to(ROOT)) in MAKE_RUN_PAGES:
        return None
    return request.getfixturevalue("zygote").bin


#: longest first, so that the longest pages start first (also on pytest-xdist's workers)
BY_COST = sorted(PAGES, key=lambda p: -_cost(p))
PAGE_IDS = [str(p.relative_to(ROOT)) for p in BY_COST]


@pytest.fixture(scope="module")
def page_runs(request, tmp_path_factory):
    """The pages this session selected, run :data:`PAGE_WORKERS` at a time, longest first;
    page → its future. (Not on pytest-xdist's workers: there each page runs in its test.)"""
    selected = [
        item.callspec.params["page"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_examples_run_as_written"
    ]
    runnable = [page for page in selected if blocks(page)]
    postgres = any("postgres" in b.needs for page in runnable for b in blocks(page))
    pg_base = request.getfixturevalue("pg_base_url") if postgres else None
    longest_first = sorted(runnable, key=lambda p: -_cost(p))
    pool = ThreadPoolExecutor(max_workers=PAGE_WORKERS, thread_name_prefix="docs")
    try:
        yield {
            page: pool.submit(
                run_page, page, tmp_path_factory.mktemp(page.stem), pg_base, _shim(page, request)
            )
            for page in longest_first
        }
    finally:  # pages not started yet (after -x, say) are not run
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("page", BY_COST, ids=PAGE_IDS)
def test_examples_run_as_written(page: Path, request, tmp_path):
    found = blocks(page)
    if not found:
        pytest.skip("no runnable examples on this page")
    assert (VENV_BIN / "zhangben").exists(), f"no zhangben console script in {VENV_BIN}"
    if hasattr(request.config, "workerinput"):  # pytest-xdist spreads the pages over workers
        postgres = any("postgres" in b.needs for b in found)
        pg_base = request.getfixturevalue("pg_base_url") if postgres else None
        print(run_page(page, tmp_path, pg_base, _shim(page, request)))  # shown with -rP
    else:
        print(request.getfixturevalue("page_runs")[page].result())
