"""The registry the generator calls: one writer per product, each honest about its file, and an
empty batch still a file its product reads."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook

from tests.vouchers.writers.test_kingdee_dbf import _read as read_dbf
from zhangben.core.errors import ValidationError
from zhangben.vouchers.writers import WRITERS, TemplateError

PRODUCTS = {
    "k3cloud_xlsx": (".xlsx", True),
    "k3cloud_json": (".json", False),
    "kingdee_dbf": (".dbf", True),
    "u8_xml": (".xml", False),
    "generic_xlsx": (".xlsx", True),
}


def test_one_writer_per_product():
    assert set(WRITERS) == set(PRODUCTS)
    for product, writer in WRITERS.items():
        assert writer.product == product
        assert (writer.suffix, writer.needs_template) == PRODUCTS[product]
        assert writer.media_type


def test_template_error_is_a_validation_error_with_a_stable_code():
    assert issubclass(TemplateError, ValidationError)
    assert TemplateError.code == "voucher_template_invalid"


@pytest.mark.parametrize("product", sorted(PRODUCTS))
def test_an_empty_batch_is_still_a_readable_file(book, product):
    data = WRITERS[product].write(book, [], None)
    if product.endswith("xlsx"):
        ws = load_workbook(io.BytesIO(data)).worksheets[0]
        assert ws.max_row == (2 if product == "k3cloud_xlsx" else 1)  # the header rows only
    elif product == "k3cloud_json":
        assert json.loads(data) == {"formid": "GL_VOUCHER", "data": {"Model": []}}
    elif product == "u8_xml":
        assert list(ET.fromstring(data)) == []
    else:
        assert read_dbf(data) == []
