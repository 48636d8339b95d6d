"""The ledger's errors. Each has a stable ``code`` that every API surface maps to its own format."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class: a request the ledger refuses. Nothing has been written when it is raised."""

    code = "ledger_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(LedgerError):
    code = "validation"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class InvalidAmount(ValidationError):
    code = "invalid_amount"


class NotFound(LedgerError):
    code = "not_found"


class AccountNotFound(NotFound):
    code = "account_not_found"

    def __init__(self, ref: object, message: str | None = None) -> None:
        super().__init__(message or f"account {ref} does not exist")
        self.ref = ref


class EntryNotFound(NotFound):
    code = "entry_not_found"


class TransferNotFound(NotFound):
    code = "transfer_not_found"


class AccountClosed(LedgerError):
    code = "account_closed"


class CurrencyMismatch(LedgerError):
    code = "currency_mismatch"


class InsufficientFunds(LedgerError):
    code = "insufficient_funds"


class SameAccount(LedgerError):
    code = "same_account"


class AlreadyReversed(LedgerError):
    code = "already_reversed"


class Conflict(LedgerError):
    """Generic state conflict (e.g. a duplicate account number)."""

    code = "conflict"


class IdempotencyConflict(LedgerError):
    """The idempotency key was used before with a different request."""

    code = "idempotency_conflict"
