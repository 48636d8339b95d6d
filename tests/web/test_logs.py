"""The JSON log format: one line per record, always valid JSON (also for request-supplied
text that is not valid Unicode), with the request id and the record's fields."""

from __future__ import annotations

import json
import logging

from zhangben.web.logs import JsonFormatter
from zhangben.web.observe import REQUEST_ID


def record(message: str, *args, exc_info=None, **extra) -> logging.LogRecord:
    made = logging.LogRecord("zhangben.test", logging.WARNING, __file__, 1, message, args, exc_info)
    made.__dict__.update(extra)
    return made


def test_a_line_is_one_json_object():
    line = JsonFormatter().format(record("on %s: 账本", "/v3/\ud800\n"))
    assert "\n" not in line and line.isascii()
    parsed = json.loads(line)
    assert parsed["message"] == "on /v3/\ud800\n: 账本"
    assert (parsed["level"], parsed["logger"]) == ("WARNING", "zhangben.test")
    assert parsed["time"].endswith("+00:00") and isinstance(parsed["pid"], int)
    assert "request_id" not in parsed and "exception" not in parsed


def test_the_request_id_and_the_fields():
    token = REQUEST_ID.set("req-7")
    try:
        line = JsonFormatter().format(record("x", fields={"status": 503, "surface": "rest"}))
    finally:
        REQUEST_ID.reset(token)
    parsed = json.loads(line)
    assert (parsed["request_id"], parsed["status"], parsed["surface"]) == ("req-7", 503, "rest")


def test_an_exception_is_one_field():
    try:
        raise ValueError("boom")
    except ValueError as exc:
        line = JsonFormatter().format(
            record("failed", exc_info=(type(exc), exc, exc.__traceback__))
        )
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["exception"].startswith("Traceback") and "ValueError: boom" in parsed["exception"]
