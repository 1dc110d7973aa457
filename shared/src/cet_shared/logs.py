"""Logs: one JSON object per line on stderr, with the service, the replica, the request id and the
trace, so a log line leads to its trace and to the gateway's access log line.

What goes into a message is the caller's responsibility: no personal data, no secrets (the
e2e journey's logs are checked for ID numbers, passwords, captcha answers and tokens).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

from opentelemetry import trace

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_identity = {
    "service": os.environ.get("OTEL_SERVICE_NAME", "cet"),
    "instance": os.environ.get("SERVICE_INSTANCE_ID") or f"{socket.gethostname()}-{os.getpid()}",
}


def identify(service: str, instance: str | None = None) -> None:
    """Name the process in every line from now on (its api or worker entry point calls this)."""
    _identity["service"] = service
    if instance:
        _identity["instance"] = instance


def instance_id() -> str:
    return _identity["instance"]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": _identity["service"],
            "instance": _identity["instance"],
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            line["trace_id"] = format(context.trace_id, "032x")
            line["span_id"] = format(context.span_id, "016x")
        rid = request_id.get()
        if rid:
            line["request_id"] = rid
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def setup_logging(level: str | None = None) -> None:
    """JSON lines on stderr for the root logger; uvicorn's loggers propagate to it."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("LOG_LEVEL", "INFO"))
    logging.captureWarnings(True)  # library warnings as JSON lines too
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    # httpx logs every URL it calls at INFO, query strings included (signed gateway calls)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # FastStream gives its broker loggers (`faststream.access.<broker>`) a coloured stdout handler
    # unless one on stdout is already there, and stops them propagating: give them ours first.
    for broker in ("kafka",):
        access = logging.getLogger(f"faststream.access.{broker}")
        stdout = logging.StreamHandler(sys.stdout)
        stdout.setFormatter(JsonFormatter())
        access.handlers[:] = [stdout]
