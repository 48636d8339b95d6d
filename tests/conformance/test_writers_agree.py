"""The conformance suite: every scenario through every writer, on SQLite and PostgreSQL.

The rules are written once (``zhangben.core.postings.rules``, R1–R13) and rendered by the
writers that check inside SQL (``zb_post``, the staged bill writer), R13 by the period guard,
a trigger on ``entries`` that every writer meets. This suite is what keeps
them one: each scenario is sent through each way money comes in, and every way must give the
same error class and message (apart from the batch label naming the item), or the same rows.

Ways in (writers behind them):
  single     Ledger.income/expense/transfer — zb_post on PostgreSQL, the bulk writer on SQLite
  batch      Ledger.post_many([item])       — the bulk writer (pipelined locks + COPY on PostgreSQL)
  transfers  Ledger.transfer_many([spec])   — the same, planned as columns
  import     a one-row Alipay bill           — the staged writer (set-based SQL)

A scenario a way cannot express (a transfer in a bill file, a category in a transfer batch) is
not run through it; the table below says which.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from zhangben.core import errors
from zhangben.demo import bills as s
from zhangben.imports import BillFormatError
from zhangben.imports.runner import import_file

WAYS = ["single", "batch", "transfers", "import"]
BIG = "99999999999999.9999"
SHANGHAI = ZoneInfo("Asia/Shanghai")
_LABEL = re.compile(r"^(request \d+|line \d+(?: \(flow [^)]*\))?): ")


@dataclass
class Case:
    name: str
    request: dict
    error: type | None = None
    message: str | None = None
    ways: tuple = ("single", "batch", "transfers", "import")
    setup: list = field(default_factory=list)


def income(account="A", amount="10", **kw):
    return {"kind": "income", "account": account, "amount": amount, **kw}


def expense(account="A", amount="10", **kw):
    return {"kind": "expense", "account": account, "amount": amount, **kw}


def transfer(source="A", target="B", amount="10", **kw):
    return {"kind": "transfer", "from_account": source, "to_account": target, "amount": amount,
            **kw}  # fmt: skip


def _fill_big(ledger):
    for _ in range(9):
        ledger.income("BIG", BIG)


def _close_march(ledger):
    ledger.close_period("2024-03", actor="conformance")


#: a time in March 2024 (a bill row's time is local, Asia/Shanghai)
MARCH = datetime(2024, 3, 1, 9, 0, 0, tzinfo=SHANGHAI)
CLOSED = (
    "period 2024-03 is closed (the ledger is closed through 2024-03): account A takes no entry "
    "dated 2024-03-01 09:00:00; date a correction on or after 2024-04-01"
)


CASES = [
    Case("income", income()),
    Case("expense", expense(amount="99.99")),
    Case("transfer", transfer(amount="0.0001")),
    Case("income with a counterparty", income(counterparty="淘宝买家")),
    Case("unknown account", income("NOPE"), errors.AccountNotFound, "account NOPE does not exist"),
    Case(
        "unknown account in a transfer",
        transfer(target="NOPE"),
        errors.AccountNotFound,
        "account NOPE does not exist",
    ),  # fmt: skip
    Case("closed account", income("C"), errors.AccountClosed, "account C is closed"),
    Case(
        "closed account in a transfer",
        transfer(target="C"),
        errors.AccountClosed,
        "account C is closed",
    ),  # fmt: skip
    Case(
        "currencies",
        transfer(target="U"),
        errors.CurrencyMismatch,
        "accounts hold different currencies: CNY, USD",
    ),  # fmt: skip
    Case(
        "same account",
        transfer(target="A"),
        errors.SameAccount,
        "a transfer needs two different accounts",
    ),  # fmt: skip
    Case(
        "overdraft by expense",
        expense(amount="100.01"),
        errors.InsufficientFunds,
        "account A holds 100.00; this posting would take it to -0.01 and the account does not "
        "allow overdraft",
    ),  # fmt: skip
    Case(
        "overdraft by transfer",
        transfer(amount="100.01"),
        errors.InsufficientFunds,
        "account A holds 100.00; this posting would take it to -0.01 and the account does not "
        "allow overdraft",
    ),  # fmt: skip
    Case("overdraft allowed", expense("OD", "5")),
    Case("a key with a backslash and a tab", transfer(idempotency_key="k\\N\t1")),
    Case(
        "overflow by income",
        income("BIG", "100"),
        errors.ValidationError,
        "amount: account BIG's balance would overflow",
        setup=[_fill_big],
    ),  # fmt: skip
    Case(
        "overflow by transfer",
        transfer("A", "BIG", "100"),
        errors.ValidationError,
        "amount: account BIG's balance would overflow",
        setup=[_fill_big],
    ),  # fmt: skip
    Case(
        "amount with five places",
        income(amount="1.00001"),
        errors.InvalidAmount,
        "amount: '1.00001' has more than 4 decimal places",
        ways=("single", "batch", "transfers"),
    ),
    Case(
        "unknown category",
        income(category_id=9999),
        errors.NotFound,
        "category or subject 9999 does not exist",
        ways=("single", "batch"),
    ),  # fmt: skip
    Case(
        "income with an expense subject",
        income(subject_id=5),
        errors.ValidationError,
        "subject_id: subject 5 is for expense, not income",
        ways=("single", "batch"),
    ),
    Case(
        "expense under an income category",
        expense(category_id=1),
        errors.ValidationError,
        "category_id: category 1 is for income, not expense",
        ways=("single", "batch"),
    ),
    Case(
        "counterparty too long",
        income(counterparty="x" * 100),
        errors.ValidationError,
        "counterparty: must be 1-64 characters",
    ),  # fmt: skip
    Case(
        "trade number too long",
        income(trade_no="T" * 65),
        errors.ValidationError,
        "trade_no: must be 1-64 characters",
        ways=("single", "batch"),
    ),  # fmt: skip
    Case(
        "key too long",
        transfer(idempotency_key="k" * 181),
        errors.ValidationError,
        "idempotency_key: must be 1-180 characters",
    ),  # fmt: skip
    Case("income dated in an open period", income(trade_time=MARCH)),
    Case(
        "income dated into a closed period",
        income(trade_time=MARCH),
        errors.PeriodClosed,
        CLOSED,
        setup=[_close_march],
    ),  # fmt: skip
    Case(
        "expense dated into a closed period",
        expense(trade_time=MARCH),
        errors.PeriodClosed,
        CLOSED,
        setup=[_close_march],
    ),  # fmt: skip
    Case(
        "transfer dated into a closed period",
        transfer(trade_time=MARCH),
        errors.PeriodClosed,
        CLOSED,
        setup=[_close_march],
    ),  # fmt: skip
    Case(
        "overdraft dated into a closed period: R10 before R13",
        expense(amount="100.01", trade_time=MARCH),
        errors.InsufficientFunds,
        "account A holds 100.00; this posting would take it to -0.01 and the account does not "
        "allow overdraft",
        setup=[_close_march],
    ),  # fmt: skip
    Case(
        "trade time without a zone",
        income(trade_time=datetime(2024, 1, 1)),
        errors.ValidationError,
        "trade_time: must carry a time zone",
        ways=("single", "batch"),
    ),
]


def _open_books(ledger):
    """A (100.00), B, C (closed), U (dollars), OD (overdraft allowed), BIG."""
    ledger.open_account(number="A", name="甲")
    ledger.open_account(number="B", name="乙")
    ledger.open_account(number="C", name="closed")
    ledger.open_account(number="U", name="dollars", currency="USD")
    ledger.open_account(number="OD", name="overdraft", allow_overdraft=True)
    ledger.open_account(number="BIG", name="big")
    ledger.close_account("C")
    ledger.income("A", "100")
    return ledger


@pytest.fixture
def books(ledger):
    return _open_books(ledger)


# -- the ways in -------------------------------------------------------------------------------


def _through(way: str, ledger, request: dict, tmp_path) -> list[int]:
    """Send ``request`` through ``way``; returns the posting ids written or replayed."""
    req = dict(request)
    kind = req.pop("kind")
    if way == "single":
        if kind == "transfer":
            result = ledger.transfer(req.pop("from_account"), req.pop("to_account"),
                                     req.pop("amount"), **req)  # fmt: skip
        else:
            result = getattr(ledger, kind)(req.pop("account"), req.pop("amount"), **req)
        return [result.posting_id]
    if way == "batch":
        return ledger.post_many([{"kind": kind, **req}])
    if way == "transfers":
        key = req.pop("idempotency_key", None)
        spec = (req.pop("from_account"), req.pop("to_account"), req.pop("amount"))
        return ledger.transfer_many([(*spec, key) if key else spec])
    if way == "import":
        return _import_one(ledger, kind, req, tmp_path)
    raise AssertionError(way)


def _import_one(ledger, kind: str, req: dict, tmp_path) -> list[int]:
    """A one-row Alipay bill holding ``req`` (income or expense) into its account."""
    amount = Decimal(req.pop("amount"))
    when = req.pop("trade_time", None)
    txn = s.SampleTxn(
        seq=1,
        time=datetime(2024, 3, 1, 9, 0, 0) if when is None else local_naive(when),
        amount=amount if kind == "income" else -amount,
        balance=Decimal("0"),
        flow_no=req.pop("external_id", "2024030100000000001"),
        order_no="T0001",
        counterparty=req.pop("counterparty", ""),
        business_type="在线支付" if kind == "income" else "转账",
        remark="",
    )
    path = s.write_alipay_csv(tmp_path / f"bill-{len(list(tmp_path.iterdir()))}.csv", [txn])
    # the row alone, as every other way posts it: no opening balance (the row's balance is 0)
    report = import_file(ledger, path, account=req.pop("account"), opening_balance=False)
    return [report.entries_written]


def local_naive(when: datetime) -> datetime:
    """A bill's time: local (Asia/Shanghai), written without a zone."""
    return when.astimezone(SHANGHAI).replace(tzinfo=None)


def _supported(way: str, case: Case) -> bool:
    kind = case.request["kind"]
    extra = set(case.request) - {"kind", "account", "amount", "from_account", "to_account"}
    if way == "transfers":
        return kind == "transfer" and extra <= {"idempotency_key"}
    if way == "import":
        return kind in ("income", "expense") and extra <= {
            "counterparty", "external_id", "trade_time",
        }  # fmt: skip
    return True


def _rows(ledger):
    """Every entry as the fields every way must agree on."""
    return [
        (e.account_number, e.type, e.amount, e.balance_after, e.counterparty)
        for e in sorted(ledger.entries(limit=1000).items, key=lambda e: e.id)
    ]


def _state(ledger):
    return _rows(ledger), [(a.number, a.balance) for a in ledger.accounts()]


PAIRS = [(c, w) for c in CASES for w in WAYS if w in c.ways and _supported(w, c)]


@pytest.mark.parametrize("case,way", PAIRS, ids=[f"{c.name}-{w}" for c, w in PAIRS])
def test_every_way_in_agrees(case, way, books, tmp_path, ledger_factory):
    for step in case.setup:
        step(books)
    before = _state(books)
    try:
        _through(way, books, case.request, tmp_path)
    except (errors.LedgerError, BillFormatError) as exc:
        cause = exc.__cause__ if isinstance(exc, BillFormatError) else exc
        message = exc.message
        assert case.error is not None, f"refused: {message}"
        assert type(cause) is case.error, (type(cause), message)
        assert _LABEL.sub("", message) == case.message
        assert _state(books) == before, "a refusal wrote something"
        return
    assert case.error is None, f"{way} accepted what the rules refuse ({case.message})"
    # the same rows as the single posting made on a twin ledger
    twin = ledger_factory()
    _open_books(twin)
    for step in case.setup:
        step(twin)
    _through("single", twin, case.request, tmp_path)
    assert _rows(books) == _rows(twin)
    assert books.verify().ok


# -- idempotency across ways (R5, I6) ----------------------------------------------------------

KEYED = [
    (
        "transfer with a key",
        transfer(amount="1", idempotency_key="K1"),
        ("single", "batch", "transfers"),
    ),
    ("income with a trade number", income(amount="1", trade_no="T-1"), ("single", "batch")),
    (
        "income of a platform flow",
        income(amount="1", source="alipay", external_id="F1"),
        ("single", "batch"),
    ),  # fmt: skip
]


REPEATS = [(n, r, a, b) for n, r, ways in KEYED for a in ways for b in ways]


@pytest.mark.parametrize(
    "name,request_,first,second", REPEATS, ids=[f"{n}-{a}-then-{b}" for n, _, a, b in REPEATS]
)
def test_same_key_same_request_replays_across_ways(books, tmp_path, name, request_, first, second):
    """The same request sent through two ways is one posting (one fingerprint for all)."""
    (pid,) = _through(first, books, request_, tmp_path)
    state = _state(books)
    assert _through(second, books, request_, tmp_path) == [pid]
    assert _state(books) == state


OTHERS = [(n, r, b) for n, r, ways in KEYED for b in ways]


@pytest.mark.parametrize("name,request_,second", OTHERS, ids=[f"{n}-{b}" for n, _, b in OTHERS])
def test_same_key_other_request_is_a_conflict_on_every_way(books, tmp_path, name, request_, second):
    _through("single", books, request_, tmp_path)
    state = _state(books)
    other = dict(request_, amount="2")
    with pytest.raises(errors.IdempotencyConflict, match="was already used for a different"):
        _through(second, books, other, tmp_path)
    assert _state(books) == state


def test_a_platform_flow_posted_by_hand_is_not_imported_twice(books, tmp_path):
    """``--source alipay --external-id F`` by hand, then a bill with flow F: one posting."""
    books.income("A", "10", source="alipay", external_id="FLOW-1")
    state = _state(books)
    assert _through("import", books, income(amount="10", external_id="FLOW-1"), tmp_path) == [0]
    assert _state(books) == state
    with pytest.raises(errors.IdempotencyConflict, match=r"^line \d+ \(flow FLOW-1\)"):
        _through("import", books, income("B", amount="10", external_id="FLOW-1"), tmp_path)
    assert books.verify().ok


def test_an_imported_flow_is_not_posted_again_by_hand(books, tmp_path):
    _through("import", books, income(amount="10", external_id="FLOW-2"), tmp_path)
    state = _state(books)
    for way in ("single", "batch"):
        with pytest.raises(errors.IdempotencyConflict):
            _through(way, books, income(amount="10", source="alipay", external_id="FLOW-2"),
                     tmp_path)  # fmt: skip
    assert _state(books) == state


@pytest.mark.parametrize("way", ["single", "batch", "transfers"])
def test_the_same_key_raced_from_two_connections_is_one_posting(books, tmp_path, way):
    """Two threads (two pooled connections) send the same keyed transfer at once, 20 times."""
    for n in range(20):
        request_ = transfer(amount="0.01", idempotency_key=f"race-{way}-{n}")
        got, failed = [], []
        barrier = threading.Barrier(2)

        def send(request_=request_):
            barrier.wait()
            try:
                got.append(_through(way, books, request_, tmp_path)[0])
            except BaseException as exc:  # noqa: BLE001 - the test reports any error
                failed.append(exc)

        threads = [threading.Thread(target=send) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failed == [] and len(got) == 2 and got[0] == got[1]
    assert books.balance("A") == Decimal("99.80")
    assert books.verify().ok


# -- reversals (R12) ---------------------------------------------------------------------------


def test_a_reversal_is_never_reversed_and_an_entry_once(books):
    entry = books.income("A", "5").entries[0]
    reversal = books.reverse_entry(entry.id)
    with pytest.raises(errors.AlreadyReversed):
        books.reverse_entry(entry.id)
    with pytest.raises(errors.ValidationError, match="a reversal cannot itself be reversed"):
        books.reverse_entry(reversal.entries[0].id)
    t = books.transfer("A", "B", "1")
    with pytest.raises(errors.ValidationError, match="reverse the whole transfer"):
        books.reverse_entry(t.entries[0].id)
    books.reverse_transfer(t.posting_id)
    with pytest.raises(errors.AlreadyReversed):
        books.reverse_transfer(t.posting_id)
    assert books.balance("A") == Decimal(100) and books.verify().ok


@pytest.mark.parametrize("platform", ["alipay", "jd_wallet"])
def test_an_import_refused_for_overdraft_names_the_line_and_the_platform_flow(
    ledger, tmp_path, platform
):
    """R10 in the staged writer: the row is named by its line and, where the platform gives
    one, its flow number — never by a row's own hash key (JD wallet rows have no flow: their
    order number instead)."""
    ledger.open_account(number="P1", name="p", type=platform)
    first = s.SampleTxn(1, datetime(2024, 3, 1, 9), Decimal("5"), Decimal("5"), "F-1", "T1",
                        "", "在线支付", "")  # fmt: skip
    second = s.SampleTxn(2, datetime(2024, 3, 1, 10), Decimal("-8"), Decimal("-3"), "F-2", "T2",
                         "", "转账", "")  # fmt: skip
    writer = s.write_alipay_csv if platform == "alipay" else s.write_jd_wallet_csv
    path = writer(tmp_path / "bill.csv", [first, second])
    with pytest.raises(errors.InsufficientFunds) as refused:
        import_file(ledger, path, account="P1")
    message = refused.value.message
    assert re.match(
        r"line \d+ \(flow F-2\): " if platform == "alipay" else r"line \d+ \(order T2\): ", message
    )
    assert message.endswith(
        "account P1 holds 5.00; this posting would take it to -3.00 and the account does not "
        "allow overdraft"
    )
    assert ledger.balance("P1") == 0 and ledger.entries(limit=1).total == 0


#: texts a bulk writer must escape (COPY's text format: backslash, tab, newline, CR, ``\N``)
TEXTS = {
    "description": "a\tb\nc\\d\re",
    "counterparty": "x\\N",
    "remark": "\\N\t",
    "trade_no": "T\\1",
    "trade_time": datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=SHANGHAI),
}


def test_texts_and_times_are_stored_whole_by_every_writer(ledger):
    ledger.open_account(number="A", name="A")
    ledger.open_account(number="B", name="B")
    ledger.income("A", "1", **TEXTS)  # a trade number is a key (R5): the batch's is another
    ledger.post_many([income(amount="2", **{**TEXTS, "trade_no": "T\\2"})])
    stored = sorted(
        (e.description, e.counterparty, e.remark, e.trade_no, e.trade_time)
        for e in ledger.entries(limit=10).items
    )
    assert stored == [tuple(TEXTS.values()), tuple({**TEXTS, "trade_no": "T\\2"}.values())]
    key = "k\\N\t1"
    [posting_id] = ledger.transfer_many([("A", "B", "1", key)])
    again = ledger.transfer("A", "B", "1", idempotency_key=key)
    assert again.replayed and again.posting_id == posting_id
