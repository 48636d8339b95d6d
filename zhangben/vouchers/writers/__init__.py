"""One module per target product; each is pure: ``write(book, vouchers, template) -> bytes``.

``WRITERS`` maps a book's ``product`` to its writer; ``template`` is the bytes of the file the
customer exported from their own system. A writer that uses one (``needs_template``) falls back
to its shipped stand-in (``default_template()``, ``zhangben/vouchers/templates/``) when given
None; the others ignore it. ``check_template`` raises :class:`TemplateError` naming what is
wrong, so a book can refuse a bad upload before it is stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from zhangben.vouchers.model import BookHead, Voucher
from zhangben.vouchers.writers.errors import TemplateError


class Writer(Protocol):
    product: str
    suffix: str  # ".xlsx"
    media_type: str
    needs_template: bool

    def check_template(self, template: bytes) -> None: ...

    def write(
        self, book: BookHead, vouchers: Sequence[Voucher], template: bytes | None
    ) -> bytes: ...


def _registry() -> dict[str, Writer]:
    from zhangben.vouchers.writers import (
        generic_xlsx,
        k3cloud_json,
        k3cloud_xlsx,
        kingdee_dbf,
        u8_xml,
    )  # fmt: skip

    writers: list[Writer] = [
        k3cloud_xlsx.WRITER, k3cloud_json.WRITER, kingdee_dbf.WRITER, u8_xml.WRITER,
        generic_xlsx.WRITER,
    ]  # fmt: skip
    return {w.product: w for w in writers}


WRITERS: dict[str, Writer] = _registry()

__all__ = ["WRITERS", "TemplateError", "Writer"]
