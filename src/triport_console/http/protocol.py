"""uvicorn's httptools protocol with bounded request heads (spec §1.6).

httptools (llhttp) has no limit on the request line and headers, and uvicorn adds none: a 16 MB
header was served, and unfinished heads held memory for as long as the client liked. This
subclass bounds each head:

- size: the request line and headers together may be at most 32 KB. Bytes are counted as they
  arrive while a head is open, so an unfinished head never buffers more than 32 KB plus one read;
  the finished head is measured exactly before it is dispatched (that also covers a pipelined
  head that began inside a read). Past the bound: `431` with envelope code `headers_too_large`,
  and the connection is closed.
- time: a head must be complete within 10 s of its first byte (or of the connection opening);
  past that: `408` with envelope code `request_timeout`, and the connection is closed.

Such a request never reaches the application. The cost on the hot path is a subtraction per read
and a timer per request (see BENCHMARKS.md for the measured effect).
Selected by `triport-console serve` as uvicorn's `http` class.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..errors import ErrorCode
from ..limits import HEAD_TIMEOUT, MAX_HEAD
from .error_codes import error_response

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class _HeadRefused(Exception):
    """Raised from a parser callback to stop httptools; the protocol then answers 431."""


def refusal(code: ErrorCode, request_id: str) -> bytes:
    """A complete `Connection: close` HTTP/1.1 response carrying the error envelope."""
    body = error_response(code, request_id).body
    head = (
        f"HTTP/1.1 {code.status} ".encode()
        + _REASONS[code.status]
        + b"\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\nx-request-id: "
        + request_id.encode()
        + b"\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\n"
        + b"connection: close\r\n\r\n"
    )
    return head + body


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_budget: int | None = MAX_HEAD  # bytes left for the open head; None: no head
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused_code: ErrorCode | None = None

    # Connection and reads ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        budget = self._head_budget
        if budget is not None:
            self._head_budget = budget - len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            if self._refused_code is not None:
                self._refuse(self._refused_code)
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        remaining = self._head_budget
        if remaining is not None and remaining < 0 and not self.transport.is_closing():
            self._refuse(ErrorCode.HEADERS_TOO_LARGE)

    # Parser callbacks -------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        self._head_budget = None
        # The exact size (less optional whitespace): method, target, version, and each line.
        size = len(self.url) + 24 + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > MAX_HEAD:
            self._refused_code = ErrorCode.HEADERS_TOO_LARGE
            raise _HeadRefused()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_budget = MAX_HEAD  # the next pipelined or keep-alive head starts here

    # Refusals ---------------------------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._head_budget is not None and not self.transport.is_closing():
            self._refuse(ErrorCode.REQUEST_TIMEOUT)

    def _refuse(self, code: ErrorCode) -> None:
        self._disarm_head_timer()
        self._head_budget = None
        log = getattr(self.app, "log", None)
        request_id = _request_id()
        if log is not None:
            log.warning(code, request_id=request_id, client=self.client[0] if self.client else None)
        self.transport.write(refusal(code, request_id))
        self.transport.close()


def _request_id() -> str:
    from .app import new_request_id  # the app module imports this one's neighbours, not this

    return new_request_id()
