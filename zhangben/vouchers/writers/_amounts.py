"""Money as the files want it: a book's integer minor units as a decimal number."""

from __future__ import annotations

from decimal import Decimal


def decimal(minor: int, decimals: int) -> Decimal:
    """``1234, 2`` → ``Decimal("12.34")``: exact, with the book's places."""
    return Decimal(minor).scaleb(-decimals)


def number(minor: int, decimals: int) -> int | float:
    """The amount as a JSON number: an int when whole (``100``), else a float, exact to the
    places for any amount below 2**53 minor units (its repr is the shortest decimal, ``12.34``)."""
    whole, part = divmod(minor, 10**decimals)
    return whole if not part else minor / 10**decimals
