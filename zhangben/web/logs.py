"""Log lines as JSON objects (``ZHANGBEN_LOG_FORMAT=json``): one line per record.

Every line has ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``, ``pid``,
``message``, the ``request_id`` of the request it was written during (if any), the fields a
record carries in ``extra={"fields": {...}}`` (the request lines of :mod:`.observe`), and
``exception`` (the formatted traceback) for an error logged with one.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from zhangben.web.observe import REQUEST_ID


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        # ASCII: a lone surrogate in a request-supplied text cannot break the stream
        return json.dumps(line, default=str)
