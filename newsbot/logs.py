"""Structured, quiet-by-default logging: one JSON object a line on stderr."""

from __future__ import annotations

import json
import logging
import sys
import time

__all__ = ["configure_logging"]

# Attributes every LogRecord has; anything else was passed through `extra=` and is a field.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Formats a record as `{"ts", "level", "logger", "msg", ...extra fields}`."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging(*, level: str = "WARNING", json_lines: bool = True) -> None:
    """Route the project's and libraries' logs to stderr at `level`; idempotent."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_newsbot", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._newsbot = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.setLevel(level.upper())
    # These libraries log every request at INFO; keep them down unless asked for DEBUG.
    for noisy in ("httpx", "httpcore", "sentence_transformers", "transformers", "urllib3", "filelock", "trafilatura"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
