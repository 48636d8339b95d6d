"""A throwaway PostgreSQL cluster for the test suite (and the benchmarks).

``initdb`` and ``postgres`` refuse to run as root, so as root the cluster is created and run
as the ``postgres`` system user (``runuser``) in a directory that user owns. Set
``ZHANGBEN_TEST_DATABASE_URL`` to use an existing server instead.

A test cluster (not durable) keeps its files in memory, on ``/dev/shm``, when that is a
tmpfs with room: creating a database copies about 1,000 files, which took 0.5 s on the
development machine's ext4 (mounted ``discard``) and 0.03 s on tmpfs, and the suite creates
one per PostgreSQL test. ``ZHANGBEN_TEST_PG_DIR`` names another parent directory; a durable
cluster (the restart test, the benchmarks) stays on disk, in ``TMPDIR``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass


def find_bindir() -> str:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "pg_ctl")):
            return candidate
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(found)
    raise RuntimeError(
        "PostgreSQL server binaries (pg_ctl) not found: run `make test`, "
        "which installs them, or `apt-get install -y postgresql`"
    )


#: a test cluster goes to /dev/shm only when this much is free there
SHM_MIN_FREE = 2 * 1024**3


def cluster_parent(durable: bool) -> str | None:
    """The directory a cluster's directory is made in (None: ``TMPDIR``'s)."""
    given = os.environ.get("ZHANGBEN_TEST_PG_DIR")
    if given:
        return given
    if durable or not os.access("/dev/shm", os.W_OK):
        return None
    with open("/proc/mounts", encoding="utf-8") as mounts:
        tmpfs = any(line.split()[1:3] == ["/dev/shm", "tmpfs"] for line in mounts)
    st = os.statvfs("/dev/shm")
    return "/dev/shm" if tmpfs and st.f_bavail * st.f_frsize >= SHM_MIN_FREE else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    datadir: str
    port: int
    bindir: str
    as_user: str | None
    options: str = ""

    @property
    def base_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def url(self, dbname: str = "postgres") -> str:
        return f"{self.base_url}/{dbname}"

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

    def crash(self) -> None:
        """``pg_ctl stop -m immediate``: the server quits without a checkpoint (as on a crash);
        the cluster stays, and :meth:`restart` recovers it."""
        self._run(f"{self.bindir}/pg_ctl", "-D", self.datadir, "-m", "immediate", "stop")

    def restart(self) -> None:
        """Start the stopped cluster again, on the same port and with the same settings."""
        root = os.path.dirname(self.datadir)
        self._run(
            f"{self.bindir}/pg_ctl",
            "-D",
            self.datadir,
            "-l",
            os.path.join(root, "log"),
            "-w",
            "-o",
            self.options,
            "start",
        )

    def stop(self) -> None:
        try:
            self._run(f"{self.bindir}/pg_ctl", "-D", self.datadir, "-m", "immediate", "stop")
        finally:
            shutil.rmtree(os.path.dirname(self.datadir), ignore_errors=True)


def start(*, durable: bool = False, extra: tuple[str, ...] = ()) -> PgServer:
    """Start a cluster on a free loopback port. ``durable=False`` turns fsync off: fine for
    tests (a crash loses the throwaway cluster anyway), never for benchmarks."""
    bindir = find_bindir()
    as_user = "postgres" if os.geteuid() == 0 else None
    root = tempfile.mkdtemp(prefix="zb-pg-", dir=cluster_parent(durable))
    datadir = os.path.join(root, "data")
    if as_user:
        shutil.chown(root, user=as_user)
    server = PgServer(datadir, _free_port(), bindir, as_user)
    server._run(
        f"{bindir}/initdb",
        "-D",
        datadir,
        "-U",
        "postgres",
        "-A",
        "trust",
        "--no-sync",
        "-E",
        "UTF8",
        "--locale=C",
    )
    options = [
        "-c listen_addresses=127.0.0.1",
        f"-c unix_socket_directories={root}",
        "-c max_connections=200",
        "-c shared_buffers=256MB",
    ]
    if not durable:
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    options += list(extra)
    for attempt in range(3):  # the free port may be taken before postgres binds it (xdist)
        server.options = " ".join([f"-p {server.port}", *options])
        try:
            server.restart()
            break
        except subprocess.CalledProcessError:
            if attempt == 2:
                raise
            server.port = _free_port()
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return server
