"""A database that cannot serve, as every surface answers it: HTTP 503 with ``Retry-After``
in the surface's own format, and one log line per failure class instead of a stack trace per
request.

:func:`unavailable` classifies an exception (:func:`zhangben.store.engine.unavailable` says
which exceptions mean "the database cannot serve now") and logs it: the first failure of a
class logs one WARNING line, then that class is quiet for :data:`LOG_EVERY` seconds, after
which its next failure logs one line that also says how many were not logged.
"""

from __future__ import annotations

import logging
import threading
import time

from zhangben.store.engine import unavailable as _classify

log = logging.getLogger("zhangben.outage")

#: Seconds a client is asked to wait (``Retry-After``).
RETRY_AFTER = 2
#: Seconds between two log lines of the same failure class.
LOG_EVERY = 60.0

_lock = threading.Lock()
_last: dict[str, float] = {}
_suppressed: dict[str, int] = {}


def unavailable(exc: BaseException, where: str) -> int | None:
    """``Retry-After`` seconds when ``exc`` means the database cannot serve now (and the
    failure is logged, rate-limited per class), else None (a fault: the caller logs it).
    ``where`` names the surface or path (never a query string: it may hold a token)."""
    found = failure(exc, where)
    return None if found is None else found[1]


def failure(exc: BaseException, where: str) -> tuple[str, int] | None:
    """As :func:`unavailable`, with the failure class: ``(class, Retry-After seconds)``."""
    kind = _classify(exc)
    if kind is None:
        return None
    now = time.monotonic()
    with _lock:
        last = _last.get(kind)
        if last is not None and now - last < LOG_EVERY:
            _suppressed[kind] = _suppressed.get(kind, 0) + 1
            return kind, RETRY_AFTER
        _last[kind] = now
        more = _suppressed.pop(kind, 0)
    log.warning(
        "database unavailable (%s) on %s: answering 503%s",
        kind,
        where,
        f"; {more} more since the last line" if more else "",
    )
    return kind, RETRY_AFTER


def reset() -> None:
    """Forget the log state (tests)."""
    with _lock:
        _last.clear()
        _suppressed.clear()
