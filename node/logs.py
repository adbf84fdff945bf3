"""Logging: one line per record, as text (``make demo``) or JSON (production), each
carrying the id of the HTTP request it belongs to.

The request middleware (:mod:`node.observability`) puts the id in :data:`request_id`;
the handler installed by :func:`configured` adds it to every record, whichever logger
wrote it (the node, a plugin, uvicorn, a job thread started for the request).

The JSON formatter is ours rather than a library's (python-json-logger): it is twenty
lines, its field names are the ones docs/operations.md promises, and it keeps the
dependency list short.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal, TextIO

#: The id of the HTTP request being answered (``None`` outside requests: jobs, commands).
request_id: ContextVar[str | None] = ContextVar("maillon_request_id", default=None)

LogFormat = Literal["text", "json"]
#: Loggers too chatty at INFO: alembic describes its context at every schema check
#: (each ``/readyz``). They log warnings only, unless the level is DEBUG.
QUIETED = ("alembic",)
#: Attributes every LogRecord has: anything else on a record came from ``extra=``
#: (but uvicorn's ``color_message``, its message with terminal colours).
_RECORD_FIELDS = frozenset(
    (
        *vars(logging.LogRecord("", 0, "", 0, "", None, None)),
        "message",
        "asctime",
        "request_id",
        "color_message",
    )
)


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id"?, extra fields…,
    "exception"?}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        identifier = getattr(record, "request_id", None)
        if identifier is not None:
            entry["request_id"] = identifier
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [request <id>]`` for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        identifier = getattr(record, "request_id", None)
        return f"{line} [request {identifier}]" if identifier is not None else line


class RequestIdFilter(logging.Filter):
    """Add the current request id (or ``None``) to each record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class _Handler(logging.StreamHandler[TextIO]):
    """Writes to ``stream``, or to whatever ``sys.stderr`` is when the record comes."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream or sys.stderr)
        self.follow_stderr = stream is None

    def emit(self, record: logging.LogRecord) -> None:
        if self.follow_stderr:
            self.stream = sys.stderr  # under the handler's lock (Handler.handle)
        super().emit(record)


def make_handler(log_format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing one line per record in ``log_format``, with the request id."""
    handler = _Handler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


@contextmanager
def configured(log_format: LogFormat, level: str, stream: TextIO | None = None) -> Iterator[None]:
    """Send every logger's records through one handler at ``level`` while inside
    (``maillon serve`` and ``maillon worker``); the previous setup is restored after."""
    root = logging.getLogger()
    quieted = [logging.getLogger(name) for name in QUIETED]
    handler = make_handler(log_format, stream)
    saved = [(logger, logger.level) for logger in (root, *quieted)]
    root.addHandler(handler)
    root.setLevel(level)
    if root.getEffectiveLevel() > logging.DEBUG:
        for logger in quieted:
            logger.setLevel(max(logging.WARNING, root.level))
    try:
        yield
    finally:
        root.removeHandler(handler)
        for logger, saved_level in saved:
            logger.setLevel(saved_level)
        handler.close()
