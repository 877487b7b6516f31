"""GET /v1/auth/me (spec §2.2) and the cookie model (spec §1.3)."""

from __future__ import annotations

import re
import secrets
import time
from email.utils import parsedate_to_datetime

import httpx
import pytest

from tests.support.harness import ServerProcess, SmtpSink
from tests.support.http import assert_envelope, session_headers, set_cookies

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def raw_sign_in(
    server: ServerProcess, sink: SmtpSink, headers: dict[str, str] | None = None
) -> httpx.Response:
    address = f"cookie-{secrets.token_hex(5)}@example.com"
    started = httpx.post(
        server.base_url + "/v1/auth/email/start", json={"email": address}, headers=headers
    )
    assert started.status_code == 200, started.text
    return httpx.post(
        server.base_url + "/v1/auth/email/verify",
        json={"request_id": started.json()["request_id"], "code": sink.wait_for_code(address)},
        headers=headers,
    )


def test_me_shape_and_default_key_bootstrap_once(server, new_session):
    client = new_session(server)
    first = client.get("/v1/auth/me")
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"user", "provider", "default_key"}
    assert body["provider"] == "email"
    user = body["user"]
    assert set(user) == {"id", "email", "display_name", "avatar_url", "created_at", "updated_at"}
    assert RFC3339.fullmatch(user["created_at"]) and RFC3339.fullmatch(user["updated_at"])
    key = body["default_key"]
    assert key["name"] == "Default" and key["scopes"] == ["*"] and key["rate_limit"] == 0
    assert key["status"] == "active" and key["is_default"] is True
    assert key["last_used_at"] is None and RFC3339.fullmatch(key["created_at"])
    assert key["created"] is True
    assert re.fullmatch(r"nl_live_[0-9a-f]{64}", key["raw"])
    assert key["key_prefix"] == key["raw"][:16]

    second = client.get("/v1/auth/me").json()["default_key"]
    assert second["id"] == key["id"]
    assert "raw" not in second and "created" not in second


@pytest.mark.parametrize(
    "cookie",
    [None, "", "nl_session=", "nl_session=garbage", "nl_session=" + "u" * 43],
)
def test_me_without_a_live_session_is_401_and_clears_cookies(server, cookie):
    headers = {"Cookie": cookie} if cookie is not None else {}
    response = httpx.get(server.base_url + "/v1/auth/me", headers=headers)
    assert_envelope(response, 401, "unauthenticated")
    cleared = set_cookies(response)
    assert cleared["nl_session"]["max-age"] == "0"
    assert cleared["nl_csrf"]["max-age"] == "0"


def test_sign_in_cookie_attributes(server, smtp_sink):
    response = raw_sign_in(server, smtp_sink)
    cookies = set_cookies(response)
    session, csrf = cookies["nl_session"], cookies["nl_csrf"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", session["value"])  # 256 bits, base64url
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", csrf["value"])
    assert session["value"] != csrf["value"]
    for attributes in (session, csrf):
        assert attributes["path"] == "/"
        assert attributes["samesite"] == "Lax"
        assert attributes["max-age"] == "2592000"
        expires = parsedate_to_datetime(attributes["expires"]).timestamp()
        assert abs(expires - (time.time() + 2592000)) < 5
        assert "secure" not in attributes  # plain-HTTP development
        assert "domain" not in attributes
    assert "httponly" in session
    assert "httponly" not in csrf  # the page's JavaScript copies it into X-CSRF-Token


@pytest.mark.parametrize(
    ("env", "headers", "secure"),
    [
        ({"TRIPORT_COOKIE_SECURE": "always"}, {}, True),
        (
            {"TRIPORT_COOKIE_SECURE": "never", "TRIPORT_TRUST_PROXY": "true"},
            {"X-Forwarded-Proto": "https"},
            False,
        ),
        ({"TRIPORT_TRUST_PROXY": "true"}, {"X-Forwarded-Proto": "https"}, True),
        ({}, {"X-Forwarded-Proto": "https"}, False),  # an untrusted proxy header is ignored
    ],
)
def test_secure_attribute_follows_configuration_and_trusted_proxy(
    make_server, smtp_sink, env, headers, secure
):
    server = make_server(env)
    response = raw_sign_in(server, smtp_sink, headers)
    for attributes in set_cookies(response).values():
        assert ("secure" in attributes) is secure
    token = set_cookies(response)["nl_session"]["value"]
    csrf = set_cookies(response)["nl_csrf"]["value"]
    cleared = httpx.post(
        server.base_url + "/v1/auth/logout",
        headers={**session_headers(token, csrf, csrf), **headers},
    )
    for attributes in set_cookies(cleared).values():
        assert ("secure" in attributes) is secure


def test_cookie_domain_is_set_and_cleared_alike(make_server, smtp_sink):
    server = make_server({"TRIPORT_COOKIE_DOMAIN": "console.example"})
    response = raw_sign_in(server, smtp_sink)
    cookies = set_cookies(response)
    assert cookies["nl_session"]["domain"] == "console.example"
    token, csrf = cookies["nl_session"]["value"], cookies["nl_csrf"]["value"]
    cleared = set_cookies(
        httpx.post(server.base_url + "/v1/auth/logout", headers=session_headers(token, csrf, csrf))
    )
    assert cleared["nl_session"]["domain"] == cleared["nl_csrf"]["domain"] == "console.example"


def test_sliding_refresh_reissues_the_same_cookies_after_half_the_ttl(make_server, smtp_sink):
    server = make_server({"TRIPORT_SESSION_TTL": "4"})
    cookies = set_cookies(raw_sign_in(server, smtp_sink))
    token, csrf = cookies["nl_session"]["value"], cookies["nl_csrf"]["value"]
    assert cookies["nl_session"]["max-age"] == "4"

    early = httpx.get(server.base_url + "/v1/auth/me", headers=session_headers(token, csrf))
    assert early.status_code == 200
    assert "set-cookie" not in early.headers  # more than half the TTL left

    time.sleep(2.5)
    late = httpx.get(server.base_url + "/v1/auth/me", headers=session_headers(token, csrf))
    assert late.status_code == 200
    reissued = set_cookies(late)
    assert reissued["nl_session"]["value"] == token
    assert reissued["nl_csrf"]["value"] == csrf
    assert reissued["nl_session"]["max-age"] == "4"
    assert "httponly" in reissued["nl_session"] and "httponly" not in reissued["nl_csrf"]

    time.sleep(2.5)  # past the original expiry: the row was extended
    me = httpx.get(server.base_url + "/v1/auth/me", headers=session_headers(token))
    assert me.status_code == 200
    time.sleep(5.5)  # idle for more than a whole TTL since the last use: expired
    me = httpx.get(server.base_url + "/v1/auth/me", headers=session_headers(token))
    assert me.status_code == 401


def test_refresh_never_revives_a_revoked_session(make_server, smtp_sink):
    server = make_server({"TRIPORT_SESSION_TTL": "4"})
    cookies = set_cookies(raw_sign_in(server, smtp_sink))
    token, csrf = cookies["nl_session"]["value"], cookies["nl_csrf"]["value"]
    assert (
        httpx.post(
            server.base_url + "/v1/auth/logout", headers=session_headers(token, csrf, csrf)
        ).status_code
        == 200
    )
    time.sleep(2.3)  # a refresh would now be due
    response = httpx.get(server.base_url + "/v1/auth/me", headers=session_headers(token, csrf))
    assert_envelope(response, 401, "unauthenticated")
    assert set_cookies(response)["nl_session"]["max-age"] == "0"


def test_absolute_lifetime_cap_stops_the_slide(make_server, smtp_sink):
    server = make_server({"TRIPORT_SESSION_TTL": "4", "TRIPORT_SESSION_MAX_LIFETIME": "5"})
    cookies = set_cookies(raw_sign_in(server, smtp_sink))
    token = cookies["nl_session"]["value"]
    time.sleep(2.3)
    refreshed = httpx.get(server.base_url + "/v1/auth/me", headers=session_headers(token))
    assert int(set_cookies(refreshed)["nl_session"]["max-age"]) <= 3
    time.sleep(3.5)
    assert (
        httpx.get(server.base_url + "/v1/auth/me", headers=session_headers(token)).status_code
        == 401
    )
