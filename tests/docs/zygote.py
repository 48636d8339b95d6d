"""A fork server for the docs test (a "zygote"): ``zhangben`` without a second of start-up.

The docs pages run about 450 ``zhangben …`` calls in bash; a fresh interpreter spends ~0.75 s
of each importing SQLAlchemy, Pydantic, Typer and zhangben. This server imports them once,
then forks a child per call, already warm, which runs ``zhangben.cli.main`` exactly as the
console script does, in the caller's environment, working directory, umask and fds 0/1/2.

* The server: ``python tests/docs/zygote.py SOCKET SCRIPT`` (SCRIPT: the venv's ``zhangben``
  console script, whose place the children take). It preloads :data:`PRELOAD`, checks that no
  thread, logging handler, database connection or stray fd exists (:func:`check_clean`), then
  listens on the Unix socket SOCKET. One thread, one selector: the listening socket, each
  caller's connection (closed early: its child is killed) and each child's pidfd (exited: its
  status is sent).
* The shim (``zygote_shim.py``, installed as ``zhangben`` by :func:`install_shim`): a
  ``python -I -S`` script that sends its argv, environment, working directory (an fd),
  umask, ignored signals and signal mask, resource limits and fds 0/1/2 (SCM_RIGHTS), forwards
  SIGINT/SIGTERM/SIGHUP to the child and ends as the child ended.
* What a fresh interpreter reads at start-up (``PYTHON*``, the locale) or a preloaded library
  reads at import (:data:`IMPORT_ENV`), resource limits and the nice value cannot be changed in
  a forked child: when a call's differ from the server's, the server answers ``exec`` and the
  shim runs the real console script instead (so such a call costs what it always did).
  ``PYTHONUNBUFFERED`` is the exception: the child makes its stdio as an interpreter would
  for the caller's value.

Nothing is preloaded that reads a ``ZHANGBEN_*`` setting, a settings file or the database at
import: ``zhangben.cli`` is not (``zhangben.cli.common`` builds its Rich consoles at import,
from ``sys.stdout`` and the environment), ``zhangben.settings`` only defines the settings
class (read by ``get_settings()``, in the child). tests/docs/test_zygote.py audits the
preloading: every environment variable it reads is in :data:`IMPORT_ENV`, it opens no file
but code and package data, and connects nowhere.

Run as a script, this module imports only the standard library before :data:`PRELOAD`.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import io
import json
import os
import random
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types
from pathlib import Path

#: Modules the server imports once, before any fork: the libraries the commands use and the
#: zhangben modules below the CLI (each checked: no setting, file or database read at import;
#: tests/docs/test_zygote.py audits them). Not ``zhangben.cli*`` (its consoles read
#: ``sys.stdout`` and the environment at import), nor the HTTP stack (``zhangben serve``,
#: ``zhangben.app``: OpenTelemetry's variables, /etc/mime.types), which ``serve`` imports in
#: its child.
PRELOAD = (
    "sqlalchemy",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.orm",
    "alembic.command",
    "alembic.config",
    "alembic.runtime.migration",
    "alembic.script",
    "psycopg",
    "pydantic",
    "pydantic_settings",
    "click",
    "typer",
    "typer.main",
    "typer.core",
    "rich.console",
    "rich.table",
    "rich.markup",
    "rich.text",
    "openpyxl",
    "zhangben.settings",
    "zhangben.core.ledger",
    "zhangben.core.reports",
    "zhangben.core.verification",
    "zhangben.store.engine",
    "zhangben.store.migrate",
    "zhangben.access.service",
    "zhangben.imports.service",
    "zhangben.imports.check",
    "zhangben.exports.flows",
    "zhangben.periods",
    "zhangben.recon.service",
    "zhangben.vouchers.service",
    "zhangben.demo.ledger",
    "zhangben.demo.bills",
    "zhangben.demo.orders",
    "zhangben.sdk",
)

#: Environment variables that :data:`PRELOAD` reads at import (the audit in test_zygote.py
#: holds this list complete), and what a C library reads when it loads. A call whose values
#: differ from the server's runs the real console script.
IMPORT_ENV = frozenset(
    {
        "DISABLE_SQLALCHEMY_CEXT_RUNTIME",  # sqlalchemy.util._has_cy
        "PSYCOPG_IMPL",  # psycopg.pq
        "PSYCOPG_WAIT_FUNC",  # psycopg.waiting
        "PYDANTIC_DISABLE_PLUGINS",  # pydantic.plugin._loader
        "TYPER_USE_RICH",  # typer.core
        "PY_SAX_PARSER",  # xml.sax (openpyxl, the voucher writers)
        "HOME",  # sysconfig (the user scheme), posixpath.expanduser
        "_PYTHON_PROJECT_BASE",  # sysconfig
        "_PYTHON_SYSCONFIGDATA_NAME",  # sysconfig
        "OPENSSL_CONF",  # OpenSSL, loaded with cryptography
        "OPENSSL_MODULES",
        "LANGUAGE",  # gettext
    }
)


def startup_sensitive(name: str) -> bool:
    """Whether a variable takes effect at an interpreter's start-up or a preloaded import, so
    that a call whose value differs from the server's cannot be forked."""
    if name == "PYTHONUNBUFFERED":  # honoured in the child (_fresh_stdio)
        return False
    return name.startswith(("PYTHON", "LC_")) or name in IMPORT_ENV or name == "LANG"


#: what a fresh interpreter's signal handlers are (Python ignores SIGPIPE and SIGXFSZ)
_PYTHON_IGNORES = (signal.SIGPIPE, signal.SIGXFSZ)
#: the signals the server handles (stop)
_SERVER_SIGNALS = {signal.SIGTERM, signal.SIGINT}
#: what the server answers instead of a pid: run the real console script
EXEC = -1


def _rlimits() -> dict[str, list[int]]:
    return {
        name: list(resource.getrlimit(getattr(resource, name)))
        for name in dir(resource)
        if name.startswith("RLIMIT_")
    }


def check_clean() -> None:
    """Fail unless the server holds nothing a child must not share: no thread, no logging
    handler, no open database connection, no fd but 0/1/2."""
    import logging

    problems = []
    if threading.active_count() != 1:
        problems.append(f"threads: {threading.enumerate()}")
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            if not isinstance(handler, logging.NullHandler):
                problems.append(f"logging handler {handler!r} on {logger.name}")
    import sqlite3

    import psycopg
    import sqlalchemy.engine

    gc.collect()
    for obj in gc.get_objects():
        if isinstance(obj, sqlalchemy.engine.Engine | sqlite3.Connection | psycopg.Connection):
            problems.append(f"an open {type(obj).__name__}")
    # the fds listed, less listdir's own (closed by now): none beyond the standard three
    fds = [fd for fd in map(int, os.listdir("/proc/self/fd")) if fd > 2 and _is_open(fd)]
    if fds:
        problems.append(f"open fds {fds}")
    if problems:
        raise SystemExit("zygote: not clean before forking: " + "; ".join(problems))


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _log(message: str) -> None:
    sys.stderr.write(f"zygote[{os.getpid()}] {time.strftime('%H:%M:%S')} {message}\n")
    sys.stderr.flush()


class Call:
    """One caller's request: its connection, fds and, once forked, its child."""

    def __init__(self, conn: socket.socket, fds: list[int], request: dict):
        self.conn, self.fds, self.request = conn, fds, request
        self.pid: int | None = None
        self.pidfd: int | None = None


def _read_request(conn: socket.socket) -> tuple[list[int], dict]:
    """The request: one byte carrying the fds (SCM_RIGHTS), then a length and JSON."""
    conn.settimeout(10)
    data, fds, _flags, _addr = socket.recv_fds(conn, 1, 16)
    if not data:
        raise EOFError
    header = _read_exactly(conn, 4)
    return fds, json.loads(_read_exactly(conn, struct.unpack("!I", header)[0]))


def _read_exactly(conn: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class Server:
    def __init__(self, path: str, script: str):
        self.path, self.script = path, script
        self.environ = dict(os.environ)  # as the server started: the startup-sensitive values
        self.rlimits = _rlimits()
        self.nice = os.getpriority(os.PRIO_PROCESS, 0)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.selector = selectors.DefaultSelector()
        self.calls: dict[int, Call] = {}  # by pid
        self.forked = self.execed = 0

    def cannot_fork(self, request: dict) -> str | None:
        """Why this call must run the real console script, or None."""
        env = request["env"]
        for name in sorted(set(env) | set(self.environ)):
            if startup_sensitive(name) and env.get(name) != self.environ.get(name):
                return f"{name} differs"
        if request["rlimits"] != self.rlimits:
            return "resource limits differ"
        if request["nice"] != self.nice:
            return "nice value differs"
        return None

    def serve(self) -> None:
        self.listener.bind(self.path + ".new")
        os.rename(self.path + ".new", self.path)  # the socket appears when it is ready
        self.listener.listen(64)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, ("accept", None))
        _log(f"ready on {self.path}")
        while True:
            for key, _ in self.selector.select():
                what, call = key.data
                if what == "accept":
                    self.accept()
                elif what == "exited":
                    self.reap(call)
                else:  # the caller's connection: closed (or spoke) before its child ended
                    self.abandon(call)

    def exec_instead(self, conn: socket.socket, fds: list[int], request: dict, why: str) -> None:
        """Answer ``exec``: the shim runs the real console script for this call."""
        _log(f"exec {request['argv']}: {why}")
        self.execed += 1
        self._send(conn, struct.pack("!ii", EXEC, 0))
        for fd in fds:
            os.close(fd)
        conn.close()

    def accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(True)
        fds: list[int] = []
        try:
            fds, request = _read_request(conn)
            if len(fds) != len(request["fds"]) + 1:  # the fds of 0/1/2 given, and the cwd
                raise ValueError(f"{len(fds)} fds for {request['fds']}")
        except (OSError, EOFError, ValueError, KeyError) as exc:
            _log(f"a bad request: {exc!r}")
            for fd in fds:
                os.close(fd)
            conn.close()
            return
        why = self.cannot_fork(request)
        if why:
            self.exec_instead(conn, fds, request, why)
            return
        call = Call(conn, fds, request)
        sys.stdout.flush()
        sys.stderr.flush()
        # the server's own handlers (stop) must never run in a child: blocked over the fork,
        # until the child has a fresh interpreter's
        signal.pthread_sigmask(signal.SIG_BLOCK, _SERVER_SIGNALS)
        try:
            pid = os.fork()
        except OSError as exc:  # no memory, too many processes: the caller runs the script
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SERVER_SIGNALS)
            self.exec_instead(conn, fds, request, f"fork failed ({exc})")
            return
        if pid == 0:  # the child never returns
            self.child(call)
        try:
            os.setpgid(pid, pid)  # as the child does: killpg works from now on
        except OSError:
            pass
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SERVER_SIGNALS)
        for fd in fds:  # only the child holds the caller's pipes now
            os.close(fd)
        call.pid, call.pidfd, call.fds = pid, os.pidfd_open(pid), []
        self.forked += 1
        self.calls[pid] = call
        self._send(conn, struct.pack("!ii", pid, 0))
        self.selector.register(call.pidfd, selectors.EVENT_READ, ("exited", call))
        self.selector.register(conn, selectors.EVENT_READ, ("caller", call))

    @staticmethod
    def _send(conn: socket.socket, data: bytes) -> None:
        try:
            conn.sendall(data)
        except OSError:
            pass  # the caller is gone; its child is killed when its connection is seen closed

    def reap(self, call: Call) -> None:
        _, status = os.waitpid(call.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        self.selector.unregister(call.pidfd)
        os.close(call.pidfd)
        del self.calls[call.pid]
        if call.conn is not None:
            self.selector.unregister(call.conn)
            # as a shell reports it: 128+N for a death by signal N (and N, for the shim to die
            # of it too)
            self._send(
                call.conn, struct.pack("!ii", 128 - code if code < 0 else code, max(0, -code))
            )
            call.conn.close()
            call.conn = None

    def abandon(self, call: Call) -> None:
        """The caller hung up before its child ended: the child (and its group) is killed."""
        if call.conn is None or call.pid not in self.calls:  # reaped in this same round
            return
        self.selector.unregister(call.conn)
        call.conn.close()
        call.conn = None
        _log(f"caller of {call.pid} gone: killed")
        try:
            os.killpg(call.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self, *_args) -> None:
        if os.path.exists(self.path):
            os.unlink(self.path)
        _log(f"stopped: {self.forked} calls forked, {self.execed} run as the console script")
        for pid in list(self.calls):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        raise SystemExit(0)

    # --- the child ----------------------------------------------------------------------------

    def child(self, call: Call) -> None:
        status = 1
        try:
            status = _become(call, self)
        except BaseException:  # noqa: BLE001 (a failure of the zygote itself)
            try:
                traceback.print_exc()
                sys.stderr.flush()
            finally:
                os._exit(70)
        os._exit(status)


def _become(call: Call, server: Server) -> int:
    """Turn this fork into the caller's ``zhangben`` process; its exit status."""
    request = call.request
    os.setpgid(0, 0)  # its own group: killed with whatever it starts if the caller goes
    # what the server holds is not the child's: the listener, other callers, pidfds
    server.selector.close()
    server.listener.close()
    for other in server.calls.values():
        if other.conn is not None:
            other.conn.close()
        os.close(other.pidfd)
    call.conn.close()
    # fds 0/1/2 as the caller's (a closed one stays closed), and its working directory
    given, cwd_fd = call.fds[:-1], call.fds[-1]
    for fd in (0, 1, 2):
        if fd not in request["fds"]:
            os.close(fd)
    for target, fd in zip(request["fds"], given, strict=True):
        os.dup2(fd, target)
    for fd in given:
        if fd not in (0, 1, 2):
            os.close(fd)
    os.fchdir(cwd_fd)
    os.close(cwd_fd)
    os.umask(request["umask"])
    # the environment, wholesale (os.environ's setters call putenv: C code sees it too)
    env = request["env"]
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    tempfile.tempdir = None  # tempfile.gettempdir() reads TMPDIR again
    # signals as a fresh interpreter started by the caller has them
    ignored = set(request["ignored"])
    for signum in signal.valid_signals():
        if signum in (signal.SIGKILL, signal.SIGSTOP):
            continue
        if signum in ignored or signum in _PYTHON_IGNORES:
            handler = signal.SIG_IGN
        elif signum == signal.SIGINT:
            handler = signal.default_int_handler
        else:
            handler = signal.SIG_DFL
        try:
            signal.signal(signum, handler)
        except (OSError, ValueError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, request["sigmask"])
    random.seed()  # also done by random's at-fork hook; said here
    # sys as the console script has it
    sys.argv = [server.script, *request["argv"][1:]]
    sys.orig_argv = [sys.executable, server.script, *request["argv"][1:]]
    sys.path.insert(0, str(Path(server.script).parent))
    main_module = types.ModuleType("__main__")
    main_module.__file__ = server.script
    sys.modules["__main__"] = main_module
    _fresh_stdio(env, request["fds"])
    return _run_main()


_KEPT: list = []


def _fresh_stdio(env: dict, valid: list[int]) -> None:
    """sys.stdin/stdout/stderr as a fresh interpreter makes them (pylifecycle.c
    ``create_stdio``) over the caller's fds: buffering by isatty and PYTHONUNBUFFERED."""
    unbuffered = bool(env.get("PYTHONUNBUFFERED"))
    keep = (sys.stdin, sys.stdout, sys.stderr)  # the server's, flushed: never written to again
    streams = []
    for fd, name, template in ((0, "<stdin>", keep[0]), (1, "<stdout>", keep[1]),
                               (2, "<stderr>", keep[2])):  # fmt: skip
        if fd not in valid:
            streams.append(None)
            continue
        write = fd != 0
        buffering = 0 if (unbuffered and write) else -1
        buf = open(
            fd,  # noqa: SIM115
            "wb" if write else "rb",
            buffering=buffering,
            closefd=False,
        )
        raw = buf if buffering == 0 else buf.raw
        raw.name = name
        tty = raw.isatty()
        stream = io.TextIOWrapper(
            buf,
            encoding=template.encoding if template else "utf-8",
            errors=template.errors if template else "strict",
            newline="\n",
            line_buffering=not unbuffered and (tty or fd == 2),
            write_through=unbuffered,
        )
        stream.mode = "w" if write else "r"
        streams.append(stream)
    _KEPT.append(keep)
    sys.stdin, sys.stdout, sys.stderr = streams
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = streams


def _call_main() -> None:
    from zhangben.cli import main

    sys.exit(main())


def _run_main() -> int:
    """Run the entry point and end as Python's ``Py_RunMain`` would: SystemExit's code, an
    uncaught exception's traceback and 1, a KeyboardInterrupt's death by SIGINT; then the
    threads joined, atexit, and a failed flush of stdout is 120."""
    status, interrupted = 0, False
    try:
        _call_main()
    except SystemExit as exc:
        code = exc.code
        if code is None:
            status = 0
        elif isinstance(code, int):
            status = code
        else:
            _write_stderr(f"{code}\n")
            status = 1
    except BaseException as exc:  # noqa: BLE001
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None  # from the script's frame
        if sys.stderr is not None:
            sys.excepthook(type(exc), exc, tb)
        status, interrupted = 1, isinstance(exc, KeyboardInterrupt)
    threading._shutdown()  # noqa: SLF001 (as Py_FinalizeEx: wait for non-daemon threads)
    atexit._run_exitfuncs()  # noqa: SLF001
    if sys.stdout is not None:
        try:
            sys.stdout.flush()
        except Exception as exc:  # noqa: BLE001
            _write_stderr(f"Exception ignored in: {sys.stdout!r}\n{type(exc).__name__}: {exc}\n")
            status = 120
    if sys.stderr is not None:
        try:
            sys.stderr.flush()
        except Exception:  # noqa: BLE001, S110
            pass
    if interrupted:  # as Python exits after an uncaught KeyboardInterrupt
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return status % 256


def _write_stderr(text: str) -> None:
    try:
        if sys.stderr is not None:
            sys.stderr.write(text)
            sys.stderr.flush()
    except Exception:  # noqa: BLE001, S110
        pass


# --- the test's side ------------------------------------------------------------------------

SHIM = Path(__file__).with_name("zygote_shim.py")


def install_shim(bin_dir: Path, socket_path: str, python: str, script: str) -> Path:
    """Write the shim as ``bin_dir/zhangben``: a ``python -I -S`` script naming the socket and
    the real console script (for the calls it cannot fork)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "zhangben"
    body = SHIM.read_text(encoding="utf-8")
    constants = f"SOCKET = {socket_path!r}\nPYTHON = {python!r}\nSCRIPT = {script!r}\n"
    shim.write_text(
        f"#!{python} -IS\n{body.replace('# @CONSTANTS@', constants, 1)}", encoding="utf-8"
    )
    shim.chmod(0o755)
    return shim


VENV_BIN = Path(sys.prefix) / "bin"
#: ``ZHANGBEN_DOCS_FORK=0``: every ``zhangben`` of the docs pages is a fresh process again
FORK = os.environ.get("ZHANGBEN_DOCS_FORK", "1") != "0"


def base_env() -> dict[str, str]:
    """The environment the docs pages start from (less their own database, state and URL):
    also the fork server's, so that what a child inherits from it is what a page sets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHANGBEN_", "VIRTUAL_ENV"))}
    env.update(PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}", PYTHONUNBUFFERED="1")
    return env


class Zygote:
    """A running fork server and the bin directory of its shim."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.socket = str(workdir / "z.sock")
        self.bin = workdir / "bin"
        self.log = workdir / "zygote.log"
        self.script = str(VENV_BIN / "zhangben")
        self.proc: subprocess.Popen | None = None

    def start(self, env: dict[str, str] | None = None, timeout: float = 120) -> Zygote:
        env = dict(base_env() if env is None else env)
        env["PATH"] = f"{self.bin}{os.pathsep}{env['PATH']}"  # as the pages' PATH is
        install_shim(self.bin, self.socket, sys.executable, self.script)
        if os.path.exists(self.socket):  # an earlier server's: ready is when it appears
            os.unlink(self.socket)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, self.socket, self.script],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # no terminal: its signals never reach the children
            )
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the zygote exited ({self.proc.returncode}):\n{self.log_text()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the zygote did not start in {timeout} s:\n{self.log_text()}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def main() -> None:
    socket_path, script = sys.argv[1], sys.argv[2]
    sys.path[0:1] = []  # tests/docs is not on the children's path (theirs is SCRIPT's folder)
    started = time.monotonic()
    for name in PRELOAD:
        importlib.import_module(name)
    check_clean()
    gc.collect()
    gc.freeze()  # the preloaded objects stay shared with the children (no copy-on-write by gc)
    server = Server(socket_path, script)
    signal.signal(signal.SIGTERM, server.stop)
    signal.signal(signal.SIGINT, server.stop)
    _log(f"preloaded {len(sys.modules)} modules in {time.monotonic() - started:.2f} s")
    server.serve()


if __name__ == "__main__":
    main()
