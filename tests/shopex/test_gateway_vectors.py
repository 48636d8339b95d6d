"""The research note's test vectors, end to end through HTTP."""

from tests.shopex.support import ENDPOINT, body

VECTOR_1 = {
    "flag": "erp01",
    "method": "finance.getAccountBalance",
    "ver": "1",
    "charset": "utf-8",
    "type": "json",
    "timestamp": "1764000000",
}


def test_vector_one_get_account_balance(client, make_app, books, gateway):
    make_app("erp01", token="zb-secret-0001")
    gateway.clock = lambda: 1764000000.0
    response = client.post(ENDPOINT, data={**VECTOR_1, "sign": "4FDD1A0472FEC71F222A0D03AAEF1DF5"})
    assert response.status_code == 200
    data = body(response)
    assert data["code"] == 0 and data["msg"] == "成功"
    assert [a["account_id"] for a in data["accounts"]] == ["ACC001", "ACC002", "ACC003", "ACC004"]


def test_vector_three_get_transaction_list(client, make_app, books, gateway):
    make_app("erp01", token="zb-secret-0001")
    gateway.clock = lambda: 1764000000.0
    params = {
        **VECTOR_1,
        "method": "finance.getTransactionList",
        "account_id": "ACC001",
        "start_time": "2024-01-01 00:00:00",
        "end_time": "2024-01-31 23:59:59",
        "trans_type": "income",
        "page_no": "2",
        "page_size": "20",
        "remark": "销售收款 & 退款",
        "sign": "6EFD2A46BB38DEB30E1C4BA0A9A2B40B",
    }
    data = body(client.post(ENDPOINT, data=params))
    first_two = books.entries(limit=100).items[-2:]  # ACC001's incomes: entries 1 and 2
    assert data == {
        "code": 0,
        "msg": "成功",
        "count": 2,
        "lists": [],
        "max_entry_id": str(max(e.id for e in first_two)),
    }


def test_vector_two_sign_is_accepted(client, make_app, gateway):
    make_app("testflag", token="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef")
    gateway.clock = lambda: 1700000000.0
    params = {
        "method": "finance.getList",
        "flag": "testflag",
        "ver": "1",
        "charset": "utf-8",
        "type": "json",
        "timestamp": "1700000000",
        "start_time": "2024-01-01 00:00:00",
        "end_time": "2024-01-31 23:59:59",
        "shop_bn": "S001#S002",
        "page_no": "1",
        "page_size": "100",
        "sign": "C2EA810C43C6EBB8F4DD693A0891BB10",
    }
    first = body(client.post(ENDPOINT, data=params))
    assert first["code"] == 0 and first["count"] == 0  # signed right; no bills imported here
    again = body(client.post(ENDPOINT, data=params))
    assert again["code"] == 401
