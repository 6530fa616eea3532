"""Log lines as JSON objects, one a line, each carrying the id of the request it was written for.

`core.middleware.RequestIdMiddleware` sets `request_id` for the time of a request: a context variable, so the
threads of one process (gunicorn's gthread workers) never mix their ids. `RequestIdFilter` copies it onto every
record; `JsonFormatter` writes the line. `settings.LOGGING` wires both (VIGIE_LOG_FORMAT picks json or plain).
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str | None] = ContextVar("vigie_request_id", default=None)

# What every record carries: anything else was given as `extra=` and becomes a field of the line.
RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
FIELD_TYPES = (str, int, float, bool)  # objects passed as extra (Django's `request`) are left out, never str()-ed


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record: the id of the request being served, None outside any request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: timestamp (ISO 8601, UTC), level, logger, message, request_id, then extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", None):
            line["request_id"] = record.request_id
        for key, value in vars(record).items():
            if key not in RECORD_ATTRIBUTES and key not in line and isinstance(value, FIELD_TYPES):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)
