"""Request heads (spec §1.6): bounded in size and time, never served past the bounds; HEAD.

Raw sockets against the real server, since an HTTP client library would refuse to send most of
these requests.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.harness import ServerProcess


def connect(server: ServerProcess) -> socket.socket:
    url = urlsplit(server.base_url)
    assert url.hostname is not None and url.port is not None
    sock = socket.create_connection((url.hostname, url.port))
    sock.settimeout(20)
    return sock


def read_reply(sock: socket.socket) -> bytes:
    reply = b""
    try:
        while chunk := sock.recv(65536):
            reply += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return reply


def envelope(reply: bytes) -> dict[str, str]:
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    parsed: dict[str, str] = json.loads(body)
    assert parsed["request_id"].encode() in head
    return parsed


def assert_healthy(server: ServerProcess) -> None:
    assert httpx.get(server.base_url + "/healthz", timeout=5).status_code == 200


def test_a_16_mb_header_is_refused_with_431_and_the_server_stays_healthy(server):
    sock = connect(server)
    with sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        try:
            while sent < 16 * 1024 * 1024:
                sock.sendall(b"a" * 65536)
                sent += 65536
            sock.sendall(b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection at the bound: refused, as it must be
        reply = read_reply(sock)
    assert sent < 16 * 1024 * 1024 or reply.startswith(b"HTTP/1.1 431")
    if reply:  # a reset can swallow the answer; what matters is that it is never served
        assert reply.startswith(b"HTTP/1.1 431 "), reply[:200]
        assert envelope(reply)["error"] == "headers_too_large"
    assert_healthy(server)


def test_a_head_just_over_32_kb_is_431_even_in_one_read(server):
    with connect(server) as sock:
        sock.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (33 * 1024) + b"\r\n\r\n"
        )
        reply = read_reply(sock)
    assert reply.startswith(b"HTTP/1.1 431 "), reply[:200]
    assert envelope(reply)["error"] == "headers_too_large"
    assert_healthy(server)


def test_a_pipelined_oversized_head_is_measured_exactly_and_never_served(server):
    """The second head starts inside the read that carried the first request: it is measured
    whole when complete and refused; the connection closes (the first may go unanswered)."""
    first = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    second = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (40 * 1024) + b"\r\n\r\n"
    with connect(server) as sock:
        sock.sendall(first + second)
        reply = read_reply(sock)
    assert b"HTTP/1.1 431 " in reply
    assert reply.count(b"HTTP/1.1 200 ") <= 1
    assert_healthy(server)


def test_a_head_of_30_kb_is_still_served(server):
    with connect(server) as sock:
        sock.sendall(
            b"GET /v1/auth/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + b"Cookie: pad="
            + b"a" * (30 * 1024)
            + b"\r\n\r\n"
        )
        reply = read_reply(sock)
    assert reply.startswith(b"HTTP/1.1 401 "), reply[:200]
    assert b'"error":"unauthenticated"' in reply


def test_a_trickled_head_is_cut_off_after_10_seconds(server):
    """Slowloris: one header line a second, never finishing; the server answers 408 and closes
    about 10 s after the first byte instead of holding the connection."""
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        reply = b""
        for index in range(30):
            time.sleep(0.5)
            try:
                sock.sendall(f"X-Drip-{index}: a\r\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.settimeout(0.01)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            reply += chunk
            if not chunk or reply:
                break
        sock.settimeout(5)
        reply += read_reply(sock)
        elapsed = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408 "), reply[:200]
    assert envelope(reply)["error"] == "request_timeout"
    assert 9 <= elapsed <= 14
    assert_healthy(server)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/v1/auth/me", "/openapi.json"])
def test_head_answers_like_get_without_a_body(server, path):
    get = httpx.get(server.base_url + path)
    head = httpx.head(server.base_url + path)
    assert head.status_code == get.status_code
    assert head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    ignore = {"x-request-id", "content-length", "date"}
    assert {k: v for k, v in head.headers.items() if k not in ignore} == {
        k: v for k, v in get.headers.items() if k not in ignore
    }


def read_response(sock: socket.socket, buffer: bytearray, has_body: bool = True) -> bytes:
    """One whole response (status line to the end of its Content-Length body) off `buffer`,
    reading more from `sock` as needed; what follows it stays in `buffer`."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed mid-response: {bytes(buffer)[:200]!r}"
        buffer += chunk
    head_end = buffer.index(b"\r\n\r\n") + 4
    head = bytes(buffer[:head_end]).lower()
    length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0]) if has_body else 0
    while len(buffer) < head_end + length:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed mid-body"
        buffer += chunk
    response = bytes(buffer[: head_end + length])
    del buffer[: head_end + length]
    return response


def seconds_until_closed(sock: socket.socket, limit: float) -> float:
    started = time.monotonic()
    sock.settimeout(limit)
    with contextlib.suppress(ConnectionResetError):
        assert sock.recv(65536) == b""
    return time.monotonic() - started


def test_pipelined_requests_are_answered_in_order_each_whole(server):
    """Three requests in one write: three answers, in order, each with its own head and body."""
    with connect(server) as sock:
        sock.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /v1/auth/me HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        buffer = bytearray()
        first = read_response(sock, buffer)
        second = read_response(sock, buffer, has_body=False)
        third = read_response(sock, buffer)
    assert first.startswith(b"HTTP/1.1 200 ") and first.endswith(b'{"ok":true}')
    assert second.startswith(b"HTTP/1.1 200 ") and second.endswith(b"\r\n\r\n")
    assert b"content-length: 11\r\n" in second.lower()
    assert third.startswith(b"HTTP/1.1 401 ") and b'"error":"unauthenticated"' in third
    assert buffer == b""


def test_an_idle_kept_alive_connection_is_closed_after_5_seconds(server):
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock, bytearray()).startswith(b"HTTP/1.1 200 ")
        assert 4 <= seconds_until_closed(sock, 15) <= 9


def test_a_connection_in_use_outlives_the_keep_alive_timeout(server):
    """A request every second for 8 s, on one connection: each is answered; the keep-alive
    deadline counts from the last answer, not from the first."""
    with connect(server) as sock:
        buffer = bytearray()
        for _ in range(8):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(sock, buffer).startswith(b"HTTP/1.1 200 ")
            time.sleep(1)


def test_a_head_begun_on_a_kept_alive_connection_gets_its_whole_10_seconds(server):
    """After an answer, 2 s idle, then a head trickled a line a second: the keep-alive timeout
    no longer applies once a byte has come; the head's own bound does (408, ~10 s)."""
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock, bytearray()).startswith(b"HTTP/1.1 200 ")
        time.sleep(2)
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        sock.settimeout(1)
        reply = b""
        for index in range(20):
            try:
                sock.sendall(f"X-Drip-{index}: a\r\n".encode())
                reply += sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            break
        sock.settimeout(5)
        reply += read_reply(sock)
        elapsed = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408 "), reply[:200]
    assert 9 <= elapsed <= 14
