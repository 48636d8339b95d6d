"""The format registry and the header search: every format is detected from its own headers
and from no other's; unknown formats and files without a header row are refused. (Header and
row errors inside a file are tested through Alipay files: formats/test_alipay.py.)"""

import pytest

from zhangben.demo import bills as s
from zhangben.imports import BillFormatError, detect_format, extract, formats, get_format

HEADERS = {
    "alipay": list(s._alipay.HEADERS),
    "wechat_trade": s.WECHAT_TRADE_HEADERS,
    "wechat_fund": s.WECHAT_FUND_HEADERS,
    "wechat_shop": s.WECHAT_SHOP_HEADERS,
    "jd_wallet": s.JD_WALLET_HEADERS,
    "jzt": s.JZT_HEADERS,
}


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_detection_is_unambiguous(name):
    headers = HEADERS[name]
    assert detect_format(headers).name == name
    assert [f.name for f in formats() if f.matches(headers)] == [name]
    assert get_format(name).matches(headers)


def test_no_required_set_contains_another():
    fs = formats()
    for a in fs:
        for b in fs:
            if a is not b:
                assert not set(a.required_headers) <= set(b.required_headers)
    assert {f.platform for f in fs} == {"alipay", "wechat", "wechat_shop", "jd_wallet", "jzt"}


def test_detect_and_get_errors():
    with pytest.raises(BillFormatError, match="no known"):
        detect_format(["a", "b"])
    with pytest.raises(KeyError):
        get_format("paypal")


def test_not_a_bill(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(BillFormatError, match="no header row"):
        extract(path)
