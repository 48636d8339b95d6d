"""The ShopEx signature: the research note's vectors, PHP's rules, and a PHP cross-check."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from zhangben.shopex.wire.signature import (
    concat_params,
    explain,
    php_string,
    sign_params,
    verify_sign,
)


def md5u(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest().upper()


SYSTEM = {
    "flag": "erp01",
    "method": "finance.getAccountBalance",
    "ver": 1,
    "charset": "utf-8",
    "type": "json",
    "timestamp": 1764000000,
}


def test_vector_1_account_balance():
    concat = "charsetutf-8flagerp01methodfinance.getAccountBalancetimestamp1764000000typejsonver1"
    assert concat_params(SYSTEM) == concat
    steps = explain(SYSTEM, "zb-secret-0001")
    assert steps["concatenation"] == concat
    assert steps["inner_md5"] == md5u(concat)
    assert steps["sign"] == "4FDD1A0472FEC71F222A0D03AAEF1DF5"
    assert sign_params(SYSTEM, "zb-secret-0001") == "4FDD1A0472FEC71F222A0D03AAEF1DF5"
    # the same fields as the strings a form delivers sign identically
    assert sign_params({k: str(v) for k, v in SYSTEM.items()}, "zb-secret-0001") == steps["sign"]


def test_vector_2_get_list():
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
    }
    token = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
    steps = explain(params, token)
    assert steps["concatenation"] == (
        "charsetutf-8end_time2024-01-31 23:59:59flagtestflagmethodfinance.getListpage_no1"
        "page_size100shop_bnS001#S002start_time2024-01-01 00:00:00timestamp1700000000"
        "typejsonver1"
    )
    assert steps["inner_md5"] == "A833FA273A34659CC4E94CE24F018FB5"
    assert steps["sign"] == "C2EA810C43C6EBB8F4DD693A0891BB10"
    assert token not in json.dumps(steps)


def test_vector_3_transaction_list_with_chinese_and_ampersand():
    params = {
        **SYSTEM,
        "method": "finance.getTransactionList",
        "account_id": "ACC001",
        "start_time": "2024-01-01 00:00:00",
        "end_time": "2024-01-31 23:59:59",
        "trans_type": "income",
        "page_no": 2,
        "page_size": 20,
        "remark": "销售收款 & 退款",
    }
    concat = (
        "account_idACC001charsetutf-8end_time2024-01-31 23:59:59flagerp01"
        "methodfinance.getTransactionListpage_no2page_size20remark销售收款 & 退款"
        "start_time2024-01-01 00:00:00timestamp1764000000trans_typeincometypejsonver1"
    )
    steps = explain(params, "zb-secret-0001")
    assert steps["concatenation"] == concat
    assert steps["inner_md5"] == md5u(concat)
    assert steps["sign"] == "6EFD2A46BB38DEB30E1C4BA0A9A2B40B"


def test_sign_is_outer_md5_of_inner_plus_token():
    inner = md5u(concat_params(SYSTEM))
    assert sign_params(SYSTEM, "t0k") == md5u(inner + "t0k")


def test_byte_wise_key_order():
    # uppercase < '_' < lowercase in bytes; a shorter prefix first
    params = {"ab": "4", "a_b": "3", "aB": "2", "A": "1", "a": "0"}
    assert concat_params(params) == "A1a0aB2a_b3ab4"


def test_top_level_sign_excluded_nested_sign_kept():
    assert concat_params({"sign": "X", "a": {"sign": "Y"}}) == "asignY"


def test_nested_mapping_recurses_sorted():
    params = {"z": "1", "filter": {"shop": "S1", "Kind": "a", "deep": {"y": "2", "x": "1"}}}
    assert concat_params(params) == "filterKindadeepx1y2shopS1z1"


def test_list_indices_sort_as_strings():
    values = [f"v{i}" for i in range(12)]
    expected = "l" + "".join(f"{i}v{i}" for i in sorted(map(str, range(12))))
    assert concat_params({"l": values}) == expected
    assert expected.startswith("l0v01v110v1011v112v2")


def test_php_form_dict_and_list_sign_alike():
    assert concat_params({"a": ["x", "y"]}) == concat_params({"a": {"0": "x", "1": "y"}})


def test_none_skipped_with_key_bool_as_digit_empty_contributes_key():
    params = {"n": None, "t": True, "f": False, "e": "", "l": [], "d": {}, "m": {"x": None}}
    assert concat_params(params) == "de" + "f0" + "l" + "m" + "t1"


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (10, "10"),
        (-7, "-7"),
        (0, "0"),
        (Decimal("10000.00"), "10000"),
        (Decimal("0.10"), "0.1"),
        (Decimal("-12.50"), "-12.5"),
        (Decimal("1E+2"), "100"),
        (Decimal("12.3456"), "12.3456"),
        (10000.00, "10000"),
        (0.1, "0.1"),
        (0.1 + 0.2, "0.3"),  # PHP prints floats with precision=14
        (1 / 3, "0.33333333333333"),
        (1e13, "10000000000000"),
        (1e14, "1.0E+14"),
        (1e15, "1.0E+15"),
        (-1.5e-7, "-1.5E-7"),
        (0.0001, "0.0001"),
        (0.00001, "1.0E-5"),
        (-0.0, "-0"),
        (2**64, "1.844674407371E+19"),  # beyond int64 PHP's json_decode makes a float
        (2**63 - 1, "9223372036854775807"),
        (Decimal("1E+400"), "1.0E+400"),  # would be INF through float
        (float("inf"), "INF"),
    ],
)
def test_numbers_print_as_php(value, printed):
    assert php_string(value) == printed
    assert concat_params({"k": value}) == "k" + printed


def test_unsupported_type_refused():
    with pytest.raises(TypeError):
        concat_params({"k": object()})


def test_token_in_params_stays_in_concatenation():
    """Third-party PHP clients sign their token as an ordinary field; we must agree."""
    token = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
    params = {**SYSTEM, "token": token}
    assert concat_params(params) == (
        "charsetutf-8flagerp01methodfinance.getAccountBalancetimestamp1764000000"
        f"token{token}typejsonver1"
    )
    sign = md5u(md5u(concat_params(params)) + token)
    assert verify_sign({**params, "sign": sign}, token, sign)
    steps = explain(params, token)
    assert steps["sign"] == sign and steps["token_in_params"] is True
    assert token not in json.dumps(steps)
    assert steps["inner_md5"] == md5u(concat_params(params))


def test_verify_sign():
    sign = "4FDD1A0472FEC71F222A0D03AAEF1DF5"
    assert verify_sign({**SYSTEM, "sign": sign}, "zb-secret-0001", sign)
    assert not verify_sign(SYSTEM, "zb-secret-0001", sign.lower())  # exact uppercase hex
    assert not verify_sign(SYSTEM, "zb-secret-0002", sign)
    assert not verify_sign({**SYSTEM, "ver": 2}, "zb-secret-0001", sign)
    assert not verify_sign(SYSTEM, "zb-secret-0001", None)
    assert not verify_sign(SYSTEM, "zb-secret-0001", "签名")


# --- cross-check against PHP itself, when available --------------------------------------

PHP_ASSEMBLE = r"""<?php
ini_set('precision', '14');
function assemble($params) {
    ksort($params, SORT_STRING);
    $out = '';
    foreach ($params as $key => $val) {
        if (is_null($val)) continue;
        if (is_bool($val)) $val = $val ? 1 : 0;
        $out .= $key . (is_array($val) ? assemble($val) : $val);
    }
    return $out;
}
$case = json_decode(stream_get_contents(STDIN), true);
$params = $case['params'];
unset($params['sign']);
$concat = assemble($params);
echo base64_encode($concat), "\n";
echo strtoupper(md5(strtoupper(md5($concat)) . $case['token'])), "\n";
"""

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
_values = st.recursive(
    _scalars,
    lambda kids: st.lists(kids, max_size=12) | st.dictionaries(st.text(max_size=6), kids),
    max_leaves=25,
)
_params = st.dictionaries(st.text(max_size=8), _values, max_size=10)


@pytest.mark.skipif(shutil.which("php") is None, reason="php is not installed")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=_params, token=st.text(min_size=1, max_size=32))
@example(params={"": 289563229355205.0}, token="0")  # found by Hypothesis: a half kept even
def test_matches_php_reference(params, token, tmp_path_factory):
    import base64

    script = tmp_path_factory.getbasetemp() / "assemble.php"
    if not script.exists():
        script.write_text(PHP_ASSEMBLE)
    done = subprocess.run(
        ["php", str(script)],
        input=json.dumps({"params": params, "token": token}).encode(),
        capture_output=True,
        check=True,
        timeout=30,
    )
    concat_b64, sign = done.stdout.decode().split("\n")[:2]
    assert concat_params(params).encode("utf-8") == base64.b64decode(concat_b64)
    assert sign_params(params, token) == sign


@pytest.mark.parametrize(
    ("value", "php"),
    [  # as PHP 8.2 writes them
        (100000000000005.0, "1.0000000000000E+14"),
        (-100000000000005.0, "-1.0000000000000E+14"),
        (289563229355205.0, "2.8956322935520E+14"),
        (120000000000005.0, "1.2000000000000E+14"),
        (289563229355204.0, "2.895632293552E+14"),
        (100000000000025.0, "1.0000000000002E+14"),
        (100000000000015.0, "1.0000000000002E+14"),
        (1000000000000050.0, "1.0E+15"),
        (10000000000000.5, "10000000000000"),
    ],
)
def test_php_float_text_at_a_half(value, php):
    assert php_string(value) == php
