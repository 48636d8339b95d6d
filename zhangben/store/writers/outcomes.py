"""What a writer reports back to the core when the database, not Python, decided.

A writer never words a refusal: it names the rule (``R6`` … ``R11`` of
``zhangben.core.postings.rules``) and the facts, and the core raises the error.
"""

from __future__ import annotations


class RuleBroken(Exception):  # noqa: N818 - a report, not an error the caller sees
    """A rule failed inside SQL: ``rule`` is its code, ``facts`` what the rule's wording needs,
    ``position`` the failing item (``None`` for a single posting; a batch's index; a bill
    row's ``(line, flow number, order number)``)."""

    def __init__(self, rule: str, *facts, position: object = None) -> None:
        super().__init__(rule, *facts)
        self.rule = rule
        self.facts = facts
        self.position = position


class KeyRace(Exception):  # noqa: N818
    """A concurrent transaction committed one of the batch's idempotency keys first; the
    transaction was rolled back and may be run again (it then replays or conflicts)."""


class ReversedTwice(Exception):  # noqa: N818
    """An entry was reversed concurrently (the unique ``reverses_entry_id`` refused ours)."""
