"""Bill imports: one extractor module per platform format, plus (later) the shared runner."""

from .base import (
    BillFormat,
    BillFormatError,
    BillRow,
    BillSummary,
    detect_format,
    formats,
    get_format,
    parse_amount,
    parse_time,
    unique_key,
)
from .extraction import Extraction, extract
from .tables import normalize_header, open_table

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
