"""The 壹川 V3 envelope: ``{"code", "msg", "time", "data"}``, HTTP 200.

``time`` is the server's Unix time as a string (the seed shows ``"1525750287"``). Errors carry
``data: null`` and one of the codes below. Two refusals also carry their HTTP status, so that
proxies and HTTP clients see them too: a body too large (413) and a database that cannot serve
(503, with ``Retry-After``). The seed documents no such codes; they follow its numbering (the
HTTP status, then two digits).
"""

from __future__ import annotations

import time

OK = 0
BAD_PARAMETER = 40001
NOT_LOGGED_IN = 40101  # no token, unknown/forged token, expired, revoked, or user disabled
LOGIN_FAILED = 40102  # wrong username or password (never says which)
LOGIN_THROTTLED = 40103  # too many failed logins for this username or address
NO_PERMISSION = 40301  # the account is not yours (or does not exist, for a non-staff user)
UNKNOWN_ACCOUNT = 40401  # staff named an account number that does not exist
BODY_TOO_LARGE = 41301  # the request body is above the limit (HTTP 413)
SERVER_ERROR = 50000
UNAVAILABLE = 50300  # the database cannot serve now; retry later (HTTP 503, Retry-After)

CODES = {
    OK: "ok",
    BAD_PARAMETER: "bad parameter",
    NOT_LOGGED_IN: "not logged in, or the session has expired; log in again",
    LOGIN_FAILED: "wrong username or password",
    LOGIN_THROTTLED: "too many failed logins; try again later",
    NO_PERMISSION: "no permission for that account",
    UNKNOWN_ACCOUNT: "unknown account",
    BODY_TOO_LARGE: "request body too large",
    SERVER_ERROR: "server error",
    UNAVAILABLE: "service busy (database unavailable); try again later",
}


class YichuanError(Exception):
    """A refusal answered in the envelope."""

    def __init__(self, code: int, msg: str | None = None) -> None:
        super().__init__(msg or CODES[code])
        self.code = code
        self.msg = msg or CODES[code]


def now_text() -> str:
    return str(int(time.time()))


def ok(data) -> dict:
    return {"code": OK, "msg": "ok", "time": now_text(), "data": data}


def error(code: int, msg: str | None = None) -> dict:
    return {"code": code, "msg": msg or CODES[code], "time": now_text(), "data": None}
