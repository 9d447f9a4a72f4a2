"""How the hub's processes log: a level and a format chosen once, by the ``hub`` command.

``text`` is one line per record for people; ``json`` is one JSON object per line for a log
collector, with ``message_id``, ``route`` and ``correlation_key`` whenever the record is about
one message. Those come from :func:`message_context` (set around a worker's turn, so every
record of the turn carries them, a connector's included) or from ``extra=`` at the log call.
Either way the password of any URL in a record is shown as ``***`` (:mod:`hub.redact`).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal, TextIO

from hub.redact import redact

__all__ = [
    "CHATTY_LOGGERS",
    "CONTEXT_FIELDS",
    "LOG_FORMATS",
    "LOG_LEVELS",
    "JsonFormatter",
    "LogFormat",
    "TextFormatter",
    "configure_logging",
    "current_logging",
    "message_context",
]

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

#: The fields a record about one message carries, in this order.
CONTEXT_FIELDS = ("message_id", "route", "correlation_key")

#: Libraries that log every request or job run at INFO: kept at WARNING unless DEBUG.
CHATTY_LOGGERS = ("uvicorn.access", "apscheduler", "httpx", "httpcore")

_context: ContextVar[Mapping[str, str] | None] = ContextVar("hub_log_context", default=None)


@contextmanager
def message_context(
    message_id: str, route: str | None = None, correlation_key: str | None = None
) -> Iterator[None]:
    """Every record logged in this block (in this thread) is about this message."""
    fields = {"message_id": message_id, "route": route, "correlation_key": correlation_key}
    token = _context.set({k: v for k, v in fields.items() if v is not None})
    try:
        yield
    finally:
        _context.reset(token)


def _fields(record: logging.LogRecord) -> dict[str, str]:
    """The message fields of a record: ``extra=`` wins over the surrounding context."""
    found = dict(_context.get() or {})
    for name in CONTEXT_FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            found[name] = str(value)
    return {name: found[name] for name in CONTEXT_FIELDS if name in found}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message and the message fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            **_fields(record),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [message_id=... route=... correlation_key=...]``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record))
        fields = _fields(record)
        if not fields:
            return text
        head, newline, rest = text.partition("\n")  # a traceback stays below the line
        tags = " ".join(f"{name}={value}" for name, value in fields.items())
        return f"{head} [{tags}]{newline}{rest}"


class _HubHandler(logging.StreamHandler[TextIO]):
    """Marks the handler this module installed, so configuring again replaces only it."""


def configure_logging(
    level: str = "INFO", log_format: LogFormat = "text", stream: TextIO | None = None
) -> None:
    """Log records at ``level`` and above to ``stream`` (stderr) in ``log_format``.

    The libraries in :data:`CHATTY_LOGGERS` stay at WARNING unless ``level`` is DEBUG: one
    line per HTTP request or scheduler run would bury the hub's own records.
    """
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LOG_LEVELS)}")
    if log_format not in LOG_FORMATS:
        raise ValueError(f"unknown log format {log_format!r}; use one of {', '.join(LOG_FORMATS)}")
    handler = _HubHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _HubHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number)
    chatty = number if number <= logging.DEBUG else max(number, logging.WARNING)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(chatty)


def current_logging() -> tuple[str, LogFormat]:
    """The level and format :func:`configure_logging` set last (a child process gets them)."""
    level = logging.getLevelName(logging.getLogger().level)
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, _HubHandler)]
    json_format = any(isinstance(h.formatter, JsonFormatter) for h in handlers)
    return (level if level in LOG_LEVELS else "INFO"), ("json" if json_format else "text")
