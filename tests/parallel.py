"""How the suite runs in parallel: on pytest-xdist's workers (``-n auto --dist loadgroup`` in
pyproject.toml; ``-n 0`` runs everything in one process).

* ``-n auto`` is one worker more than the cores: the tests also wait (on PostgreSQL, on the
  servers and subprocesses they start), so a third worker keeps two cores busy.
* Each worker has its own PostgreSQL cluster (``pg_base_url``), its own templates and
  ``tmp_path``s; the databases it makes are named after its process.
* Tests are handed out one at a time, except the groups below, each handed to one worker as a
  whole: tests/reliability (servers killed, databases stopped, bursts and
  memory measured under load) runs one test after another on one worker, as it would alone;
  each module of tests/e2e stays on one worker (test_shopex_live serves one server per module),
  and so do the console's browser tests (one Chromium and one server per backend).
  The groups go by the tests' paths, not by ``xdist_group`` marks: pytest-xdist 3.8 carries
  those in a nodeid suffix that pytest 9.2 drops (pytest-xdist issue 1386).
* The units are handed out in the order the workers collect them (not xdist's largest group
  first): the known slow ones first, longest first (:data:`SLOW`), so that none starts last and
  holds up the end of the run; then the other docs pages, then the rest.
"""

from __future__ import annotations

import os

import pytest

RELIABILITY, E2E, DOCS_PAGES = "tests/reliability/", "tests/e2e/", "tests/docs/test_examples.py"
#: one browser and one server per backend, started once for the module
BROWSER = "tests/console/test_browser.py"
PAGE = DOCS_PAGES + "::test_examples_run_as_written"

#: Seconds the slowest units took on a loaded 2-core machine (``--durations`` of tests/docs, and
#: of tests/reliability, tests/e2e and the browser tests; a group: the sum of its tests). Only
#: their order matters: keep those above a minute or so, and add a unit that grows past them.
SLOW = {
    "reliability": 175,
    BROWSER: 96,
    # the README's calls are real processes (a fresh `make run`); the other pages' `zhangben`
    # runs forked from the docs test's zygote (tests/docs/zygote.py), cli.md's 113 calls too
    f"{PAGE}[README.md]": 59,
    f"{PAGE}[docs/cli.md]": 50,
    "tests/e2e/test_rest_concurrency.py": 47,
}
#: a docs page not in SLOW: after those, before the tests that are not pages
PAGE_SECONDS = 30


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


def expected_seconds(unit: str) -> float:
    """How long a unit is known to take (:data:`SLOW`); a docs page not named there, a little."""
    return SLOW.get(unit, PAGE_SECONDS if unit.startswith(PAGE) else 0)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    # the units in the order the workers collected them (pytest_collection_modifyitems below),
    # not by their number of tests: a docs page is one test, and the longest unit
    config.option.loadscopereorder = False

    class Groups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            marked = super()._split_scope(nodeid)  # an xdist_group mark, where pytest keeps it
            return marked if marked != nodeid else group_of(nodeid)

    return Groups(config, log)


def pytest_collection_modifyitems(config, items):
    if hasattr(config, "workerinput"):  # on a worker: the order it reports is the schedule's
        items.sort(key=lambda item: -expected_seconds(group_of(item.nodeid)))  # stable
