"""Spec §1: envelope, request ids, routing codes, CORS, caching, and bad input of every kind."""

from __future__ import annotations

import contextlib
import socket
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.harness import ServerProcess
from tests.support.http import REQUEST_ID, assert_envelope, session_headers

CONSOLE = "https://console.example"


@pytest.fixture
def cors_server(make_server) -> ServerProcess:
    return make_server({"TRIPORT_ALLOWED_ORIGINS": f"{CONSOLE}, http://localhost:5173"})


def test_every_response_carries_a_request_id(server):
    for response in (
        httpx.get(server.base_url + "/healthz"),
        httpx.get(server.base_url + "/v1/auth/me"),
        httpx.post(server.base_url + "/v1/auth/logout"),
    ):
        assert REQUEST_ID.fullmatch(response.headers["x-request-id"])
    ids = {httpx.get(server.base_url + "/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_a_well_formed_client_request_id_is_reused_and_a_bad_one_replaced(server):
    reused = httpx.get(server.base_url + "/v1/auth/me", headers={"X-Request-Id": "trace-42.a_b"})
    assert reused.headers["x-request-id"] == "trace-42.a_b"
    assert reused.json()["request_id"] == "trace-42.a_b"
    for bad in ("x" * 65, "has space", "semi;colon", ""):
        replaced = httpx.get(server.base_url + "/v1/auth/me", headers={"X-Request-Id": bad})
        assert REQUEST_ID.fullmatch(replaced.headers["x-request-id"])


def test_unknown_path_is_route_not_found(server):
    for path in ("/nope", "/v1/auth", "/v1/auth/me/", "/v1/auth/logout/extra", "/%2e%2e/etc"):
        assert_envelope(httpx.get(server.base_url + path), 404, "route_not_found")


@pytest.mark.parametrize(
    ("path", "verb", "allow"),
    [
        ("/v1/auth/me", "POST", "GET, HEAD"),
        ("/v1/auth/me", "DELETE", "GET, HEAD"),
        ("/v1/auth/email/start", "GET", "POST"),
        ("/v1/auth/email/verify", "PUT", "POST"),
        ("/healthz", "POST", "GET, HEAD"),
    ],
)
def test_wrong_verb_is_405_with_allow(server, path, verb, allow):
    response = httpx.request(verb, server.base_url + path)
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow


def test_auth_responses_are_not_cached(server):
    for response in (
        httpx.get(server.base_url + "/v1/auth/me"),
        httpx.post(server.base_url + "/v1/auth/logout"),
        httpx.post(server.base_url + "/v1/auth/email/start", json={"email": "bad"}),
    ):
        assert response.headers["cache-control"] == "no-store"


def test_configured_origin_gets_credentialed_cors(cors_server):
    response = httpx.get(cors_server.base_url + "/v1/auth/me", headers={"Origin": CONSOLE})
    assert response.headers["access-control-allow-origin"] == CONSOLE
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in response.headers["vary"]


def test_other_origins_get_no_cors_headers(cors_server):
    for origin in (
        "https://evil.example",
        "null",
        CONSOLE + ".evil.example",
        "https://console.example:444",
    ):
        response = httpx.get(cors_server.base_url + "/v1/auth/me", headers={"Origin": origin})
        assert not [h for h in response.headers if h.startswith("access-control-")]


@pytest.mark.parametrize("path", ["/v1/auth/logout", "/v1/auth/me", "/v1/auth/email/start"])
def test_preflight_is_answered_before_method_routing(cors_server, path):
    response = httpx.options(
        cors_server.base_url + path,
        headers={
            "Origin": CONSOLE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-csrf-token",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == CONSOLE
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed and "x-csrf-token" in allowed


def test_preflight_from_an_unknown_origin_gets_no_cors_headers(cors_server):
    response = httpx.options(
        cors_server.base_url + "/v1/auth/logout",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code != 405
    assert not [h for h in response.headers if h.startswith("access-control-")]


def test_an_allowed_console_origin_may_mutate(cors_server, new_session):
    client = new_session(cors_server)
    token, csrf = client.cookies["nl_session"], client.cookies["nl_csrf"]
    response = httpx.post(
        cors_server.base_url + "/v1/auth/logout",
        headers={**session_headers(token, csrf, csrf), "Origin": CONSOLE},
    )
    assert response.status_code == 200


# Bad input ---------------------------------------------------------------------------------
START = "/v1/auth/email/start"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"not json",
        b"[]",
        b'"a string"',
        b"42",
        b"null",
        b"true",
        b'{"email": "a@b.co"',
        b"\xff\xfe",
        b'{"email": "\\ud800"}x',
    ],
)
def test_malformed_or_non_object_json_is_invalid_json(server, smtp_sink, content):
    before = len(smtp_sink.messages)
    response = httpx.post(
        server.base_url + START, content=content, headers={"Content-Type": "application/json"}
    )
    assert_envelope(response, 400, "invalid_json")
    assert len(smtp_sink.messages) == before


def test_bodies_over_4096_bytes_are_invalid_json(server, smtp_sink):
    before = len(smtp_sink.messages)
    padding = "x" * 4100
    big = ('{"email": "big@example.com", "pad": "' + padding + '"}').encode()
    assert_envelope(httpx.post(server.base_url + START, content=big), 400, "invalid_json")

    def chunks():  # no Content-Length: the server must count while reading
        yield b'{"email": "big@example.com", "pad": "'
        for _ in range(100):
            yield b"x" * 100
        yield b'"}'

    assert_envelope(httpx.post(server.base_url + START, content=chunks()), 400, "invalid_json")
    exactly = b'{"email": "fits@example.com", "pad": "' + b"x" * (4096 - 40) + b'"}'
    assert len(exactly) == 4096
    assert httpx.post(server.base_url + START, content=exactly).status_code == 200
    assert len(smtp_sink.messages) == before + 1


@pytest.mark.parametrize("length", ["abc", "-1", "99999999999999999999", "1e3"])
def test_lying_or_malformed_content_length_is_rejected(server, length):
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            f"POST {START} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{{}}".encode()
        )
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.split()[1] in {b"400", b"413"}
    assert httpx.get(server.base_url + "/healthz").status_code == 200  # and the server lives on


def test_unknown_fields_are_ignored(server, smtp_sink):
    response = httpx.post(
        server.base_url + START, json={"email": "extra@example.com", "admin": True, "x": [1, 2]}
    )
    assert response.status_code == 200
    smtp_sink.wait_for_code("extra@example.com")


def test_huge_and_malformed_cookies_never_authenticate_and_never_crash(server, new_session):
    client = new_session(server)
    token, csrf = client.cookies["nl_session"], client.cookies["nl_csrf"]
    cases = [
        "nl_session=" + "A" * 7000,
        "nl_session",
        "=;=;;;",
        'nl_session="' + token + '"; nl_session=other',
        "junk=" + "x" * 9000 + "; nl_session=" + token,  # read whole (spec §1.6): authenticates
        "nl_session=" + token[:-1] + "!",
    ]
    for cookie in cases:
        response = httpx.get(server.base_url + "/v1/auth/me", headers={"Cookie": cookie})
        assert response.status_code in (200, 401), cookie[:40]
    # A quoted token is the same token (RFC 6265); a 9 KB header is read whole, never as "no
    # cookie"; a head over 32 KB is refused before any route (431), authenticating nothing.
    quoted = httpx.get(server.base_url + "/v1/auth/me", headers={"Cookie": f'nl_session="{token}"'})
    assert quoted.status_code == 200
    large = httpx.get(server.base_url + "/v1/auth/me", headers={"Cookie": cases[4]})
    assert large.status_code == 200
    oversized = httpx.get(
        server.base_url + "/v1/auth/me", headers={"Cookie": "junk=" + "x" * 40_000 + cases[4]}
    )
    assert_envelope(oversized, 431, "headers_too_large")
    # None of that touched the session.
    assert (
        httpx.get(server.base_url + "/v1/auth/me", headers=session_headers(token)).status_code
        == 200
    )
    assert (
        httpx.post(
            server.base_url + "/v1/auth/logout", headers=session_headers(token, csrf, csrf)
        ).status_code
        == 200
    )


def test_oversized_headers_get_a_documented_answer_without_harm(server):
    """A 200 KB header is refused by the server (431, or the connection closed at the 32 KB
    bound) and never reaches a route; the server stays up."""
    url = urlsplit(server.base_url)
    with socket.create_connection((url.hostname, url.port)) as sock:
        big = b"X-Big: " + b"a" * 200_000 + b"\r\n"
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(
                b"GET /v1/auth/me HTTP/1.1\r\nConnection: close\r\nHost: x\r\n" + big + b"\r\n"
            )
        sock.settimeout(10)
        reply = b""
        with contextlib.suppress(ConnectionResetError):  # closed at the 32 KB bound, unread data
            while chunk := sock.recv(65536):  # headers and body may arrive in separate segments
                reply += chunk
    status = reply.split()[1] if reply else b""
    assert status in {b"", b"431"}  # spec §1.6: refused (431 or closed), never served
    if status == b"401":
        assert b'"error":"unauthenticated"' in reply
    assert httpx.get(server.base_url + "/healthz").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"X-CSRF-Token": "x" * 5000},
        {"Origin": ""},
        {"Host": ""},
    ],
)
def test_odd_headers_get_documented_answers(server, headers):
    response = httpx.post(server.base_url + START, content=b'{"email": 5}', headers=headers)
    assert response.status_code in (400, 403)
    assert response.json()["error"] in {"invalid_email", "csrf_invalid"}


def test_health_and_readiness(server):
    assert httpx.get(server.base_url + "/healthz").json() == {"ok": True}
    assert httpx.get(server.base_url + "/readyz").json() == {"ok": True, "database": "up"}
