"""Opening a customer's xlsx template: refused as not a workbook, or as a ZIP bomb, before
openpyxl inflates anything (the bill importer's member checks, with a template's limits)."""

from __future__ import annotations

import io
import zipfile
import zlib

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook import Workbook

from zhangben.imports.files import Limits, MiB, check_members
from zhangben.imports.rows import BillFormatError
from zhangben.vouchers.writers.errors import TemplateError

#: a template is a header or two: far below a bill's limits
LIMITS = Limits(inflated=64 * MiB)
_DAMAGED = (InvalidFileException, zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError,
            ValueError, SyntaxError)  # fmt: skip


def open_template(product: str, template: bytes) -> Workbook:
    """The template as a read-only workbook (close it after use)."""
    try:
        with zipfile.ZipFile(io.BytesIO(template)) as zf:
            check_members(zf.infolist(), LIMITS, kind="xlsx")
        return load_workbook(io.BytesIO(template), read_only=True)
    except BillFormatError as exc:
        raise TemplateError(product, exc.message) from None
    except _DAMAGED as exc:
        raise TemplateError(product, f"not an xlsx workbook ({type(exc).__name__})") from None
