"""The request log names method, flag and code, and never a sign, token or timestamp."""

import logging

from tests.shopex.support import ENDPOINT, RANGE
from zhangben.shopex.wire.signature import sign_params


def test_log_lines_without_secrets(erp, caplog):
    caplog.set_level(logging.DEBUG)
    secrets_seen = {erp.token}
    for method, extra in [
        ("finance.getAccountBalance", {}),
        ("finance.getTransactionList", RANGE),
        ("finance.nope", {}),
    ]:
        params = erp.params(method, **extra)
        secrets_seen |= {params["sign"], params["timestamp"]}
        erp.client.post(ENDPOINT, data=params)
    bad = {**erp.params("finance.getAccountBalance"), "sign": "B" * 32}
    secrets_seen |= {bad["timestamp"], "B" * 32}
    erp.client.post(ENDPOINT, data=bad)
    php = erp.params("finance.getAccountBalance")
    del php["sign"]
    php["token"] = erp.token
    php["sign"] = sign_params(php, erp.token)
    secrets_seen |= {php["sign"], php["timestamp"]}
    erp.client.post(ENDPOINT, data=php)

    text = caplog.text
    assert "method=finance.getAccountBalance flag=erp01 code=0" in text
    assert "method=finance.nope flag=erp01 code=2003" in text
    assert "code=1003" in text
    for secret in secrets_seen:
        assert secret not in text
