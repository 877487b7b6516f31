"""Responses the Triport server never sends but a gateway in front of it can.

A load balancer or proxy answers with HTML or plain-text pages, other gateways with the nested
``{"error": {"code": ...}}`` envelope, and a rate limiter with ``Retry-After``. The real server
cannot be made to answer that way, so a small real HTTP server on loopback plays the gateway,
scripted per path, and counts what the SDK sends.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from triport import (
    ConsoleClient,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TriportError,
)

Reply = tuple[int, dict[str, str], bytes]
HTML = {"Content-Type": "text/html"}
NESTED = json.dumps(
    {
        "error": {
            "code": "invalid_email",
            "message": "Bad address.",
            "request_id": "req_0123456789abcdef",
        }
    }
).encode()


class Gateway:
    """Answers each ``(method, path)`` from a script; the last reply repeats."""

    def __init__(self) -> None:
        self.script: dict[tuple[str, str], list[Reply]] = {}
        self.hits: Counter[tuple[str, str]] = Counter()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                key = (self.command, self.path)
                gateway.hits[key] += 1
                replies = gateway.script.get(key, [(404, HTML, b"<h1>Not Found</h1>")])
                status, headers, body = replies[min(gateway.hits[key], len(replies)) - 1]
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    instance = Gateway()
    thread = threading.Thread(target=instance.server.serve_forever, daemon=True)
    thread.start()
    yield instance
    instance.server.shutdown()
    instance.server.server_close()


def test_a_body_that_is_not_json_becomes_http_status(gateway: Gateway) -> None:
    gateway.script[("GET", "/v1/auth/me")] = [(502, HTML, b"<h1>Bad Gateway</h1>")]
    gateway.script[("POST", "/v1/keys")] = [(503, {"Content-Type": "text/plain"}, b"down")]
    with ConsoleClient(base_url=gateway.base_url, max_retries=2) as console:
        with pytest.raises(ServerError) as read:
            console.auth.me()
        with pytest.raises(ServerError) as write:
            console.keys.create("x")
        with pytest.raises(NotFoundError) as missing:
            console.keys.list()
    assert (read.value.status, read.value.code) == (502, "http_502")
    assert (write.value.status, write.value.code) == (503, "http_503")
    assert (missing.value.status, missing.value.code) == (404, "http_404")
    # A GET is retried (1 + max_retries); a POST that may have happened is not.
    assert gateway.hits[("GET", "/v1/auth/me")] == 3
    assert gateway.hits[("POST", "/v1/keys")] == 1


def test_the_nested_error_envelope_is_understood(gateway: Gateway) -> None:
    gateway.script[("POST", "/v1/auth/email/start")] = [(400, {}, NESTED)]
    with (
        ConsoleClient(base_url=gateway.base_url) as console,
        pytest.raises(InvalidRequestError) as failure,
    ):
        console.auth.email_start("someone@example.com")
    assert (failure.value.code, failure.value.message) == ("invalid_email", "Bad address.")
    assert failure.value.request_id == "req_0123456789abcdef"


def test_a_get_waits_for_retry_after_and_a_post_raises_it(gateway: Gateway) -> None:
    limited = (429, {"Retry-After": "1", "Content-Type": "text/plain"}, b"slow down")
    gateway.script[("GET", "/v1/keys")] = [limited, (200, {}, b'{"keys": []}')]
    gateway.script[("POST", "/v1/auth/email/start")] = [limited]
    with ConsoleClient(base_url=gateway.base_url) as console:
        started = time.monotonic()
        assert console.keys.list() == []
        assert time.monotonic() - started >= 1.0
        with pytest.raises(RateLimitError) as failure:
            console.auth.email_start("someone@example.com")
    assert (failure.value.code, failure.value.retry_after) == ("http_429", 1.0)
    assert gateway.hits[("POST", "/v1/auth/email/start")] == 1


def test_logout_retries_gateway_errors_until_a_200(gateway: Gateway) -> None:
    bad = (502, HTML, b"<h1>Bad Gateway</h1>")
    gateway.script[("POST", "/v1/auth/logout")] = [bad, bad, (200, {}, b'{"ok": true}')]
    with ConsoleClient(base_url=gateway.base_url) as console:
        console.auth.logout(deadline=30)
    assert gateway.hits[("POST", "/v1/auth/logout")] == 3


def test_a_success_body_of_the_wrong_shape_is_an_invalid_response(gateway: Gateway) -> None:
    gateway.script[("GET", "/v1/auth/me")] = [(200, HTML, b"<h1>Welcome</h1>")]
    gateway.script[("GET", "/v1/keys")] = [(200, {}, b'{"keys": [{"id": 1}]}')]
    with ConsoleClient(base_url=gateway.base_url) as console:
        with pytest.raises(TriportError) as html:
            console.auth.me()
        with pytest.raises(TriportError) as shape:
            console.keys.list()
    assert html.value.code == shape.value.code == "invalid_response"
