"""Structured logs: one JSON object per line on standard output.

Standard output carries nothing else while serving: uvicorn's own records are routed here too
(`JsonLogHandler`, installed by `uvicorn_log_config`). Text meant for a person at the terminal
(the start banner, the development mailer's codes) goes to standard error instead.

Callers pass explicit fields; nothing here ever receives a token, code, cookie or key secret, and
request paths are logged without their query string (the OpenID callback carries `code` there).

Lines are written whole with `os.write`, at most PIPE_BUF bytes at a time, so lines from several
worker processes sharing one pipe never interleave (such writes are atomic). While the app
serves, its log writes the lines of one event-loop turn together, at the end of that turn
(`write_per_turn`): under load one turn answers many requests, and one write for all their lines
replaces a system call per request (issue 17). What a crash can lose is the current turn's
lines, which describe answers that have just been sent; nothing is held longer than that turn.
Lines logged from another thread (the SQLite writer's), or at any other time, are written at
once. The time prefix is formatted once per second, since this runs on every request.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import threading
import time
from typing import Any

import orjson

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_ATOMIC = getattr(select, "PIPE_BUF", 512)  # the most one write may carry (POSIX: at least 512)


class JsonLog:
    def __init__(self, level: str = "info", fd: int = 1) -> None:
        self._threshold = _LEVELS[level]
        self._fd = fd
        self._second = -1
        self._prefix = ""
        self.info_enabled = self.enabled("info")
        self._loop: asyncio.AbstractEventLoop | None = None  # see write_per_turn
        self._loop_thread = 0
        self._pending = bytearray()  # this turn's lines, not yet written
        self._flush_due = False  # a flush is scheduled at the end of the turn

    def write_per_turn(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """From now on, lines logged on `loop` (called on its thread) are written together at
        the end of each of its turns; with None, at once again. Pending lines go out first."""
        self.flush()
        self._loop = loop
        self._loop_thread = threading.get_ident() if loop is not None else 0

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
        self._emit(orjson.dumps(record, default=str, option=orjson.OPT_APPEND_NEWLINE))

    def request(
        self,
        request_id: str,
        method: str,
        path: str,
        status: int,
        duration_ms: float,
        client: str | None,
        outcome: str | None = None,
    ) -> None:
        """The one line per request (at info), the same object `info("request", …)` writes,
        without building a keyword dictionary on every request; `outcome` where the route
        records one (a logout's: `revoked`, `nothing_live`, `failed`)."""
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
        if outcome is not None:
            record["outcome"] = outcome
        self._emit(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))

    def _emit(self, line: bytes) -> None:
        # The thread, not asyncio.get_running_loop(): that one makes a getpid() system call.
        if self._loop is None or threading.get_ident() != self._loop_thread:
            os.write(self._fd, line)
            return
        if not self._flush_due:  # the turn's first line
            self._flush_due = True
            self._loop.call_soon(self.flush)
        elif len(self._pending) + len(line) > _ATOMIC:
            self._write_pending()
        if len(line) > _ATOMIC:  # nothing is pending here: it keeps its place in the order
            os.write(self._fd, line)
        else:
            self._pending += line

    def flush(self) -> None:
        """Write the pending lines now (the end of each loop turn does this by itself)."""
        self._flush_due = False
        self._write_pending()

    def _write_pending(self) -> None:
        if self._pending:
            lines = bytes(self._pending)
            self._pending.clear()
            os.write(self._fd, lines)

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
