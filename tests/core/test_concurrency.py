"""16 workers × 300 random transfers among 10 accounts, on real connections."""

import random
import threading
from decimal import Decimal

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
