"""post_many / transfer_many: one transaction, all or nothing, same rules as single postings."""

import random
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from zhangben.core import errors
from zhangben.core.money import minor_of, parse_amount, to_minor
from zhangben.core.postings import plan as planning
from zhangben.core.queries import EntryFilter
from zhangben.store.tables import entries, postings


@pytest.fixture
def funded(ledger):
    for n in ("M1", "M2", "M3"):
        ledger.open_account(number=n, name=n)
    ledger.income("M1", "100")
    return ledger


def test_many_transfers_chain_balances(funded):
    ids = funded.transfer_many([("M1", "M2", "10"), ("M2", "M3", "4.5"), ("M1", "M3", "0.0001")])
    assert len(set(ids)) == 3
    assert funded.balance("M1") == Decimal("89.9999")
    assert funded.balance("M2") == Decimal("5.5")
    assert funded.balance("M3") == Decimal("4.5001")
    legs = funded.posting_entries(ids[1])
    assert [(e.account_number, e.amount, e.balance_after, e.counterparty) for e in legs] == [
        ("M2", Decimal("-4.5"), Decimal("5.5"), "M3"),
        ("M3", Decimal("4.5"), Decimal("4.5"), "M2"),
    ]
    assert funded.verify().ok


def test_many_is_all_or_nothing(funded):
    before = funded.entries(limit=1).total
    with pytest.raises(errors.InsufficientFunds, match="request 1"):
        funded.transfer_many([("M1", "M2", "60"), ("M1", "M3", "60")])
    with pytest.raises(errors.AccountNotFound):
        funded.transfer_many([("M1", "M2", "1"), ("M1", "NOPE", "1")])
    with pytest.raises(errors.SameAccount):
        funded.transfer_many([("M1", "M1", "1")])
    assert funded.entries(limit=1).total == before
    assert funded.balance("M1") == Decimal("100")


def test_many_idempotency(funded):
    first = funded.transfer_many([("M1", "M2", "1", "k1"), ("M1", "M2", "2", "k2")])
    again = funded.transfer_many(
        [("M1", "M2", "1", "k1"), ("M1", "M3", "3", "k3"), ("M1", "M3", "3", "k3")]
    )
    assert again[0] == first[0] and again[1] == again[2]
    assert funded.balance("M1") == Decimal("94")
    with pytest.raises(errors.IdempotencyConflict):
        funded.transfer_many([("M1", "M2", "9", "k1")])
    # a single posting and a batch share the key space
    assert funded.transfer("M1", "M2", "2", idempotency_key="k2").replayed
    assert funded.verify().ok


# -- the columnar transfer path: same results, errors and hashes as single transfers --------


def _counts(ledger) -> tuple[int, int]:
    with ledger.engine.connect() as c:
        return (
            c.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one(),
            c.execute(sa.select(sa.func.count()).select_from(postings)).scalar_one(),
        )


def _state(ledger, numbers) -> tuple:
    return _counts(ledger), [ledger.balance(n) for n in numbers]


def test_many_matches_single_transfers_row_for_row(funded):
    (single,) = [funded.transfer("M1", "M2", "3.25").entries]
    (pid,) = funded.transfer_many([("M1", "M2", "3.25")])
    batched = funded.posting_entries(pid)
    fields = (
        "type amount trade_time recorded_at category_id subject_id category_name subject_name "
        "counterparty description remark source external_id reverses_entry_id platform_balance "
        "operator_id currency"
    ).split()
    for one, two in zip(single, batched, strict=True):
        for name in fields:
            if name not in ("trade_time", "recorded_at"):
                assert getattr(one, name) == getattr(two, name), name
    out_leg, in_leg = batched
    assert out_leg.id + 1 == in_leg.id and out_leg.posting_id == in_leg.posting_id == pid
    assert out_leg.trade_no == in_leg.trade_no and len(out_leg.trade_no) == 16
    assert out_leg.trade_time == out_leg.recorded_at
    assert out_leg.description == "帐户系统转账到账户内建商户上,转出金额为3.25元"
    with funded.engine.connect() as c:
        kinds = c.execute(sa.select(postings.c.kind).where(postings.c.id == pid)).scalar_one()
    assert kinds == "transfer"
    assert funded.verify().ok


def test_many_request_hash_is_the_single_transfers(ledger):
    """One fingerprint (I6): a keyed batch item hashes as the same transfer made alone."""
    specs = [
        ("ACC001", "ACC002", "1.5"),
        ("账户一", 'we"ird\\no', Decimal("0.0001")),
        (7, "X", 3),
        ("A", 9, "99999999999999.9999"),
        ("A", "B", "1.50000"),
        ("A", "B", " 2 "),
        ("A", "B", Decimal("1E+2")),
    ]
    batch = planning.transfers([(*spec, "k") for spec in specs])
    for i, (source, target, amount) in enumerate(specs):
        assert batch.delta[2 * i + 1] == to_minor(parse_amount(amount))
        single = ledger._transfer(source, target, amount, {"idempotency_key": "k"})
        assert batch.digest[i] == single.digest[0]
        assert batch.key[i] == single.key[0] == "k"


@pytest.mark.parametrize(
    "amount",
    ["0", "-1", "1.00001", "abc", "1e3", 1.5, True, "100000000000000", Decimal("NaN"), "٣"],
)
def test_many_refuses_bad_amounts_naming_the_position(funded, amount):
    before = _state(funded, ["M1", "M2"])
    with pytest.raises(errors.InvalidAmount, match="^request 1: amount"):
        funded.transfer_many([("M1", "M2", "1"), ("M1", "M2", amount)])
    assert _state(funded, ["M1", "M2"]) == before


def test_many_failing_request_at_position_k_writes_nothing(funded):
    numbers = ["M1", "M2", "M3"]
    funded.open_account(number="SHUT", name="closed soon")
    funded.close_account("SHUT")
    funded.open_account(number="USD1", name="dollars", currency="USD")
    m2 = funded.account("M2").id
    before = _state(funded, numbers)
    good = [("M1", "M2", "10", "ok-1"), ("M2", "M3", "5", "ok-2"), ("M1", "M3", "1")]
    cases = [
        (("M3", "M1", "7"), errors.InsufficientFunds, "request 3: account M3 holds 6.00"),
        (("M1", "SHUT", "1"), errors.AccountClosed, "request 3: account SHUT is closed"),
        (("M1", "USD1", "1"), errors.CurrencyMismatch, "request 3: accounts hold different"),
        (("M2", m2, "1"), errors.SameAccount, "request 3: a transfer needs two"),
        (("M2", "M2", "1"), errors.SameAccount, "request 3: a transfer needs two"),
        (("M1", "NOPE", "1"), errors.AccountNotFound, "request 3: account NOPE does not exist"),
        (("M1", "M2", "1", ""), errors.ValidationError, "request 3: idempotency_key"),
        (("M1", "M2", "1", "k" * 181), errors.ValidationError, "request 3: idempotency_key"),
    ]
    for bad, error, message in cases:
        with pytest.raises(error, match=message):
            funded.transfer_many([*good, bad, ("M1", "M2", "1")])
        assert _state(funded, numbers) == before
    # the keys of the rolled-back batch were not recorded: the good part goes through
    ids = funded.transfer_many(good)
    assert len(set(ids)) == 3
    assert [funded.balance(n) for n in numbers] == [Decimal(89), Decimal(5), Decimal(6)]
    assert funded.verify().ok


def test_many_conflicts_inside_and_across_batches(funded):
    numbers = ["M1", "M2", "M3"]
    before = _state(funded, numbers)
    with pytest.raises(errors.IdempotencyConflict, match="request 2: .*'d1' is used twice"):
        funded.transfer_many([("M1", "M2", "1", "d1"), ("M1", "M3", "1"), ("M1", "M2", "2", "d1")])
    with pytest.raises(errors.IdempotencyConflict, match="request 1"):  # other accounts
        funded.transfer_many([("M1", "M2", "1", "d2"), ("M1", "M3", "1", "d2")])
    assert _state(funded, numbers) == before
    ids = funded.transfer_many([("M1", "M2", "1", "d3"), ("M1", "M2", "1", "d3")])
    assert ids[0] == ids[1] and funded.balance("M1") == Decimal(99)
    with pytest.raises(errors.IdempotencyConflict, match="request 1: .*'d3' was already used"):
        funded.transfer_many([("M1", "M2", "1", "d4"), ("M1", "M2", "1.0001", "d3")])
    # a key used by a single transfer, then by a batch (and the other way round)
    single = funded.transfer("M1", "M3", "2", idempotency_key="s1")
    assert funded.transfer_many([("M1", "M3", "2", "s1")]) == [single.posting_id]
    with pytest.raises(errors.IdempotencyConflict):
        funded.transfer_many([("M1", "M3", "2.5", "s1")])
    with pytest.raises(errors.IdempotencyConflict):
        funded.transfer("M1", "M2", "9", idempotency_key="d3")
    assert funded.verify().ok


def test_many_replays_a_whole_batch(funded):
    specs = [
        ("M1", "M2", "1", "r-1"),
        ("M2", "M3", "0.5", "r-2"),
        ("M1", "M3", "2", "r\t\\x\n-3"),  # COPY's special characters in a key
        ("M1", "M2", "1", "r-1"),
    ]
    first = funded.transfer_many(specs)
    assert first[0] == first[3] and len(set(first)) == 3
    state = _state(funded, ["M1", "M2", "M3"])
    assert funded.transfer_many(specs) == first
    assert funded.transfer_many(list(reversed(specs))) == list(reversed(first))
    assert _state(funded, ["M1", "M2", "M3"]) == state
    # a batch mixing replays and new transfers writes only the new ones
    mixed = funded.transfer_many([specs[1], ("M1", "M2", "4", "r-4"), ("M3", "M1", "1")])
    assert mixed[0] == first[1] and len(set(mixed)) == 3
    assert _counts(funded)[1] == state[0][1] + 2
    assert funded.verify().ok


def test_many_balances_chain_across_a_large_batch(funded):
    rng = random.Random(7)
    numbers = ["M1", "M2", "M3"]
    funded.open_account(number="OD", name="overdraft", allow_overdraft=True)
    ids = {n: funded.account(n).id for n in [*numbers, "OD"]}
    refs = [*numbers, "OD", ids["M2"]]  # numbers and ids mixed
    expected = {n: Decimal(0) for n in ids}
    expected["M1"] = Decimal(100)
    specs = []
    for _ in range(1500):
        source, target = rng.sample(refs, 2)
        name = {v: k for k, v in ids.items()}
        s, t = name.get(source, source), name.get(target, target)
        if s == t:
            continue
        amount = Decimal(rng.randint(1, 300)) / 100
        if s != "OD" and expected[s] < amount:
            continue
        expected[s] -= amount
        expected[t] += amount
        specs.append((source, target, amount))
    specs.append(("OD", "M1", "1000"))  # overdraft allowed: OD goes negative
    expected["OD"] -= 1000
    expected["M1"] += 1000
    result = funded.transfer_many(specs)
    assert len(set(result)) == len(specs)
    assert {n: funded.balance(n) for n in ids} == expected
    assert funded.balance("OD") < 0
    report = funded.verify()
    assert report.ok, report.problems
    page = funded.entries(EntryFilter(account_numbers=["M2"]), limit=10_000)
    chain_ = sorted(page.items, key=lambda e: e.id)
    running = Decimal(0)
    for entry in chain_:
        running += entry.amount
        assert entry.balance_after == running
    assert running == expected["M2"]


def test_many_empty_batch(funded):
    assert funded.transfer_many([]) == []


def test_many_key_race_is_answered_from_the_winner(funded, monkeypatch):
    """A concurrent batch commits one of our keys between our lookup and our write: the
    unique key refuses the write, the batch is rolled back and run again, and then replays."""
    from zhangben.store.writers import accounts

    won = funded.transfer_many([("M1", "M2", "1", "race")])
    if funded.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's BEGIN IMMEDIATE serialises writers: no race to lose")
    real, calls = accounts.lock_pg, []

    def blind_first_time(raw, refs, keys):
        locked, known = real(raw, refs, keys)
        calls.append(len(known))
        return locked, ({} if len(calls) == 1 else known)

    monkeypatch.setattr(accounts, "lock_pg", blind_first_time)
    before = _state(funded, ["M1", "M2", "M3"])
    assert funded.transfer_many([("M1", "M3", "2"), ("M1", "M2", "1", "race")])[1] == won[0]
    assert calls == [1, 1]
    assert _counts(funded)[1] == before[0][1] + 1
    calls.clear()
    with pytest.raises(errors.IdempotencyConflict):
        funded.transfer_many([("M1", "M2", "5", "race")])
    assert funded.verify().ok


def test_many_concurrent_batches_and_single_transfers_lose_nothing(ledger):
    """4 workers posting batches (some keyed, replayed by a twin worker) next to 2 workers
    posting single transfers, on the same 6 accounts."""
    numbers = [f"C{i}" for i in range(6)]
    for n in numbers:
        ledger.open_account(number=n, name=n)
        ledger.income(n, "1000")
    failures: list[BaseException] = []
    written = []
    lock = threading.Lock()

    def batches(seed: int, keyed: bool) -> None:
        rng = random.Random(seed if not keyed else 99)  # the keyed twins send the same batches
        for round_ in range(15):
            specs = []
            for j in range(rng.randint(1, 40)):
                a, b = rng.sample(numbers, 2)
                amount = Decimal(rng.randint(1, 300)) / 100
                specs.append((a, b, amount, f"t-{round_}-{j}") if keyed else (a, b, amount))
            try:
                ids = ledger.transfer_many(specs)
            except errors.InsufficientFunds:
                continue
            except BaseException as exc:  # noqa: BLE001 - any other error fails the test
                failures.append(exc)
                return
            with lock:
                written.extend(ids)

    def singles(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(40):
            a, b = rng.sample(numbers, 2)
            try:
                written.append(ledger.transfer(a, b, Decimal(rng.randint(1, 300)) / 100).posting_id)
            except errors.InsufficientFunds:
                pass
            except BaseException as exc:  # noqa: BLE001
                failures.append(exc)
                return

    threads = [threading.Thread(target=batches, args=(i, i >= 2)) for i in range(4)]
    threads += [threading.Thread(target=singles, args=(10 + i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    report = ledger.verify()
    assert report.ok, report.problems
    balances = [a.balance for a in ledger.accounts()]
    assert sum(balances) == Decimal(1000 * len(numbers)) and min(balances) >= 0
    transfers = ledger.entries(with_total=True, limit=1).total - len(numbers)
    assert transfers == 2 * len(set(written))  # the keyed twins wrote each batch once


def test_many_amount_fast_path_agrees_with_parse_amount():
    values = ["1", "1.5", "007.5", "0.0001", " 3 ", "+2", ".5", "1.", "1.50000", "12.3400"]
    values += [Decimal("1E+2"), Decimal("0.00010"), Decimal("99999999999999.9999"), 5, 10**14 - 1]
    values += [str(Decimal(random.Random(i).randint(1, 10**18)).scaleb(-4)) for i in range(200)]
    for value in values:
        assert minor_of(value) == to_minor(parse_amount(value)), value
