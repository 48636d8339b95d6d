"""Exports of the flow through the core, on SQLite and PostgreSQL: files read back (csv
module, openpyxl) hold the rows of the list for the same filters, page boundaries change
nothing, and bad file names are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from zhangben.core.errors import ValidationError
from zhangben.core.queries import EntryFilter
from zhangben.exports.flows import Format, export_flows, filename, format_of

from .support import books, csv_cells, read_csv, read_xlsx, same_rows, xlsx_cells

FILTERS = [
    EntryFilter(),
    EntryFilter(account_numbers=["ACC001"]),
    EntryFilter(shop_codes=["S001"], types=["income"]),
    EntryFilter(account_numbers=["ACC001", "ACC002"], sources=["manual", "internal"]),
    EntryFilter(find="T-3"),
    EntryFilter(account_numbers=["NOPE"]),
]


@pytest.fixture
def filled(ledger, tmp_path):
    books(ledger, tmp_path)
    return ledger


def listed(ledger, f):
    return ledger.entries(f, limit=10_000).items


@pytest.mark.parametrize("f", FILTERS, ids=range(len(FILTERS)))
def test_csv_holds_the_listed_rows(filled, f):
    data = b"".join(export_flows(filled, f, Format.csv))
    assert read_csv(data) == [csv_cells(e) for e in listed(filled, f)]


@pytest.mark.parametrize("f", FILTERS, ids=range(len(FILTERS)))
def test_xlsx_holds_the_listed_rows(filled, f, tmp_path):
    path = tmp_path / "flows.xlsx"
    path.write_bytes(b"".join(export_flows(filled, f, Format.xlsx)))
    same_rows(read_xlsx(path), [xlsx_cells(e) for e in listed(filled, f)])


def test_the_whole_ledger_with_its_hostile_texts(filled):
    rows = read_csv(b"".join(export_flows(filled, EntryFilter(), Format.csv)))
    # income, expense, two transfer legs, a reversal; the bill: its opening balance and rows
    assert len(rows) == 5 + 1 + 30
    by_trade = {r[2]: r for r in rows}
    first = by_trade["T-1"]
    assert first[13] == '\'=HYPERLINK("http://x")'  # never a formula in a spreadsheet
    assert first[14] == 'a,b "c"\n第二行' and first[15] == "销售\x01收款"
    assert first[7:10] == ["1000.1234", "", "1000.1234"]  # 收入, 支出, 余额: exact
    assert by_trade["T-2"][13] == "'+8613800000000" and by_trade["T-2"][15] == "'-退款"
    assert by_trade["T-2"][7:9] == ["", "12.5000"]


@pytest.mark.parametrize("fmt", list(Format))
def test_pages_change_nothing(filled, fmt, tmp_path):
    """Keyset pages of 4 rows (and a cursor) give the rows of one page of 5,000."""
    whole = b"".join(export_flows(filled, EntryFilter(), fmt))
    paged = b"".join(export_flows(filled, EntryFilter(), fmt, page_size=4))
    if fmt is Format.csv:
        assert paged == whole
    else:
        (tmp_path / "a.xlsx").write_bytes(whole)
        (tmp_path / "b.xlsx").write_bytes(paged)
        assert read_xlsx(tmp_path / "a.xlsx") == read_xlsx(tmp_path / "b.xlsx")
    items = listed(filled, EntryFilter())
    after = b"".join(export_flows(filled, EntryFilter(), Format.csv, before_id=items[9].id))
    assert read_csv(after) == [csv_cells(e) for e in items[10:]]


def test_progress_is_told_each_page(filled):
    told = []
    chunks = list(
        export_flows(filled, EntryFilter(), Format.csv, page_size=10, on_rows=told.append)
    )
    assert told == [10, 10, 10, 6] and len(chunks) == 4


def test_an_empty_export_is_a_header(filled, tmp_path):
    f = EntryFilter(account_numbers=["NOPE"])
    assert read_csv(b"".join(export_flows(filled, f, Format.csv))) == []
    (tmp_path / "e.xlsx").write_bytes(b"".join(export_flows(filled, f, Format.xlsx)))
    assert read_xlsx(tmp_path / "e.xlsx") == []


def test_format_by_suffix():
    assert format_of("a/流水.CSV") is Format.csv and format_of("x.xlsx") is Format.xlsx
    for bad in ("flows.xls", "flows", "flows.csv.gz"):
        with pytest.raises(ValidationError, match="must end in .csv or .xlsx"):
            format_of(bad)


def test_download_name():
    from datetime import UTC, datetime

    from .support import SH

    when = datetime(2026, 10, 31, 16, 30, tzinfo=UTC)
    assert filename(Format.xlsx, when, SH) == "流水-20261101-003000.xlsx"


@pytest.mark.parametrize(
    "f",
    [EntryFilter(), EntryFilter(account_numbers=["ACC001"]), EntryFilter(find="T-3")],
    ids=["all", "account", "find"],
)
def test_an_export_page_walks_an_index(filled, f):
    """Each page is one step from the cursor down an index: never a scan of the table."""
    from tests.core.test_queries_find import explain
    from zhangben.core.queries import list_statement

    statement, params = list_statement(f, 4999, 0, 10**9, "stream")
    text = explain(filled, statement, params)
    assert "SCAN entries" not in text and "Seq Scan on entries" not in text, text


def test_money_as_float_text_is_exact_to_fifteen_digits():
    """The CSV writes money below 10¹⁵ minor units with float formatting (faster): the same
    text as the exact conversion, for every magnitude and the edges."""
    import random

    from zhangben.exports.xlsx import money_text

    rng = random.Random(15)
    values = [0, 1, -1, 5, 9999, 10**15 - 1, -(10**15) + 1, 123456789012345]
    values += [rng.randrange(-(10**k), 10**k) for k in range(1, 16) for _ in range(2000)]
    for m in values:
        assert f"{m / 10000:.4f}" == money_text(m), m


COPY_FILTERS = [
    *FILTERS,
    EntryFilter(types=["income", "reversal"], direction="in"),
    EntryFilter(
        start=datetime(2024, 2, 1, 1, 30, tzinfo=UTC), end=datetime(2030, 1, 1, tzinfo=UTC)
    ),
]


@pytest.mark.parametrize("f", COPY_FILTERS, ids=range(len(COPY_FILTERS)))
@pytest.mark.parametrize("page_size", [5000, 4, 1])
def test_postgresql_renders_the_same_bytes(filled, backend, f, page_size):
    """On PostgreSQL the CSV is written by the database (COPY … FORMAT csv): byte for byte
    the file the Python path writes, hostile texts, empty texts, exact money and local times
    included, for every filter and page size; progress is told per page alike."""
    if backend != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    # the texts PostgreSQL would write otherwise: an empty one (quoted ""), a lone quote, a
    # carriage return, a CRLF inside a cell, and an amount beyond 15 digits
    filled.income(
        "ACC001",
        "123456789012.3456",
        trade_no="T-9",
        counterparty="",
        description='"',
        remark="a\r\nb\rc",
        trade_time=datetime(2024, 3, 10, 16, 0, 1, 999_999, tzinfo=UTC),
    )
    told = {True: [], False: []}
    data = {
        copy: b"".join(
            export_flows(
                filled, f, Format.csv, page_size=page_size, in_database=copy,
                on_rows=told[copy].append,
            )
        )
        for copy in (True, False)
    }  # fmt: skip
    assert data[True] == data[False]
    assert read_csv(data[True]) == [csv_cells(e) for e in listed(filled, f)]
    assert sum(told[True]) == sum(told[False]) == len(listed(filled, f))
    items = listed(filled, EntryFilter())
    after = {
        copy: b"".join(export_flows(filled, f, Format.csv, before_id=items[5].id, in_database=copy))
        for copy in (True, False)
    }
    assert after[True] == after[False]


def test_line_ends_outside_quotes_only():
    from zhangben.exports.flows import crlf

    assert crlf(b'1,a\n2,"x\ny"\n3,""""\n') == b'1,a\r\n2,"x\ny"\r\n3,""""\r\n'
    assert crlf(b"1,a\n2,b\n") == b"1,a\r\n2,b\r\n"
