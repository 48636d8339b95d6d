"""Money as the files want it: a book's integer minor units as a decimal number."""

from __future__ import annotations

from decimal import Decimal


def decimal(minor: int, decimals: int) -> Decimal:
    """``1234, 2`` → ``Decimal("12.34")``: exact, with the book's places."""
    return Decimal(minor).scaleb(-decimals)


def number(minor: int, decimals: int) -> float:
    """The amount as a float for a spreadsheet cell or a JSON number: exact to the places for
    any amount below 2**53 minor units (its repr is the shortest decimal, ``12.34``)."""
    return minor / 10**decimals
