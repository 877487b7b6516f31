"""Structured logs: one JSON object per line on standard output.

Standard output carries nothing else while serving: uvicorn's own records are routed here too
(`JsonLogHandler`, installed by `uvicorn_log_config`). Text meant for a person at the terminal
(the start banner, the development mailer's codes) goes to standard error instead.

Callers pass explicit fields; nothing here ever receives a token, code, cookie or key secret, and
request paths are logged without their query string (the OpenID callback carries `code` there).

Each line is one `os.write` of one buffer: no Python-level buffering to lose on a crash, and
lines from several worker processes sharing one pipe never interleave (writes under PIPE_BUF are
atomic). The time prefix is formatted once per second, since this runs on every request.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import orjson

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class JsonLog:
    def __init__(self, level: str = "info", fd: int = 1) -> None:
        self._threshold = _LEVELS[level]
        self._fd = fd
        self._second = -1
        self._prefix = ""
        self.info_enabled = self.enabled("info")

    def enabled(self, level: str) -> bool:
        return _LEVELS[level] >= self._threshold

    def _now(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{int((now - second) * 1000):03d}Z"

    def write(self, level: str, event: str, **fields: Any) -> None:
        if _LEVELS[level] < self._threshold:
            return
        record = {"time": self._now(), "level": level, "event": event, **fields}
        line = orjson.dumps(record, default=str, option=orjson.OPT_APPEND_NEWLINE)
        os.write(self._fd, line)

    def request(
        self,
        request_id: str,
        method: str,
        path: str,
        status: int,
        duration_ms: float,
        client: str | None,
    ) -> None:
        """The one line per request (at info), the same object `info("request", …)` writes,
        without building a keyword dictionary on every request."""
        if not self.info_enabled:
            return
        record = {
            "time": self._now(),
            "level": "info",
            "event": "request",
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "client": client,
        }
        os.write(self._fd, orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))

    def info(self, event: str, **fields: Any) -> None:
        self.write("info", event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self.write("warning", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self.write("error", event, **fields)


class JsonLogHandler(logging.Handler):
    """Standard-library log records (uvicorn's) as JSON lines on standard output."""

    def __init__(self, level: str = "info") -> None:
        super().__init__()
        self._log = JsonLog(level)

    def emit(self, record: logging.LogRecord) -> None:
        level = record.levelname.lower()
        level = {"critical": "error", "notset": "debug"}.get(level, level)
        fields: dict[str, Any] = {"logger": record.name, "message": record.getMessage()}
        if record.exc_info and record.exc_info[0] is not None:
            fields["error"] = record.exc_info[0].__name__
            fields["traceback"] = logging.Formatter().formatException(record.exc_info)
        try:
            self._log.write(level if level in _LEVELS else "error", "server", **fields)
        except Exception:
            self.handleError(record)


def uvicorn_log_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn: its loggers write through JsonLogHandler."""
    name = logging.getLevelName(_LEVELS[level])  # at info: worker starts, deaths, restarts
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"json": {"()": JsonLogHandler, "level": name}},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": name, "propagate": False},
            "uvicorn.error": {"handlers": ["json"], "level": name, "propagate": False},
            "uvicorn.access": {"handlers": ["json"], "level": name, "propagate": False},
        },
    }
