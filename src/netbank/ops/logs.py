"""Log lines for people (``LOG_FORMAT=text``) and for log shippers (``LOG_FORMAT=json``).

Both carry the id of the request being served (``netbank.ops.request_id``), so one
request's lines, its ``X-Request-ID`` answer header and its audit records can be matched.
The JSON line has a fixed set of fields and nothing else: a record's extras (Django puts
the whole request object there) never reach the line, since a request's query string can
carry single-use tokens.

Loaded by ``settings.LOGGING`` before the apps: imports no Django and nothing of the bank
but the request-id leaf.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from netbank.ops import request_id

FORMATS = ("json", "text")


def _request_id(record: logging.LogRecord) -> str | None:
    """The id bound while the record was made; else the id of the request the record is
    about (Django logs a 4xx answer after the middleware chain has returned)."""
    value = request_id.current()
    if value is None:
        value = getattr(getattr(record, "request", None), "request_id", None)
    return value if isinstance(value, str) else None


def _utc_time(record: logging.LogRecord) -> str:
    """When the record was made, ISO 8601 in UTC to the millisecond (2026-12-07T01:21:14.123Z)."""
    stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record a handler emits (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id(record) or "-"
        return True


class TextFormatter(logging.Formatter):
    """One line a person reads: UTC time, level, logger, request id, message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        return _utc_time(record)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id(record) or "-"
        return super().format(record)


class JsonFormatter(_JsonFormatter):
    """One JSON object a line: time (ISO 8601 UTC), level, logger, message, request_id
    (while a request is served) and exception (the traceback text, when there is one)."""

    def __init__(self) -> None:
        super().__init__(json_ensure_ascii=False)

    def add_fields(
        self,
        log_data: dict[str, Any],
        record: logging.LogRecord,
        message_dict: dict[str, Any],
    ) -> None:
        log_data["time"] = _utc_time(record)
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message
        rid = _request_id(record)
        if rid is not None:
            log_data["request_id"] = rid
        exception = message_dict.get("exc_info")
        if exception:
            log_data["exception"] = exception
        if message_dict.get("stack_info"):
            log_data["stack"] = message_dict["stack_info"]


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """``settings.LOGGING`` for ``log_format`` (an unknown one is reported by the start-up
    checks, netbank.E014; until then lines are text)."""
    formatter = log_format if log_format in FORMATS else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "netbank.ops.logs.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "netbank.ops.logs.JsonFormatter"},
            "text": {"()": "netbank.ops.logs.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Request lines can carry single-use tokens; the web server's own log is off.
            "django.server": {"handlers": [], "level": "ERROR", "propagate": False},
        },
    }
