"""How the suite runs in parallel: on pytest-xdist's workers (``-n auto --dist loadgroup`` in
pyproject.toml; ``-n 0`` runs everything in one process).

* ``-n auto`` is one worker more than the cores: the tests also wait (on PostgreSQL, on the
  servers and subprocesses they start), so a third worker keeps two cores busy.
* Each worker has its own PostgreSQL cluster (``pg_base_url``), its own templates and
  ``tmp_path``s; the databases it makes are named after its process.
* Tests are handed out one at a time, except the groups below, each handed to one worker as a
  whole (the largest first): tests/reliability (servers killed, databases stopped, bursts and
  memory measured under load) runs one test after another on one worker, as it would alone;
  each module of tests/e2e stays on one worker (test_shopex_live serves one server per module),
  and so do the console's browser tests (one Chromium and one server per backend).
  The groups go by the tests' paths, not by ``xdist_group`` marks: pytest-xdist 3.8 carries
  those in a nodeid suffix that pytest 9.2 drops (pytest-xdist issue 1386).
* Then the docs pages go first, longest first, so that no worker starts a long page last.
"""

from __future__ import annotations

import os

import pytest

RELIABILITY, E2E, DOCS_PAGES = "tests/reliability/", "tests/e2e/", "tests/docs/test_examples.py"
#: one browser and one server per backend, started once for the module
BROWSER = "tests/console/test_browser.py"


def group_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its group, or the test itself."""
    if nodeid.startswith(RELIABILITY):
        return "reliability"
    if nodeid.startswith((E2E, BROWSER)):
        return nodeid.split("::")[0]
    return nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    return len(os.sched_getaffinity(0)) + 1


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class Groups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            marked = super()._split_scope(nodeid)  # an xdist_group mark, where pytest keeps it
            return marked if marked != nodeid else group_of(nodeid)

    return Groups(config, log)


def pytest_collection_modifyitems(config, items):
    if hasattr(config, "workerinput"):  # on a worker: the order it reports is the schedule's
        items.sort(key=lambda item: not item.nodeid.startswith(DOCS_PAGES))
