"""uvicorn's httptools protocol with bounded request heads (spec §1.6) and one write per answer.

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

Such a request never reaches the application.

Two costs of stock uvicorn are paid once per connection or once per answer instead of per step
(issue 17; BENCHMARKS.md has the measurements):

- Deadlines. Stock uvicorn creates and cancels a timer per request for its keep-alive timeout,
  and the head bound above would add a second. Here each connection has one watchdog timer: a
  request only notes the time (`_head_since`, `_idle_since`), and the watchdog, when it fires,
  enforces whichever deadline has passed and re-arms itself for the next one. Same bounds: a
  head still gets 10 s, an idle keep-alive connection is still closed after `timeout_keep_alive`.
- Writes. Stock uvicorn writes the status line and headers, then the body: two socket writes,
  two TCP segments on loopback. `ResponseCycle` holds the head until the body comes and writes
  both at once, and checks the header names and values with one regular-expression search
  each over the whole block rather than two per header (the same characters are refused).

Selected by `triport-console serve` as uvicorn's `http` class.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
from uvicorn._types import ASGI3Application, ASGISendEvent
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

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
        self._refused_code: ErrorCode | None = None
        # Deadlines, as loop times: when the open head began, when the connection fell idle.
        self._head_since: float | None = None
        self._idle_since: float | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._watchdog_at = 0.0

    # Connection and reads ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_since = self.loop.time()
        self._watch(self._head_since + HEAD_TIMEOUT)

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_since = self._idle_since = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        budget = self._head_budget
        if budget is not None:
            self._head_budget = budget - len(data)
        self._idle_since = None  # uvicorn's `_unset_keepalive_if_required`, without a timer
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

    def _unset_keepalive_if_required(self) -> None:
        self._idle_since = None

    # Parser callbacks -------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_since is None:
            self._head_since = self.loop.time()
            self._watch(self._head_since + HEAD_TIMEOUT)

    def on_headers_complete(self) -> None:
        self._head_since = None
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

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        # Before the task first runs, so every `send` of this request is ResponseCycle's (a
        # subclass that adds no state: only `send` differs).
        cycle.__class__ = ResponseCycle
        super()._start_asgi_task(cycle, app)

    def on_response_complete(self) -> None:
        """uvicorn's, with the keep-alive deadline noted for the watchdog, not a timer."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self._idle_since = self.loop.time()
            self._watch(self._idle_since + self.timeout_keep_alive)

    # Deadlines --------------------------------------------------------------------------------
    def _watch(self, deadline: float) -> None:
        """Have the watchdog fire by `deadline` (an armed one that fires sooner will do)."""
        if self._watchdog is not None:
            if self._watchdog_at <= deadline:
                return
            self._watchdog.cancel()
        self._watchdog_at = deadline
        self._watchdog = self.loop.call_at(deadline, self._deadlines_due)

    def _deadlines_due(self) -> None:
        self._watchdog = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        head, idle = self._head_since, self._idle_since
        if head is not None and head + HEAD_TIMEOUT <= now:
            self._refuse(ErrorCode.REQUEST_TIMEOUT)
        elif idle is not None and idle + self.timeout_keep_alive <= now:
            self.transport.close()  # uvicorn's keep-alive timeout
        else:
            pending = [
                *([head + HEAD_TIMEOUT] if head is not None else []),
                *([idle + self.timeout_keep_alive] if idle is not None else []),
            ]
            if pending:
                self._watch(min(pending))

    # Refusals ---------------------------------------------------------------------------------
    def _refuse(self, code: ErrorCode) -> None:
        self._head_since = None
        self._head_budget = None
        log = getattr(self.app, "log", None)
        request_id = _request_id()
        if log is not None:
            log.warning(code, request_id=request_id, client=self.client[0] if self.client else None)
        self.transport.write(refusal(code, request_id))
        self.transport.close()


class ResponseCycle(RequestResponseCycle):
    """uvicorn's request-response cycle, writing each answer's head and body in one write.

    `send` follows uvicorn's (`httptools_impl.RequestResponseCycle.send`) step by step: the
    same checks, Content-Length accounting, chunked framing, HEAD and keep-alive rules. Only the
    head's write is held until the first body message.
    """

    _head = b""  # the status line and headers, until the first body message writes them

    async def send(self, message: ASGISendEvent) -> None:
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return
        if not self.response_started:
            if message["type"] != "http.response.start":
                raise RuntimeError(f"Expected 'http.response.start', got '{message['type']}'.")
            self.response_started = True
            self.waiting_for_100_continue = False
            self._head = self._start(message["status"], message.get("headers", ()))
            return
        if self.response_complete:
            raise RuntimeError(f"Unexpected '{message['type']}' after the response completed.")
        if message["type"] != "http.response.body":
            raise RuntimeError(f"Expected 'http.response.body', got '{message['type']}'.")
        body: bytes = message.get("body", b"")
        more_body: bool = message.get("more_body", False)
        if self.scope["method"] == "HEAD":
            self.expected_content_length = 0
            body = b""
        elif self.chunked_encoding:
            body = (b"%x\r\n%b\r\n" % (len(body), body) if body else b"") + (
                b"" if more_body else b"0\r\n\r\n"
            )
        else:
            if len(body) > self.expected_content_length:
                raise RuntimeError("Response content longer than Content-Length")
            self.expected_content_length -= len(body)
        head, self._head = self._head, b""
        if head or body:
            self.transport.write(head + body)
        if not more_body:
            if self.expected_content_length != 0:
                raise RuntimeError("Response content shorter than Content-Length")
            self.response_complete = True
            self.message_event.set()
            if not self.keep_alive:
                self.transport.close()
            self.on_response()

    def _start(self, status: int, headers: Any) -> bytes:
        """The status line and header block; raises on a name or value that is not allowed."""
        lines = [STATUS_LINE[status]]
        names: list[bytes] = []
        values: list[bytes] = []
        has_connection_close = False
        for raw_name, value in (*self.default_headers, *headers):
            name = raw_name.lower()
            names.append(name)
            values.append(value)
            if name == b"content-length" and self.chunked_encoding is None:
                self.expected_content_length = int(value.decode())
                self.chunked_encoding = False
            elif name == b"transfer-encoding" and value.lower() == b"chunked":
                self.expected_content_length = 0
                self.chunked_encoding = True
            elif name == b"connection" and b"close" in [
                token.lower().strip() for token in value.split(b",")
            ]:
                self.keep_alive = False
                has_connection_close = True
            lines += (name, b": ", value, b"\r\n")
        # Neither check can match a joint: names are joined with nothing, values with a tab.
        if HEADER_RE.search(b"".join(names)):
            raise RuntimeError("Invalid HTTP header name.")
        if HEADER_VALUE_RE.search(b"\t".join(values)):
            raise RuntimeError("Invalid HTTP header value.")
        if not self.keep_alive and not has_connection_close:
            lines.append(b"connection: close\r\n")
        if (
            self.chunked_encoding is None
            and self.scope["method"] != "HEAD"
            and status not in (204, 304)
        ):
            self.chunked_encoding = True
            lines.append(b"transfer-encoding: chunked\r\n")
        lines.append(b"\r\n")
        return b"".join(lines)


def _request_id() -> str:
    from .app import new_request_id  # the app module imports this one's neighbours, not this

    return new_request_id()
