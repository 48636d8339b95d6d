"""The writers' one error: an uploaded template that is not the product's format."""

from __future__ import annotations

from zhangben.core.errors import ValidationError


class TemplateError(ValidationError):
    """The customer's template cannot drive a writer. ``field`` is ``template``; the message
    names what is missing or wrong (a sheet, a key, a header, a DBF field)."""

    code = "voucher_template_invalid"

    def __init__(self, product: str, message: str) -> None:
        super().__init__("template", f"{product}: {message}")
        self.product = product


class DimensionUnknown(ValidationError):
    """A line's 核算维度 has no place in the product's file: its name is neither one the writer
    maps nor the product's own code for it."""

    code = "voucher_dimension_unknown"

    def __init__(self, product: str, names: list[str], known: list[str]) -> None:
        super().__init__(
            "aux",
            f"{product}: no place for the dimensions {', '.join(names)} "
            f"(known: {', '.join(known)})",
        )
        self.product = product
