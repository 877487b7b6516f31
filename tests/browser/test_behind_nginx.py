"""The recommended deployment, run for real: Debian's nginx terminating TLS (a certificate made
here) from the repository's deploy/nginx/triport.conf, in front of two instances on one
PostgreSQL database with TRIPORT_TRUST_PROXY=true, driven by headless Chromium and by clients
connecting from different loopback addresses."""

from __future__ import annotations

import os
import re
import secrets
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.support import (
    cookie_attributes,
    new_email,
    off_the_loop,
    session_token,
    sign_in_through_page,
)
from tests.conftest import require_postgres
from tests.support.harness import (
    ServerProcess,
    SmtpSink,
    create_database,
    drop_database,
    free_port,
    records_once,
)
from tests.support.nginx import Nginx, nginx_available

pytestmark = [pytest.mark.postgres]
CHALLENGES_PER_CLIENT = 3
EVM_ADDRESS = "0x" + "ab" * 20


@dataclass
class Deployment:
    url: str  # https://127.0.0.1:PORT, through nginx
    redirect_url: str  # http://127.0.0.1:PORT, nginx's plain-HTTP redirect
    instances: list[ServerProcess]
    nginx: Nginx


@pytest.fixture(scope="module")
def deployment(smtp_sink: SmtpSink) -> Iterator[Deployment]:
    if not nginx_available():
        message = "nginx is missing: apt-get install -y nginx (./scripts/test does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    off_the_loop(require_postgres)
    database_url = off_the_loop(create_database, "postgres")
    https_port, http_port = free_port(), free_port()
    public_url = f"https://127.0.0.1:{https_port}"
    env = {
        "TRIPORT_TRUST_PROXY": "true",
        "TRIPORT_PUBLIC_URL": public_url,
        "TRIPORT_RATE_LIMIT_WALLET_CHALLENGE": f"{CHALLENGES_PER_CLIENT}/3600",
    }
    instances = [ServerProcess(database_url, mail_url=smtp_sink.url, env=env) for _ in range(2)]
    nginx = Nginx([f"127.0.0.1:{i.port}" for i in instances], https_port, http_port)
    try:
        for instance in instances:
            off_the_loop(instance.start)
        nginx.start()
        yield Deployment(public_url, f"http://127.0.0.1:{http_port}", instances, nginx)
    finally:
        nginx.stop()
        for instance in instances:
            instance.stop()
        off_the_loop(drop_database, database_url)


def client_from(source: str) -> httpx.Client:
    """An https client whose connections leave from `source` (any 127.x address is local)."""
    transport = httpx.HTTPTransport(local_address=source, verify=False)
    return httpx.Client(transport=transport, timeout=15)


def test_chromium_signs_in_over_https_and_a_logout_ends_the_session_on_both_instances(
    chromium: Browser, deployment: Deployment, smtp_sink: SmtpSink
) -> None:
    context = chromium.new_context(ignore_https_errors=True)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto(f"{deployment.url}/login")
        sign_in_through_page(page, smtp_sink, new_email("proxied"))
        cookies = cookie_attributes(context, deployment.url)
        for name in ("nl_session", "nl_csrf"):
            # Secure because the instance believed the proxy's X-Forwarded-Proto: https.
            assert cookies[name]["secure"] is True, (name, cookies[name])
        token = session_token(context, deployment.url)
        for instance in deployment.instances:  # the session is good on either instance
            me = httpx.get(instance.base_url + "/v1/auth/me", cookies={"nl_session": token})
            assert me.status_code == 200
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_label("Email address")).to_be_visible()
        assert "nl_session" not in cookie_attributes(context, deployment.url)
        # Straight after the logout's 200, each instance, asked directly, refuses the token.
        for instance in deployment.instances:
            me = httpx.get(instance.base_url + "/v1/auth/me", cookies={"nl_session": token})
            assert me.status_code == 401, instance.base_url
    finally:
        context.close()


def test_per_client_limits_key_on_the_address_nginx_saw(deployment: Deployment) -> None:
    body = {"address": EVM_ADDRESS, "chain": "evm"}
    path = deployment.url + "/v1/auth/wallet/challenge"
    with client_from("127.0.0.2") as first, client_from("127.0.0.3") as second:
        for _ in range(CHALLENGES_PER_CLIENT):
            assert first.post(path, json=body).status_code == 200
        limited = first.post(path, json=body)
        assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
        # A forged X-Forwarded-For does not buy a fresh key: nginx appends the real address.
        forged = first.post(path, json=body, headers={"X-Forwarded-For": "203.0.113.7"})
        assert forged.status_code == 429
        # Another client behind the same proxy has its own allowance.
        assert second.post(path, json=body).status_code == 200
    # The request line is written once the response has gone out, so the last one may still be
    # on its way to the log file when the client already has its answer: wait for it, bounded.
    expected = CHALLENGES_PER_CLIENT + 3

    def challenges(seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            r for r in seen if r["event"] == "request" and r["path"] == "/v1/auth/wallet/challenge"
        ]

    seen = records_once(deployment.instances, lambda seen: len(challenges(seen)) >= expected)
    records = challenges(seen)
    assert len(records) == expected
    assert {r["client"] for r in records} == {"127.0.0.2", "127.0.0.3"}


def test_request_ids_pass_through_and_plain_http_redirects(deployment: Deployment) -> None:
    with client_from("127.0.0.1") as http:
        chosen = http.get(deployment.url + "/healthz", headers={"X-Request-Id": "probe-1.a_b"})
        assert chosen.headers["x-request-id"] == "probe-1.a_b"
        generated = http.get(deployment.url + "/healthz").headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated), generated  # nginx's $request_id
        moved = http.get(deployment.redirect_url + "/login")
    assert moved.status_code == 308
    assert moved.headers["location"].startswith("https://")
    assert "set-cookie" not in moved.headers


def raw_https(port: int, head: bytes) -> bytes:
    """Send a hand-made request head over TLS and read the answer's status line and headers."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=15) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(head)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = tls.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer


@pytest.mark.parametrize(
    "shape",
    ["one_long_header", "many_headers_past_32k", "long_request_line", "long_cookie"],
)
def test_oversized_heads_are_refused_at_the_proxy(deployment: Deployment, shape: str) -> None:
    marker = secrets.token_hex(8)
    path = f"/oversized-{marker}"
    headers = [b"Host: localhost"]
    if shape == "one_long_header":
        headers.append(b"X-Pad: " + b"a" * 10_000)
    elif shape == "many_headers_past_32k":
        headers += [b"X-Pad-%d: " % i + b"a" * 7_000 for i in range(6)]
    elif shape == "long_request_line":
        path += "?" + "a" * 10_000
    else:
        headers.append(b"Cookie: pad=" + b"a" * 9_000 + b"; nl_session=x; nl_csrf=y")
    head = f"GET {path} HTTP/1.1\r\n".encode() + b"\r\n".join(headers) + b"\r\n\r\n"
    answer = raw_https(deployment.nginx.https_port, head)
    status = int(answer.split(b" ", 2)[1])
    assert status in (400, 414, 431, 494), answer[:200]
    # Refused by nginx itself: no instance ever saw the request.
    for instance in deployment.instances:
        assert marker not in instance.log_text()
