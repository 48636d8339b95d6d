"""金蝶云星空 GL_VOUCHER BatchSave JSON: FNumber objects, the required fields, dimensions as
FDETAILID__<flex>, amounts exact; a dimension with no flex field refused."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest

from tests.vouchers.writers.golden import check_golden
from zhangben.vouchers.writers import WRITERS
from zhangben.vouchers.writers.errors import DimensionUnknown

WRITER = WRITERS["k3cloud_json"]


def _read(data: bytes) -> dict:
    return json.loads(data.decode("utf-8"), parse_float=Decimal)


def test_vouchers_as_batch_save_models(book, vouchers):
    data = WRITER.write(book, vouchers, None)
    check_golden("k3cloud.json", data, _read, exact=True)
    document = _read(data)
    assert document["formid"] == "GL_VOUCHER"
    models = document["data"]["Model"]
    assert [m["FVOUCHERGROUPNO"] for m in models] == ["1", "2", "3", "4"]
    first = models[0]
    assert first["FAccountBookID"] == {"FNumber": "001"}
    assert first["FVOUCHERGROUPID"] == {"FNumber": "PRE001"}
    assert (first["FYEAR"], first["FPERIOD"], first["FDate"]) == (2026, 10, "2026-10-01")
    assert first["FACCBOOKORGID"] == {"FNumber": "100"}
    for model, voucher in zip(models, vouchers, strict=True):
        for entry, line in zip(model["FEntity"], voucher.lines, strict=True):
            assert entry["FEXPLANATION"] == line.summary
            assert entry["FACCOUNTID"] == {"FNumber": line.subject_code}
            assert entry["FCURRENCYID"] == {"FNumber": "PRE001"}
            assert entry["FEXCHANGERATETYPE"] == {"FNumber": "HLTX01_SYS"}
            assert entry["FDEBIT"] == Decimal(line.debit) / 100
            assert entry["FCREDIT"] == Decimal(line.credit) / 100
        debit = sum(e["FDEBIT"] for e in model["FEntity"])
        assert debit == sum(e["FCREDIT"] for e in model["FEntity"])
        assert debit == Decimal(voucher.debit_total) / 100
    assert models[0]["FEntity"][1]["FDetailID"] == {"FDETAILID__FFLEX6": {"FNumber": "TM-A"}}
    assert models[1]["FEntity"][0]["FDetailID"] == {"FDETAILID__FFLEX5": {"FNumber": "电商部"}}
    assert "FDetailID" not in models[0]["FEntity"][0]
    assert models[3]["FEntity"][0]["FDEBIT"] == Decimal("-123.45")  # the red voucher


def test_a_tenant_flex_code_passes_and_an_unknown_dimension_is_refused(book, vouchers):
    line = dataclasses.replace(vouchers[0].lines[1], aux={"FF100002": "P-01"})
    voucher = dataclasses.replace(vouchers[0], lines=(vouchers[0].lines[0], line))
    model = _read(WRITER.write(book, [voucher], None))["data"]["Model"][0]
    assert model["FEntity"][1]["FDetailID"] == {"FDETAILID__FF100002": {"FNumber": "P-01"}}
    line = dataclasses.replace(line, aux={"仓库": "W1"})
    voucher = dataclasses.replace(vouchers[0], lines=(vouchers[0].lines[0], line))
    with pytest.raises(DimensionUnknown, match="no place for the dimensions 仓库"):
        WRITER.write(book, [voucher], None)
