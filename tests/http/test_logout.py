"""POST /v1/auth/logout, row by row of spec §2.1, on both stores, through real HTTP."""

from __future__ import annotations

import hashlib
import secrets

import httpx
import pytest

from tests.support.harness import ServerProcess, age_session, run_sql
from tests.support.http import assert_envelope, session_headers, set_cookies

LOGOUT = "/v1/auth/logout"


def credentials(client: httpx.Client) -> tuple[str, str]:
    return client.cookies["nl_session"], client.cookies["nl_csrf"]


def is_live(server: ServerProcess, token: str) -> bool:
    response = httpx.get(server.base_url + "/v1/auth/me", headers=session_headers(token))
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


def logout(server: ServerProcess, **headers: str) -> httpx.Response:
    return httpx.post(server.base_url + LOGOUT, headers=headers)


@pytest.mark.parametrize("verb", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_verbs_get_405_with_allow_and_revoke_nothing(server, new_session, verb):
    token, csrf = credentials(new_session(server))
    response = httpx.request(
        verb, server.base_url + LOGOUT, headers=session_headers(token, csrf, csrf)
    )
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"
    assert "set-cookie" not in response.headers
    assert is_live(server, token)


def test_no_session_cookie_is_ok_and_clears_both_cookies(server):
    response = logout(server)
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    cleared = set_cookies(response)
    assert set(cleared) == {"nl_session", "nl_csrf"}
    for attributes in cleared.values():
        assert attributes["value"] == ""
        assert attributes["max-age"] == "0"
        assert attributes["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_missing_csrf_cookie_is_403_csrf_missing_and_changes_nothing(server, new_session):
    token, csrf = credentials(new_session(server))
    response = logout(server, **session_headers(token, None, csrf))
    assert_envelope(response, 403, "csrf_missing")
    assert "set-cookie" not in response.headers
    assert is_live(server, token)


@pytest.mark.parametrize("header", [None, "", "wrong", "x" * 43])
def test_header_absent_or_different_from_cookie_is_csrf_invalid(server, new_session, header):
    token, csrf = credentials(new_session(server))
    response = logout(server, **session_headers(token, csrf, header))
    assert_envelope(response, 403, "csrf_invalid")
    assert "set-cookie" not in response.headers
    assert is_live(server, token)


def test_csrf_token_not_bound_to_the_session_is_refused(server, new_session):
    """Header == cookie is not enough for a live session: the pair must be the one issued."""
    token, _ = credentials(new_session(server))
    _, other_csrf = credentials(new_session(server))  # a real token, bound to another session
    response = logout(server, **session_headers(token, other_csrf, other_csrf))
    assert_envelope(response, 403, "csrf_invalid")
    assert "set-cookie" not in response.headers
    assert is_live(server, token)


def test_foreign_origin_is_refused(server, new_session):
    token, csrf = credentials(new_session(server))
    response = logout(server, Origin="https://evil.example", **session_headers(token, csrf, csrf))
    assert_envelope(response, 403, "csrf_invalid")
    assert is_live(server, token)


def test_own_origin_is_accepted(server, new_session):
    token, csrf = credentials(new_session(server))
    response = logout(server, Origin=server.base_url, **session_headers(token, csrf, csrf))
    assert response.status_code == 200
    assert not is_live(server, token)


def test_success_revokes_and_clears_with_the_original_attributes(server, smtp_sink):
    client = httpx.Client(base_url=server.base_url)
    address = f"clear-{secrets.token_hex(4)}@example.com"
    request_id = client.post("/v1/auth/email/start", json={"email": address}).json()["request_id"]
    verified = client.post(
        "/v1/auth/email/verify",
        json={"request_id": request_id, "code": smtp_sink.wait_for_code(address)},
    )
    issued = set_cookies(verified)
    token, csrf = issued["nl_session"]["value"], issued["nl_csrf"]["value"]

    response = logout(server, **session_headers(token, csrf, csrf))
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    cleared = set_cookies(response)
    for name in ("nl_session", "nl_csrf"):
        original = {
            k: v for k, v in issued[name].items() if k not in {"value", "max-age", "expires"}
        }
        clearing = {
            k: v for k, v in cleared[name].items() if k not in {"value", "max-age", "expires"}
        }
        assert clearing == original, name
        assert cleared[name]["max-age"] == "0"
    assert not is_live(server, token)
    # Durable and final: the row itself says revoked.
    rows = run_sql(
        server.database_url,
        "SELECT revoked_at FROM sessions WHERE token_hash = $1",
        hashlib.sha256(token.encode()).digest(),
    )
    assert rows and rows[0][0] is not None


def test_repeated_logout_is_ok(server, new_session):
    token, csrf = credentials(new_session(server))
    for _ in range(3):
        response = logout(server, **session_headers(token, csrf, csrf))
        assert response.status_code == 200
        assert response.json() == {"ok": True}
        assert set(set_cookies(response)) == {"nl_session", "nl_csrf"}
    assert not is_live(server, token)


@pytest.mark.parametrize(
    "token", ["unknown-but-well-formed-token-0123456789abc", "short", "x" * 2000, "ünïcode", "a=b"]
)
def test_unknown_or_malformed_token_is_ok_when_header_matches_cookie(server, token):
    csrf = secrets.token_urlsafe(32)
    response = logout(server, **session_headers(token, csrf, csrf))
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_expired_session_needs_only_header_equal_to_cookie(server, new_session):
    token, _ = credentials(new_session(server))
    age_session(server.database_url, token)
    other = secrets.token_urlsafe(32)
    response = logout(server, **session_headers(token, other, other))
    assert response.status_code == 200


def test_a_body_is_ignored(server, new_session):
    token, csrf = credentials(new_session(server))
    response = httpx.post(
        server.base_url + LOGOUT,
        content=b"{not json" * 1000,
        headers=session_headers(token, csrf, csrf),
    )
    assert response.status_code == 200
    assert not is_live(server, token)


def test_logout_of_one_session_leaves_the_users_other_sessions(server, new_session):
    address = f"two-{secrets.token_hex(4)}@example.com"
    first_token, first_csrf = credentials(new_session(server, address))
    second_token, _ = credentials(new_session(server, address))
    assert logout(server, **session_headers(first_token, first_csrf, first_csrf)).status_code == 200
    assert not is_live(server, first_token)
    assert is_live(server, second_token)
