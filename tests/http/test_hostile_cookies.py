"""Cookie headers an attacker (or a crowded parent domain) can make a browser send (issue 12).

Spec §1.6: a Cookie header is read whole, never treated as "no cookie", so a logout answers 200
only with the row revoked and /me never clears the cookie of a live session. Cookie tossing: a
name sent twice with different values authenticates nobody and clears nothing.
"""

from __future__ import annotations

import httpx

from tests.support.harness import ServerProcess
from tests.support.http import assert_envelope, set_cookies

LOGOUT = "/v1/auth/logout"
ME = "/v1/auth/me"
PAD = "pad=" + "p" * 9 * 1024  # a 9 KB analytics-style cookie sent before ours


def credentials(client: httpx.Client) -> tuple[str, str]:
    return client.cookies["nl_session"], client.cookies["nl_csrf"]


def is_live(server: ServerProcess, token: str) -> bool:
    response = httpx.get(server.base_url + ME, headers={"Cookie": f"nl_session={token}"})
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


def test_logout_with_a_9_kb_cookie_header_revokes_the_row(server, new_session):
    token, csrf = credentials(new_session(server))
    response = httpx.post(
        server.base_url + LOGOUT,
        headers={"Cookie": f"{PAD}; nl_session={token}; nl_csrf={csrf}", "X-CSRF-Token": csrf},
    )
    assert response.status_code == 200, response.text
    assert set(set_cookies(response)) == {"nl_session", "nl_csrf"}
    assert not is_live(server, token)


def test_me_with_a_9_kb_cookie_header_authenticates(server, new_session):
    token, csrf = credentials(new_session(server))
    response = httpx.get(
        server.base_url + ME, headers={"Cookie": f"{PAD}; nl_session={token}; nl_csrf={csrf}"}
    )
    assert response.status_code == 200, response.text
    assert "set-cookie" not in response.headers


def test_cookie_lines_sent_separately_are_joined(server, new_session):
    """Two Cookie lines (as HTTP/2 and some proxies send them) mean one joined header."""
    token, csrf = credentials(new_session(server))
    response = httpx.post(
        server.base_url + LOGOUT,
        headers=[
            ("Cookie", f"nl_session={token}"),
            ("Cookie", f"nl_csrf={csrf}"),
            ("X-CSRF-Token", csrf),
        ],
    )
    assert response.status_code == 200, response.text
    assert not is_live(server, token)


def test_tossed_session_cookies_authenticate_nobody_and_clear_nothing(server, new_session):
    victim, victim_csrf = credentials(new_session(server))
    attacker, attacker_csrf = credentials(new_session(server))
    response = httpx.get(
        server.base_url + ME,
        headers={
            "Cookie": f"nl_session={attacker}; nl_csrf={attacker_csrf}; "
            f"nl_session={victim}; nl_csrf={victim_csrf}"
        },
    )
    assert_envelope(response, 401, "unauthenticated")
    assert "set-cookie" not in response.headers
    assert is_live(server, victim) and is_live(server, attacker)


def test_the_same_cookie_sent_twice_is_not_a_conflict(server, new_session):
    token, _ = credentials(new_session(server))
    response = httpx.get(
        server.base_url + ME, headers={"Cookie": f"nl_session={token}; nl_session={token}"}
    )
    assert response.status_code == 200, response.text


def test_logout_with_a_tossed_dead_cookie_revokes_the_live_one(server, new_session):
    token, csrf = credentials(new_session(server))
    planted = "A" * 43
    response = httpx.post(
        server.base_url + LOGOUT,
        headers={
            "Cookie": f"nl_session={planted}; nl_csrf=planted; nl_session={token}; nl_csrf={csrf}",
            "X-CSRF-Token": csrf,
        },
    )
    assert response.status_code == 200, response.text
    assert set(set_cookies(response)) == {"nl_session", "nl_csrf"}
    assert not is_live(server, token)


def test_logout_with_a_tossed_live_cookie_revokes_ours_and_never_says_200(server, new_session):
    """The attacker's planted session is bound to another CSRF token: ours is revoked, theirs is
    not, and the answer is 403 without Set-Cookie, since a 200 would claim no session is live."""
    victim, victim_csrf = credentials(new_session(server))
    attacker, attacker_csrf = credentials(new_session(server))
    response = httpx.post(
        server.base_url + LOGOUT,
        headers={
            "Cookie": f"nl_session={attacker}; nl_csrf={attacker_csrf}; "
            f"nl_session={victim}; nl_csrf={victim_csrf}",
            "X-CSRF-Token": victim_csrf,
        },
    )
    assert_envelope(response, 403, "csrf_invalid")
    assert "set-cookie" not in response.headers
    assert not is_live(server, victim)
    assert is_live(server, attacker)


def test_logout_with_tossed_cookies_needs_a_presented_csrf_value(server, new_session):
    victim, victim_csrf = credentials(new_session(server))
    response = httpx.post(
        server.base_url + LOGOUT,
        headers={
            "Cookie": f"nl_session=x; nl_session={victim}; nl_csrf={victim_csrf}",
            "X-CSRF-Token": "something-else",
        },
    )
    assert_envelope(response, 403, "csrf_invalid")
    assert is_live(server, victim)
