"""Accounts: numbers are unique and well formed, names are not blank, currencies are codes."""

import pytest

from zhangben.core import errors


def test_account_validation(ledger):
    ledger.open_account(number="0000000000000001", name="a")
    with pytest.raises(errors.Conflict):
        ledger.open_account(number="0000000000000001", name="b")
    with pytest.raises(errors.ValidationError):
        ledger.open_account(number="bad number!", name="b")
    with pytest.raises(errors.ValidationError):
        ledger.open_account(number="X1", name="b", currency="yuan")
    with pytest.raises(errors.ValidationError):
        ledger.open_account(number="X1", name="  ")
