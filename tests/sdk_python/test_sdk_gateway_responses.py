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
    APIConnectionError,
    ConsoleClient,
    CsrfError,
    InvalidRequestError,
    KeyList,
    NotFoundError,
    OkResult,
    PermissionDeniedError,
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
        # Seconds to wait before answering the n-th request to a path (the last repeats).
        self.delays: dict[tuple[str, str], list[float]] = {}
        self.hits: Counter[tuple[str, str]] = Counter()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                key = (self.command, self.path)
                gateway.hits[key] += 1
                replies = gateway.script.get(key, [(404, HTML, b"<h1>Not Found</h1>")])
                status, headers, body = replies[min(gateway.hits[key], len(replies)) - 1]
                delays = gateway.delays.get(key, [0.0])
                time.sleep(delays[min(gateway.hits[key], len(delays)) - 1])
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

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
        assert console.keys.list() == KeyList(keys=[])
        assert time.monotonic() - started >= 1.0
        with pytest.raises(RateLimitError) as failure:
            console.auth.email_start("someone@example.com")
    assert (failure.value.code, failure.value.retry_after) == ("http_429", 1.0)
    assert gateway.hits[("POST", "/v1/auth/email/start")] == 1


def test_logout_retries_gateway_errors_until_a_200(gateway: Gateway) -> None:
    bad = (502, HTML, b"<h1>Bad Gateway</h1>")
    gateway.script[("POST", "/v1/auth/logout")] = [bad, bad, (200, {}, b'{"ok": true}')]
    with ConsoleClient(base_url=gateway.base_url) as console:
        assert console.auth.logout(deadline=30) == OkResult(ok=True)
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


def test_only_csrf_codes_are_csrf_errors_another_403_is_permission_denied(
    gateway: Gateway,
) -> None:
    refused = json.dumps({"error": "forbidden", "message": "Blocked by policy."}).encode()
    gateway.script[("GET", "/v1/auth/me")] = [
        (403, {"X-Request-Id": "req_00000000000000aa"}, refused)
    ]
    gateway.script[("POST", "/v1/keys")] = [(403, HTML, b"<h1>Forbidden</h1>")]
    csrf = json.dumps({"error": "csrf_invalid", "message": "Bad token."}).encode()
    gateway.script[("DELETE", "/v1/keys/k")] = [(403, {}, csrf)]
    with ConsoleClient(base_url=gateway.base_url, max_retries=0) as console:
        with pytest.raises(PermissionDeniedError) as policy:
            console.auth.me()
        with pytest.raises(PermissionDeniedError) as page:
            console.keys.create("x")
        with pytest.raises(CsrfError) as token:
            console.keys.revoke("k")
    assert not isinstance(policy.value, CsrfError) and not isinstance(page.value, CsrfError)
    assert (policy.value.status, policy.value.code, policy.value.message) == (
        403,
        "forbidden",
        "Blocked by policy.",
    )
    assert policy.value.request_id == "req_00000000000000aa"
    assert (page.value.code, token.value.code) == ("http_403", "csrf_invalid")


def test_errors_carry_the_response_headers(gateway: Gateway) -> None:
    limited = (429, {"Retry-After": "7", "X-Gateway": "edge-1"}, b"slow down")
    gateway.script[("POST", "/v1/auth/email/start")] = [limited]
    with (
        ConsoleClient(base_url=gateway.base_url) as console,
        pytest.raises(RateLimitError) as failure,
    ):
        console.auth.email_start("someone@example.com")
    assert failure.value.headers["x-gateway"] == "edge-1"
    assert failure.value.headers["Retry-After"] == "7"
    assert failure.value.retry_after == 7.0


def test_a_timeout_set_on_one_call_applies_to_that_call_only(gateway: Gateway) -> None:
    gateway.script[("GET", "/v1/keys")] = [(200, {}, b'{"keys": []}')]
    gateway.delays[("GET", "/v1/keys")] = [1.0]
    with ConsoleClient(base_url=gateway.base_url, max_retries=0, timeout=30) as console:
        with pytest.raises(APIConnectionError) as failure:
            console.keys.list(timeout=0.2)
        assert console.keys.list() == KeyList(keys=[])
    assert (failure.value.status, failure.value.code) == (None, "timeout")
    assert gateway.hits[("GET", "/v1/keys")] == 2


def test_a_logout_attempt_is_bounded_by_the_timeout_of_the_call(gateway: Gateway) -> None:
    ok = (200, {}, b'{"ok": true}')
    gateway.script[("POST", "/v1/auth/logout")] = [ok]
    # The first attempt hangs past the per-attempt timeout; the retry is answered at once.
    gateway.delays[("POST", "/v1/auth/logout")] = [2.0, 0.0]
    with ConsoleClient(base_url=gateway.base_url, timeout=30) as console:
        assert console.auth.logout(deadline=20, timeout=0.3) == OkResult(ok=True)
    assert gateway.hits[("POST", "/v1/auth/logout")] == 2
