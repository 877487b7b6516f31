"""A store failure is never a success and never "logged out" (the seed's retry rule)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import require_postgres
from tests.support.harness import ServerProcess, SmtpSink, sign_in, write_lock
from tests.support.http import assert_envelope, session_headers
from tests.support.throwaway_pg import ThrowawayPostgres

TIMEOUT = 2.0  # the default TRIPORT_DB_TIMEOUT


def me(server: ServerProcess, token: str) -> httpx.Response:
    return httpx.get(server.base_url + "/v1/auth/me", headers=session_headers(token), timeout=30)


def test_logout_under_a_held_write_lock_fails_keeps_the_cookie_then_retry_succeeds(
    server, new_session
):
    client = new_session(server)
    token, csrf = client.cookies["nl_session"], client.cookies["nl_csrf"]
    assert me(server, token).status_code == 200  # bootstraps the default key before the lock

    with write_lock(server.database_url):
        started = time.monotonic()
        response = httpx.post(
            server.base_url + "/v1/auth/logout",
            headers=session_headers(token, csrf, csrf),
            timeout=30,
        )
        elapsed = time.monotonic() - started
        assert_envelope(response, 500, "logout_failed")
        assert "set-cookie" not in response.headers  # the browser keeps nl_session
        assert elapsed < TIMEOUT + 3
        # Reads go on during the lock: the session still authenticates.
        assert me(server, token).status_code == 200

    retry = httpx.post(
        server.base_url + "/v1/auth/logout", headers=session_headers(token, csrf, csrf)
    )
    assert retry.status_code == 200
    assert me(server, token).status_code == 401


def _revoke(server: ServerProcess, method: str, path: str, token: str, csrf: str) -> httpx.Response:
    headers = session_headers(token, csrf, csrf)
    return httpx.request(method, server.base_url + path, headers=headers, timeout=30)


def _own_id(server: ServerProcess, token: str) -> str:
    listed = httpx.get(server.base_url + "/v1/auth/sessions", headers=session_headers(token))
    return str(next(s["id"] for s in listed.json()["sessions"] if s["current"]))


def test_session_revokes_under_a_held_write_lock_fail_change_nothing_then_retry_succeeds(
    server, new_session
):
    """Spec §2.9: the same rule as logout for DELETE (own and other) and revoke-others."""
    address = f"revoke-lock-{time.monotonic_ns()}@example.com"
    other = new_session(server, address)
    caller = new_session(server, address)
    other_token = other.cookies["nl_session"]
    token, csrf = caller.cookies["nl_session"], caller.cookies["nl_csrf"]
    other_id, own_id = _own_id(server, other_token), _own_id(server, token)
    assert me(server, token).status_code == 200

    with write_lock(server.database_url):
        for method, path in (
            ("DELETE", f"/v1/auth/sessions/{other_id}"),
            ("POST", "/v1/auth/sessions/revoke-others"),
            ("DELETE", f"/v1/auth/sessions/{own_id}"),
        ):
            started = time.monotonic()
            response = _revoke(server, method, path, token, csrf)
            assert_envelope(response, 500, "revoke_failed")
            assert "set-cookie" not in response.headers  # the browser keeps nl_session
            assert time.monotonic() - started < TIMEOUT + 3
        # Nothing changed: both sessions still authenticate, during the lock and after it.
        assert me(server, token).status_code == 200
        assert me(server, other_token).status_code == 200
    assert me(server, other_token).status_code == 200

    others = _revoke(server, "POST", "/v1/auth/sessions/revoke-others", token, csrf)
    assert others.json() == {"revoked": 1}
    assert me(server, other_token).json()["reason"] == "signed_out_everywhere"
    own = _revoke(server, "DELETE", f"/v1/auth/sessions/{own_id}", token, csrf)
    assert own.status_code == 200
    assert "nl_session=;" in own.headers["set-cookie"]
    assert me(server, token).json()["reason"] == "signed_out"


def test_sign_in_under_a_held_write_lock_is_internal_not_a_session(server, smtp_sink):
    address = "locked-verify@example.com"
    client = httpx.Client(base_url=server.base_url, timeout=30)
    request_id = client.post("/v1/auth/email/start", json={"email": address}).json()["request_id"]
    code = smtp_sink.wait_for_code(address)
    with write_lock(server.database_url):
        response = client.post(
            "/v1/auth/email/verify", json={"request_id": request_id, "code": code}
        )
        assert_envelope(response, 500, "internal")
        assert "set-cookie" not in response.headers
    # Nothing was consumed by the failed attempt: the same code still works.
    response = client.post("/v1/auth/email/verify", json={"request_id": request_id, "code": code})
    assert response.status_code == 200


def test_postgres_stopped_is_logout_failed_and_internal_never_401_and_recovers(tmp_path):
    require_postgres()
    database = ThrowawayPostgres()
    database.start()
    sink = SmtpSink().start()
    server = ServerProcess(database.url, mail_url=sink.url).start()
    try:
        client = sign_in(server.base_url, sink)
        token, csrf = client.cookies["nl_session"], client.cookies["nl_csrf"]
        assert me(server, token).status_code == 200

        database.stop()
        failed = httpx.post(
            server.base_url + "/v1/auth/logout",
            headers=session_headers(token, csrf, csrf),
            timeout=30,
        )
        assert_envelope(failed, 500, "logout_failed")
        assert "set-cookie" not in failed.headers
        others = _revoke(server, "POST", "/v1/auth/sessions/revoke-others", token, csrf)
        assert_envelope(others, 500, "revoke_failed")
        assert "set-cookie" not in others.headers
        assert_envelope(me(server, token), 500, "internal")  # an outage is not "logged out"
        assert_envelope(httpx.get(server.base_url + "/readyz", timeout=30), 503, "not_ready")

        database.start()
        deadline = time.monotonic() + 20
        while httpx.get(server.base_url + "/readyz", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "service did not recover after the restart"
            time.sleep(0.2)
        assert me(server, token).status_code == 200  # the session survived the outage
        retry = httpx.post(
            server.base_url + "/v1/auth/logout", headers=session_headers(token, csrf, csrf)
        )
        assert retry.status_code == 200
        assert me(server, token).status_code == 401
    finally:
        server.stop()
        sink.stop()
        database.destroy()


@pytest.mark.parametrize("workers", [1, 2])
def test_logout_through_one_process_is_refused_by_another_at_once(
    make_server, new_session, workers
):
    first = make_server(workers=workers)
    second = make_server(workers=workers)
    client = new_session(first)
    token, csrf = client.cookies["nl_session"], client.cookies["nl_csrf"]
    assert me(second, token).status_code == 200
    response = httpx.post(
        second.base_url + "/v1/auth/logout", headers=session_headers(token, csrf, csrf)
    )
    assert response.status_code == 200
    for _ in range(2 * workers):  # every worker of the first instance refuses it
        assert me(first, token).status_code == 401
