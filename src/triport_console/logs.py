"""Structured logs: one JSON object per line on stderr.

Callers pass explicit fields; nothing here ever receives a token, code, cookie or key secret, and
request paths are logged without their query string (the OpenID callback carries `code` there).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any, BinaryIO

import orjson

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class JsonLog:
    def __init__(self, level: str = "info", stream: BinaryIO | None = None) -> None:
        self._threshold = _LEVELS[level]
        self._stream = stream or sys.stderr.buffer

    def enabled(self, level: str) -> bool:
        return _LEVELS[level] >= self._threshold

    def write(self, level: str, event: str, **fields: Any) -> None:
        if _LEVELS[level] < self._threshold:
            return
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": level,
            "event": event,
            **fields,
        }
        self._stream.write(orjson.dumps(record, default=str) + b"\n")
        self._stream.flush()

    def info(self, event: str, **fields: Any) -> None:
        self.write("info", event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self.write("warning", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self.write("error", event, **fields)
