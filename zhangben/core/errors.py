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


class PeriodClosed(LedgerError):
    """A write dated into a closed period (rule R13): ``period`` is the month it is dated in
    (``yyyy-mm``), ``shop`` the closed period's shop (``None``: the whole ledger),
    ``closed_through`` the latest closed month covering the account."""

    code = "period_closed"

    def __init__(self, message: str, *, period: str, shop: str | None, closed_through: str) -> None:
        super().__init__(message)
        self.period, self.shop, self.closed_through = period, shop, closed_through


class PeriodNotReady(LedgerError):
    """A close refused by its checks: ``findings`` lists what stands in the way (a close with
    ``force`` acknowledges them instead)."""

    code = "period_not_ready"

    def __init__(self, message: str, findings: list) -> None:
        super().__init__(message)
        self.findings = findings


class PeriodState(LedgerError):
    """A close or reopen that the periods' state does not allow (closed already, an earlier
    month still open, not the latest closed period, a month not over yet)."""

    code = "period_state"


class OrderFileError(ValidationError):
    """An order file (reconciliation's expected lines) refused whole: ``line`` and ``column``
    name the first bad cell (``line`` None: the file or its header)."""

    code = "order_file"

    def __init__(self, line: int | None, column: str | None, message: str) -> None:
        where = f"line {line}" if line is not None else "file"
        if column:
            where += f", {column}"
        super().__init__(where, message)
        self.line, self.column = line, column


class ActionFileError(ValidationError):
    """A queue's workbook of actions (reconciliation's Excel round trip) refused: ``problems``
    holds ``(where, message)`` of every problem found, ``where`` naming the sheet row and the
    column (``file``: the file or its header). Nothing has been applied."""

    code = "action_file"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        where, message = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(where, message + more)
        self.problems = problems


class OverApplied(LedgerError):
    """A match that would apply a line beyond its amount (or one already matched)."""

    code = "over_applied"


class ReconState(LedgerError):
    """A reconciliation action the item's or group's state does not allow (undo of a group
    undone already, ignore of a matched row, void of a matched line)."""

    code = "recon_state"


class SecondApproverNeeded(LedgerError):
    """A forced match above the approval amount approved or rejected by the person who forced
    it: a second, different person must decide."""

    code = "second_approver"


class VoucherInvalid(LedgerError):
    """Voucher input that cannot be used (vouchers.md): an unmapped flow, a 科目 not a leaf or
    not in the book, a rule whose lines do not balance, a template not in the product's format,
    a chart with duplicate codes. ``problems`` names each thing wrong."""

    code = "voucher_invalid"

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class VoucherState(LedgerError):
    """A voucher request the batches' state does not allow: a period already vouchered, the
    book's period closed (结账), an exported batch edited or voided."""

    code = "voucher_state"
