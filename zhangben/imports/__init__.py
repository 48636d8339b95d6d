"""Bill imports: one extractor module per platform format (``formats/``), reading files
(``files``), extraction and the format registry (``extract``), typed rows (``rows``), and the
one import runner (``runner``)."""

from zhangben.imports.extract import Extraction, detect_format, extract, formats, get_format
from zhangben.imports.files import normalize_header, open_table
from zhangben.imports.formats.bill_format import BillFormat
from zhangben.imports.rows import (
    BillFormatError,
    BillRow,
    BillSummary,
    parse_amount,
    parse_time,
    unique_key,
)

__all__ = [
    "BillFormat",
    "BillFormatError",
    "BillRow",
    "BillSummary",
    "Extraction",
    "detect_format",
    "extract",
    "formats",
    "get_format",
    "normalize_header",
    "open_table",
    "parse_amount",
    "parse_time",
    "unique_key",
]
