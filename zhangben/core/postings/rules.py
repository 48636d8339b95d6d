"""The rules every posting obeys, written once, in precedence order (invariant I5).

A request is refused by the first rule it breaks, and nothing is written. The planner
(:mod:`.plan`) applies the rules that need no account state (R1–R4) while it builds a plan; the
rules over locked account state (R6–R11) run here, in plain Python, over the columns of a plan.
R13 (no entry dated into a closed period) is the database's own: a trigger on ``entries``
checks every row as it is written, whoever writes it, and this module words what it reports.
This module is the reference: the two writers that run rules inside SQL (``zb_post`` on
PostgreSQL, the staged bill writer) render R6–R11 in the same order and report which rule
failed, and this module words the error. ``tests/conformance`` proves the renderings equal.

Errors inside a batch name the item (``request 3: …``, ``line 12 (flow F): …``).
"""

from __future__ import annotations

from dataclasses import dataclass

from zhangben.core import errors
from zhangben.core.money import MAX_BALANCE_MINOR, format_amount, from_minor


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    text: str


#: The catalogue, in precedence order (docs/ledger.md lists it; a test keeps both in step).
RULES = (
    Rule("R1", "amount", "an amount is positive, at most 99,999,999,999,999.9999, 4 places"),
    Rule(
        "R2",
        "text",
        "every text fits its column; a key, trade number or source is not blank; "
        "a trade time carries a time zone",
    ),  # fmt: skip
    Rule(
        "R3",
        "chart",
        "category and subject exist, the subject is under the category, and "
        "both are of the posting's kind (or 'any')",
    ),  # fmt: skip
    Rule("R4", "two accounts", "a transfer names two different accounts"),
    Rule(
        "R5",
        "idempotency",
        "a key seen before replays the first posting when the request's "
        "fingerprint is the same, and is refused as a conflict otherwise",
    ),  # fmt: skip
    Rule("R6", "account exists", "every account named exists"),
    Rule("R7", "two accounts", "a transfer's accounts are two different accounts"),
    Rule("R8", "currency", "all accounts of a posting hold one currency"),
    Rule("R9", "open", "every account of a posting is open"),
    Rule(
        "R10",
        "overdraft",
        "a posting may not take an account below zero, or further below, "
        "unless the account allows overdraft",
    ),  # fmt: skip
    Rule("R11", "overflow", f"no balance exceeds ±{MAX_BALANCE_MINOR} minor units"),
    Rule(
        "R12",
        "reversal",
        "only an income, an expense or a whole transfer is reversed, once; "
        "a reversal is never reversed",
    ),  # fmt: skip
    Rule(
        "R13",
        "period",
        "no entry is dated into a closed period: an account takes no entry dated before the "
        "end of the latest closed month of its shop or of the whole ledger",
    ),  # fmt: skip
)

#: The longest text each field may hold (R2): the columns' sizes.
TEXT_SIZES = {
    "trade_no": 64,
    "external_id": 128,
    "idempotency_key": 180,
    "source": 32,
    "counterparty": 64,
    "description": 2000,
    "remark": 2000,
}


# -- the wording of each refusal (one place; the SQL writers report codes, not sentences) -----


def at(exc: errors.LedgerError, label: str | None) -> errors.LedgerError:
    """Name the failing item of a batch in its error."""
    if label:
        exc.message = f"{label}: {exc.message}"
        exc.args = (exc.message,)
    return exc


def text_error(name: str, size: int) -> errors.ValidationError:
    return errors.ValidationError(name, f"must be 1-{size} characters")


def same_account() -> errors.SameAccount:
    return errors.SameAccount("a transfer needs two different accounts")


def not_found(ref: object) -> errors.AccountNotFound:
    return errors.AccountNotFound(ref)


def currency_mismatch(currencies) -> errors.CurrencyMismatch:
    return errors.CurrencyMismatch(
        "accounts hold different currencies: " + ", ".join(sorted(set(currencies)))
    )


def closed(number: str) -> errors.AccountClosed:
    return errors.AccountClosed(f"account {number} is closed")


def insufficient_funds(number: str, balance: int, after: int) -> errors.InsufficientFunds:
    return errors.InsufficientFunds(
        f"account {number} holds {format_amount(from_minor(balance), 2)}; "
        f"this posting would take it to {format_amount(from_minor(after), 2)} "
        "and the account does not allow overdraft"
    )


def overflow(number: str) -> errors.ValidationError:
    return errors.ValidationError("amount", f"account {number}'s balance would overflow")


def period_closed(facts: dict, tz) -> errors.PeriodClosed:
    """R13, from the facts the period guard reports (``period_guard`` in the writers)."""
    when = facts["trade_time"].astimezone(tz)
    ends = facts["ends_at"].astimezone(tz)
    shop = facts["shop"] or None
    scope = f"shop {shop}" if shop else "the ledger"
    return errors.PeriodClosed(
        f"period {when:%Y-%m} is closed ({scope} is closed through {facts['month']}): "
        f"account {facts['account']} takes no entry dated {when:%Y-%m-%d %H:%M:%S}; "
        f"date a correction on or after {ends:%Y-%m-%d}",
        period=f"{when:%Y-%m}",
        shop=shop,
        closed_through=facts["month"],
    )


def key_conflict(key: str) -> errors.IdempotencyConflict:
    return errors.IdempotencyConflict(
        f"idempotency key {key!r} was already used for a different request"
    )


def key_twice(key: str) -> errors.IdempotencyConflict:
    return errors.IdempotencyConflict(f"idempotency key {key!r} is used twice")


# -- R2: text ----------------------------------------------------------------------------------


def check_text(name: str, value: str | None, *, blank_ok: bool = True) -> None:
    """R2 for one field (``None`` is always fine)."""
    if value is None:
        return
    size = TEXT_SIZES[name]
    if len(value) > size or (not blank_ok and not value.strip()):
        raise text_error(name, size)


# -- R3: the chart -----------------------------------------------------------------------------


def check_chart(
    index: dict[int, tuple[int | None, str]],
    kind: str,
    category_id: int | None,
    subject_id: int | None,
) -> int | None:
    """R3 against ``index`` (id → (parent id, kind)); returns the category id (taken from the
    subject when only the subject is given)."""
    if subject_id is not None:
        subject = index.get(subject_id)
        if subject is None:
            raise errors.NotFound(f"category or subject {subject_id} does not exist")
        if subject[0] is None:
            raise errors.ValidationError("subject_id", f"{subject_id} is a category, not a subject")
        if category_id is not None and subject[0] != category_id:
            raise errors.ValidationError(
                "subject_id", f"subject {subject_id} is not under category {category_id}"
            )
        if subject[1] not in (kind, "any"):
            raise errors.ValidationError(
                "subject_id", f"subject {subject_id} is for {subject[1]}, not {kind}"
            )
        category_id = subject[0]
    if category_id is not None:
        category = index.get(category_id)
        if category is None:
            raise errors.NotFound(f"category or subject {category_id} does not exist")
        if category[0] is not None:
            raise errors.ValidationError(
                "category_id", f"{category_id} is a subject, not a category"
            )
        if category[1] not in (kind, "any"):
            raise errors.ValidationError(
                "category_id", f"category {category_id} is for {category[1]}, not {kind}"
            )
    return category_id


# -- R5: idempotency ---------------------------------------------------------------------------


def sort_keys(
    keys: list, digests: list, known: dict[str, tuple[int, str | None]], labels
) -> tuple[list[int | None], list[int], dict[str, int]]:
    """R5 over a batch: (posting id of every replay, positions still to write, first position
    of each new key). ``known`` maps stored keys to (posting id, fingerprint); a key twice in
    the batch is one posting when both fingerprints agree."""
    result: list[int | None] = [None] * len(keys)
    todo: list[int] = []
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key is None:
            todo.append(i)
        elif key in known:
            if known[key][1] != digests[i]:
                raise at(key_conflict(key), labels(i))
            result[i] = known[key][0]
        elif key in first:
            if digests[first[key]] != digests[i]:
                raise at(key_twice(key), labels(i))
        else:
            first[key] = i
            todo.append(i)
    return result, todo, first


# -- R6–R11: over locked account state ---------------------------------------------------------


@dataclass(slots=True)
class AccountState:
    """An account row as read under its lock; ``balance`` follows the batch as it is checked."""

    id: int
    number: str
    name: str
    currency: str
    status: str
    allow_overdraft: bool
    balance: int
    shop_code: str | None


def check_states(plan, todo: list[int], states: dict) -> tuple[list[int], list[int]]:
    """R6–R11 for the postings ``todo`` of ``plan``, in order, chaining balances through
    ``states`` (ref → :class:`AccountState`, as locked). Returns the account id and the
    balance after of each leg of those postings, in order; fills in the counterparty of
    transfer legs."""
    after: list[int] = []
    leg_accounts: list[int] = []
    ends = plan.legs_end
    account, delta, counterparty, kind = plan.account, plan.delta, plan.counterparty, plan.kind
    for i in todo:
        start, end = (ends[i - 1] if i else 0), ends[i]
        try:
            accs = [states.get(account[leg]) for leg in range(start, end)]
            if None in accs:  # R6
                raise not_found(account[start + accs.index(None)])
            two = len(accs) == 2
            if two and accs[0] is accs[1] and kind[i] == "transfer":
                raise same_account()  # R7
            if two and accs[0].currency != accs[1].currency:
                raise currency_mismatch([accs[0].currency, accs[1].currency])  # R8
            for acc in accs:
                if acc.status != "open":
                    raise closed(acc.number)  # R9
            if two and accs[0] is accs[1]:
                moves = ((accs[0], delta[start] + delta[start + 1]),)
            else:
                moves = zip(accs, delta[start:end], strict=True)
            for acc, moved in moves:
                new = acc.balance + moved
                if new < 0 and new < acc.balance and not acc.allow_overdraft:
                    raise insufficient_funds(acc.number, acc.balance, new)  # R10
                if new > MAX_BALANCE_MINOR or new < -MAX_BALANCE_MINOR:
                    raise overflow(acc.number)  # R11
        except errors.LedgerError as exc:
            raise at(exc, plan.label(i)) from None
        for acc, leg in zip(accs, range(start, end), strict=True):
            acc.balance += delta[leg]
            after.append(acc.balance)
            leg_accounts.append(acc.id)
        if plan.cross[i]:
            counterparty[start] = accs[1].number
            counterparty[start + 1] = accs[0].number
    return leg_accounts, after


def flow_posted(posting_id: int) -> errors.IdempotencyConflict:
    """R5 for a bill row whose platform flow is posted already, but not as this row (the
    error's label names the row and its flow; the key is never shown: a JD row's is a hash)."""
    return errors.IdempotencyConflict(
        f"the flow was posted already (posting {posting_id}) to another account or with "
        "another amount"
    )
