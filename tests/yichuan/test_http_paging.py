"""accountlog paging: last page, empty page, row clamps, bad parameters, POST forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.yichuan.support import (
    STAFF_PW,
    accountlog,
    add_user,
    cheap_argon2,  # noqa: F401 - autouse fixture
    token_of,
)

BAD_PARAMETER = 40001


@pytest.fixture
def staff_token(client, ledger):
    add_user(ledger, "finance", STAFF_PW, role="staff")
    ledger.open_account(number="ACC001", name="主账户")
    ledger.open_account(number="EMPTY", name="空账户")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(7):
        ledger.income("ACC001", str(i + 1), trade_time=start + timedelta(hours=i))
    return token_of(client, "finance", STAFF_PW)


def _ids(data):
    return [item["id"] for item in data["lists"]]


def test_pages_newest_first_and_the_last_page(client, staff_token):
    pages = [accountlog(client, staff_token, account_id="ACC001", row=3, page=p) for p in (1, 2, 3)]
    assert [_ids(p["data"]) for p in pages] == [[7, 6, 5], [4, 3, 2], [1]]
    last = pages[2]["data"]
    assert (last["page"], last["row"], last["count"], last["total_count"], last["total_page"]) == (
        3,
        3,
        1,
        7,
        3,
    )


def test_a_page_past_the_end_is_empty(client, staff_token):
    body = accountlog(client, staff_token, account_id="ACC001", row=3, page=4)
    assert body["code"] == 0
    assert body["data"] == {
        "page": 4,
        "row": 3,
        "count": 0,
        "total_count": 7,
        "total_page": 3,
        "lists": [],
    }
    empty = accountlog(client, staff_token, account_id="EMPTY")["data"]
    assert (empty["count"], empty["total_count"], empty["total_page"], empty["lists"]) == (
        0,
        0,
        0,
        [],
    )


def test_defaults_and_row_clamps(client, staff_token):
    default = accountlog(client, staff_token, account_id="ACC001")["data"]
    assert (default["page"], default["row"], default["count"]) == (1, 15, 7)
    assert accountlog(client, staff_token, account_id="ACC001", row=0)["data"]["row"] == 1
    assert accountlog(client, staff_token, account_id="ACC001", row=500)["data"]["row"] == 100
    blank = accountlog(client, staff_token, account_id="ACC001", row="", page="")["data"]
    assert (blank["page"], blank["row"]) == (1, 15)


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "0"},
        {"page": "-1"},
        {"page": "1.5"},
        {"page": "99999999999999999999"},
        {"row": "-1"},
        {"row": "ten"},
    ],
)
def test_bad_parameters_are_refused_in_the_envelope(client, staff_token, params):
    response = client.get(
        "/v3/accountlog",
        params={"account_id": "ACC001", **params},
        headers={"Authorization": f"Bearer {staff_token}"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == BAD_PARAMETER and body["data"] is None
    assert next(iter(params)) in body["msg"]


def test_post_accepts_a_form_or_a_json_body(client, staff_token):
    form = client.post(
        "/v3/accountlog",
        data={"account_id": "ACC001", "row": "2", "page": "2", "token": staff_token},
    ).json()
    assert _ids(form["data"]) == [5, 4]
    as_json = client.post(
        "/v3/accountlog",
        json={"account_id": "ACC001", "row": 2, "page": 1},
        headers={"Authorization": f"Bearer {staff_token}"},
    ).json()
    assert _ids(as_json["data"]) == [7, 6]
    broken = client.post(
        "/v3/accountlog",
        content=b"{not json",
        headers={"Authorization": f"Bearer {staff_token}", "Content-Type": "application/json"},
    ).json()
    assert broken["code"] == BAD_PARAMETER and "JSON" in broken["msg"]


@pytest.mark.both_backends
@pytest.mark.parametrize("page", ["30000000", "1000000000"])
def test_a_page_past_2_to_the_31_is_empty_on_both_databases(client, staff_token, page):
    """The offset (page - 1) × row passes 2³¹: the same empty page as any page past the end,
    on SQLite and PostgreSQL (issue 13, point 6)."""
    body = accountlog(client, staff_token, account_id="ACC001", row=100, page=page)
    assert body["code"] == 0, body
    data = body["data"]
    assert (data["page"], data["count"], data["total_count"], data["lists"]) == (
        int(page),
        0,
        7,
        [],
    )
