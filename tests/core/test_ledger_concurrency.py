"""16 workers × 300 random transfers among 10 accounts, on real connections."""

import random
import threading
from decimal import Decimal

import pytest

from zhangben.core import errors

WORKERS, TRANSFERS, ACCOUNTS = 16, 300, 10


def test_concurrent_transfers_lose_nothing(ledger):
    numbers = [f"C{i:02d}" for i in range(ACCOUNTS)]
    for n in numbers:
        ledger.open_account(number=n, name=n)
        ledger.income(n, "100")
    failures: list[BaseException] = []
    refused = [0]
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(TRANSFERS):
            a, b = rng.sample(numbers, 2)
            try:
                ledger.transfer(a, b, Decimal(rng.randint(1, 4000)) / 100)
            except errors.InsufficientFunds:
                with lock:
                    refused[0] += 1
            except BaseException as exc:  # noqa: BLE001 - any other error fails the test
                failures.append(exc)
                return

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    report = ledger.verify()
    assert report.ok, report.problems
    balances = [a.balance for a in ledger.accounts()]
    assert sum(balances) == Decimal(100 * ACCOUNTS)  # conserved
    assert min(balances) >= 0  # overdraft is off
    transfers = ledger.entries(with_total=True, limit=1).total - ACCOUNTS
    assert transfers == 2 * (WORKERS * TRANSFERS - refused[0])


def test_sqlite_writers_take_turns_on_the_lock_file(ledger):
    """A writer waits for its turn on ``<db>.writer-lock`` (here held by the test, as another
    process would) and goes ahead as soon as it is released; nothing is lost."""
    import fcntl
    import os
    import time

    if ledger.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL writers queue on row locks")
    ledger.open_account(number="L1", name="L1")
    fd = os.open(f"{ledger.engine.url.database}.writer-lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (ledger.income("L1", "5"), done.set()))
    thread.start()
    try:
        assert not done.wait(0.5)  # still waiting for its turn
    finally:
        released = time.monotonic()
        os.close(fd)
    assert done.wait(5)
    assert time.monotonic() - released < 0.5
    thread.join()
    assert ledger.balance("L1") == Decimal(5)
    assert ledger.verify().ok
