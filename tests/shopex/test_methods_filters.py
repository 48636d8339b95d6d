"""The filters of finance.getAccountBalance and finance.getTransactionList: dates and ISO
times for start_time/end_time (point 4 of issue 14), ``#`` lists of accounts and shops
(point 7)."""

import pytest

from tests.shopex.support import RANGE
from zhangben.access.integrators import grant
from zhangben.shopex.params import MAX_MEMBERS
from zhangben.store.engine import run_write

BAL = "finance.getAccountBalance"
TX = "finance.getTransactionList"


def times(erp, **params) -> list[str]:
    data = erp(TX, **params)
    assert data["code"] == 0, data
    return [r["trans_time"] for r in data["lists"]]


# -- start_time / end_time -------------------------------------------------------------------


def test_dates_cover_whole_days_in_the_business_time_zone(erp):
    """The books: ACC001 on Jan 1 (10, 11, 12 o'clock), ACC002 on Jan 2, ACC003/4 on Jan 3."""
    day_one = times(erp, start_time="2024-01-01", end_time="2024-01-01")
    assert day_one == ["2024-01-01 10:00:00", "2024-01-01 11:00:00", "2024-01-01 12:00:00"]
    assert len(times(erp, start_time="2024-01-02", end_time="2024-01-03")) == 4
    # a date and a time mix; the end date is inclusive, the end time exclusive as before
    assert len(times(erp, start_time="2024-01-01 11:00:00", end_time="2024-01-02")) == 3
    assert times(erp, start_time="2024-01-01", end_time="2024-01-01 11:00:00") == [
        "2024-01-01 10:00:00"
    ]
    # Jan 3 ends at midnight in Asia/Shanghai, not in UTC
    assert len(times(erp, start_time="2024-01-03", end_time="2024-01-03")) == 3
    assert times(erp, start_time="2023-12-31", end_time="2023-12-31") == []


def test_iso_times(erp):
    assert len(times(erp, start_time="2024-01-01T11:00:00", end_time="2024-01-01T12:00:00")) == 1
    # 02:00 UTC is 10:00 in Shanghai; an offset wins over the business time zone
    utc = times(erp, start_time="2024-01-01T02:00:00Z", end_time="2024-01-01T02:00:01Z")
    assert utc == ["2024-01-01 10:00:00"]
    assert len(times(erp, start_time="2024-01-01T11:00:00+08:00", end_time="2024-01-02")) == 3
    assert len(times(erp, start_time="2024-01-01T10:00:00.5", end_time="2024-01-02")) == 3


@pytest.mark.parametrize(
    "bad",
    ["yesterday", "2024-01-32", "2024/01/01", "20240101", "1704038400", "2024-01-01T10:00"],
)
@pytest.mark.parametrize("name", ["start_time", "end_time"])
def test_garbage_times_are_2002_with_the_seed_message(erp, name, bad):
    params = {**RANGE, name: bad}
    data = erp(TX, **params)
    assert (data["code"], data["msg"]) == (2002, "非法的请求参数")
    assert name in data["sub_msg"] and "yyyy-MM-dd" in data["sub_msg"]


def test_a_missing_time_is_still_2001(erp):
    data = erp(TX, start_time="2024-01-01")
    assert (data["code"], data["msg"]) == (2001, "缺少必要的参数")


def test_end_before_start_is_refused(erp):
    data = erp(TX, start_time="2024-01-02 00:00:01", end_time="2024-01-01")
    assert data["code"] == 2002 and "end_time is before start_time" in data["sub_msg"]


# -- # lists ---------------------------------------------------------------------------------


def test_hash_joined_accounts(erp):
    rows = erp(TX, **RANGE, account_id="ACC001#ACC002")["lists"]
    assert {r["account_id"] for r in rows} == {"ACC001", "ACC002"} and len(rows) == 4
    assert erp(TX, **RANGE, account_id="ACC002#NOPE")["count"] == 1
    assert erp(TX, **RANGE, account_id=" ACC002 # ACC003 #ACC002")["count"] == 3  # spaces, twice
    balances = erp(BAL, account_id="ACC004#ACC001")["accounts"]
    assert [a["account_id"] for a in balances] == ["ACC001", "ACC004"]
    # with shops too: both filters apply
    assert erp(TX, **RANGE, account_id="ACC001#ACC002", shop_bn="S002")["count"] == 1


def test_hash_lists_stay_within_the_apps_scope(erp, engine):
    run_write(engine, lambda c: grant(c, "erp01", account_numbers=["ACC003"]))
    assert erp(TX, **RANGE, account_id="ACC001#ACC003")["count"] == 2
    assert [a["account_id"] for a in erp(BAL, account_id="ACC001#ACC003")["accounts"]] == ["ACC003"]
    assert erp(TX, **RANGE, account_id="ACC001#ACC002")["count"] == 0
    run_write(engine, lambda c: grant(c, "erp01", account_numbers=None, shop_codes=["S002"]))
    assert erp(BAL, shop_bn="S001#S002")["accounts"][0]["account_id"] == "ACC002"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("account_id", "ACC001##ACC002", "value 2 of 3 is empty"),
        ("account_id", "ACC001#", "value 2 of 2 is empty"),
        ("account_id", "#", "value 1 of 2 is empty"),
        ("account_id", "ACC 001#ACC002", "value 1 of 2 ('ACC 001') is not an account number"),
        ("account_id", "ACC001#账户", "is not an account number"),
        ("account_id", "A" * 65, "longer than 64 characters"),
        ("account_id", "#".join(["A"] * (MAX_MEMBERS + 1)), f"at most {MAX_MEMBERS}"),
        ("shop_bn", "S001##S002", "shop_bn value 2 of 3 is empty"),
        ("shop_bn", "S" * 65 + "#S001", "shop_bn value 1 of 2 is longer than 64"),
        ("shop_code", "#".join(["S"] * (MAX_MEMBERS + 1)), "shop_code lists 101 values"),
    ],
)
@pytest.mark.parametrize("method", [BAL, TX])
def test_bad_members_are_2002(erp, method, name, value, says):
    extra = RANGE if method == TX else {}
    data = erp(method, **extra, **{name: value})
    assert (data["code"], data["msg"]) == (2002, "非法的请求参数")
    assert says in data["sub_msg"]


def test_the_most_members(erp):
    many = "#".join(["ACC001", *(f"X{i}" for i in range(MAX_MEMBERS - 2)), "ACC002"])
    assert erp(TX, **RANGE, account_id=many)["count"] == 4
    assert len(erp(BAL, account_id=many)["accounts"]) == 2
