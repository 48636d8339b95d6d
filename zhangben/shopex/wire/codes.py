"""Error codes of the ShopEx open API and the two response envelopes.

Two styles exist on the wire:

* ``"seed"`` — the documented numeric codes, data at the top level:
  ``{"code": 0, "msg": "成功", **data}`` / ``{"code": 1003, "msg": "签名错误", "sub_msg": ...}``;
* ``"shopex"`` — the original server's envelopes: ``{"response": data}`` /
  ``{"error_response": {"code": "e000002", "msg": "sign error", "sub_msg": ...}}``.

A :class:`Reason` says *why* a request failed; each style maps it to its own code.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "E_MESSAGES",
    "REASON_CODES",
    "SEED_MESSAGES",
    "Reason",
    "Style",
    "render_error",
    "render_success",
    "sign_mismatch_detail",
]

Style = Literal["seed", "shopex"]

#: The seed's numeric codes and messages.
SEED_MESSAGES: dict[int, str] = {
    0: "成功",
    1: "参数错误",
    400: "参数错误",
    401: "未授权访问",
    403: "禁止访问",
    500: "服务器内部错误",
    503: "服务暂不可用,请稍后重试",
    1001: "非法的flag",
    1002: "请求已过期",
    1003: "签名错误",
    1004: "不支持的type格式",
    2001: "缺少必要的参数",
    2002: "非法的请求参数",
    2003: "接口不存在",
}

#: The original server's e-codes and messages.
E_MESSAGES: dict[str, str] = {
    "e000001": "system params lost or error",
    "e000002": "sign error",
    "e000003": "class or method not exist",
    "e000004": "no permissions to access",
    "e000005": "init interface fail",
    "e000006": "application params error",
    "e000007": "init template fail",
    "e000008": "refer server time invalid",
    "e000009": "repeat request invalid",
}


class Reason(StrEnum):
    """Why a request was refused; rendered per style by :func:`render_error`."""

    #: A system parameter (flag, method, sign, timestamp, ...) is missing or empty.
    MISSING_PARAM = "missing_param"
    #: An application parameter is malformed or out of range.
    BAD_PARAM = "bad_param"
    #: A required *application* parameter is missing (e000006 like the original).
    MISSING_APP_PARAM = "missing_app_param"
    #: A system parameter is malformed, e.g. ``method`` without a class part (e000001).
    BAD_SYSTEM_PARAM = "bad_system_param"
    TIMESTAMP_OUT_OF_WINDOW = "timestamp_out_of_window"
    #: Unknown or disabled flag (seed style only; shopex style answers as the original).
    UNKNOWN_FLAG = "unknown_flag"
    SIGN_MISMATCH = "sign_mismatch"
    REPLAYED = "replayed"
    UNKNOWN_METHOD = "unknown_method"
    #: The flag is not granted the method, or the caller's IP is not allowed.
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    #: ``type`` other than ``json``.
    BAD_TYPE = "bad_type"
    INTERNAL = "internal"
    #: The database cannot serve now: HTTP 503 with ``Retry-After``; the same call may be
    #: signed again and retried.
    UNAVAILABLE = "unavailable"


#: Reason → (seed code, e-code).
REASON_CODES: dict[Reason, tuple[int, str]] = {
    Reason.MISSING_PARAM: (2001, "e000001"),
    Reason.BAD_PARAM: (2002, "e000006"),
    Reason.MISSING_APP_PARAM: (2001, "e000006"),
    Reason.BAD_SYSTEM_PARAM: (2002, "e000001"),
    Reason.TIMESTAMP_OUT_OF_WINDOW: (1002, "e000008"),
    # The original has no token for an unknown flag, so its sign check fails.
    Reason.UNKNOWN_FLAG: (1001, "e000002"),
    Reason.SIGN_MISMATCH: (1003, "e000002"),
    Reason.REPLAYED: (401, "e000009"),
    Reason.UNKNOWN_METHOD: (2003, "e000003"),
    Reason.FORBIDDEN: (403, "e000004"),
    Reason.RATE_LIMITED: (403, "e000004"),
    Reason.BAD_TYPE: (1004, "e000001"),
    # The original has no code for a crash; e000005 ("init interface fail") is the nearest.
    Reason.INTERNAL: (500, "e000005"),
    # Neither the seed nor the original has a "busy" code: the seed's numbering gets the HTTP
    # status, the original's style its nearest e-code; sub_msg and Retry-After say the rest.
    Reason.UNAVAILABLE: (503, "e000005"),
}


def _check_style(style: str) -> None:
    if style not in ("seed", "shopex"):
        raise ValueError(f"unknown response style {style!r}")


def render_success(data: dict[str, Any], style: Style) -> dict[str, Any]:
    """Success body. In the shopex style an empty ``data`` is ``[]``, as PHP encodes it."""
    _check_style(style)
    if style == "seed":
        return {"code": 0, "msg": SEED_MESSAGES[0], **data}
    return {"response": data if data else []}


def render_error(reason: Reason, sub_msg: Any, style: Style) -> dict[str, Any]:
    """Error body for ``reason``; ``sub_msg`` is the detail (``None`` for none).

    Like the original, the shopex style always sends ``sub_msg: null`` with e000006.
    """
    _check_style(style)
    seed_code, e_code = REASON_CODES[Reason(reason)]
    if style == "seed":
        return {"code": seed_code, "msg": SEED_MESSAGES[seed_code], "sub_msg": sub_msg}
    detail = None if e_code == "e000006" else sub_msg
    return {"error_response": {"code": e_code, "msg": E_MESSAGES[e_code], "sub_msg": detail}}


def sign_mismatch_detail(request_sign: str, assemble_str: str) -> str:
    """The original's sub_msg for a wrong sign: a JSON string (valid JSON, UTF-8 unescaped)."""
    return json.dumps(
        {"request_sign": request_sign, "assemble_str": assemble_str}, ensure_ascii=False
    )
