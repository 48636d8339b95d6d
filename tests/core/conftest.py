"""Fixtures of the core tests."""

import pytest


@pytest.fixture
def two(ledger):
    """Two open accounts, ACC001 with 1000 in it and ACC002 (a backup account) empty."""
    ledger.open_account(number="ACC001", name="测试账户")
    ledger.open_account(number="ACC002", name="备用账户", type="backup")
    ledger.income("ACC001", "1000")
    return ledger
