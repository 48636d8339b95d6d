"""The docs test's ``zhangben``: a shim that runs each call forked from a pre-imported
interpreter (the ``zygote`` fixture, tests/docs/zygote.py), unless ``ZHANGBEN_DOCS_FORK=0``."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.docs.zygote import Zygote


@pytest.fixture(scope="session")
def zygote(tmp_path_factory, request):
    """The fork server of this pytest process (one per xdist worker), its socket in TMPDIR;
    its log is kept in pytest's base temporary directory (``zygote-<worker>.log``)."""
    workdir = Path(tempfile.mkdtemp(prefix="zb-zygote-"))  # short: a socket path has 108 bytes
    server = Zygote(workdir).start()
    try:
        yield server
    finally:
        server.stop()
        worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
        shutil.copy(server.log, tmp_path_factory.getbasetemp() / f"zygote-{worker}.log")
        for path in sorted(workdir.rglob("*"), reverse=True):
            path.unlink() if not path.is_dir() else path.rmdir()
        workdir.rmdir()
