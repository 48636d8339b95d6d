"""A small in-process cache with a time to live, for credential look-ups on the hot path.

Each worker process keeps its own; an entry is served for at most ``ttl`` seconds after it
was loaded from the database, so a change made elsewhere (a revoked API key, a disabled
integrator — by the CLI or another worker) takes effect in every process within ``ttl``
seconds. ``ttl`` 0 disables caching. Only successful look-ups are cached (an unknown
credential costs a database look-up every time, as before), and the cache is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

MAX_ENTRIES = 10_000


class TtlCache(Generic[K, V]):
    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = max(0.0, float(ttl))
        self.max_entries = max_entries
        #: The clock (monotonic seconds); tests replace it to step past the ttl.
        self.clock = clock
        self._items: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        if found[0] <= self.clock():
            self._items.pop(key, None)
            return None
        return found[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        if len(self._items) >= self.max_entries and key not in self._items:
            self._expire()
            if len(self._items) >= self.max_entries:
                self._items.clear()
        self._items[key] = (self.clock() + self.ttl, value)

    def discard(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def _expire(self) -> None:
        now = self.clock()
        for key, (expires, _) in list(self._items.items()):
            if expires <= now:
                self._items.pop(key, None)
