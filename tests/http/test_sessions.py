"""Sessions users can see and end (spec §2.9) and why a session ended (§2.10), on both stores.

Every test signs in through the real email flow of a real server process; each request carries
its cookies explicitly, so a response's clearing cookies cannot hide a still-live token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.cli.test_cli import cli
from tests.support.harness import ServerProcess, SmtpSink, age_session, run_sql
from tests.support.http import assert_envelope, session_headers, set_cookies
from tests.support.sessions import Credentials, sign_in_one

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
SESSION_FIELDS = {
    "id", "current", "provider", "created_at", "last_seen_at", "expires_at", "ip", "user_agent",
    "device",
}  # fmt: skip
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
UNKNOWN_ID = "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"


# Helpers -----------------------------------------------------------------------------------
def sign_in_as(
    server: ServerProcess,
    sink: SmtpSink,
    address: str,
    user_agent: str | None = None,
    **extra: Any,
) -> tuple[Credentials, httpx.Response]:
    """The email flow from a browser with `user_agent`; `extra` goes into the verify body."""
    headers = {"User-Agent": user_agent} if user_agent else {}
    with httpx.Client(base_url=server.base_url, timeout=15, headers=headers) as http:
        started = http.post("/v1/auth/email/start", json={"email": address})
        assert started.status_code == 200, started.text
        body = {"request_id": started.json()["request_id"], "code": sink.wait_for_code(address)}
        verified = http.post("/v1/auth/email/verify", json=body | extra)
        assert verified.status_code == 200, verified.text
        return Credentials(http.cookies["nl_session"], http.cookies["nl_csrf"]), verified


def new_address() -> str:
    return f"sessions-{secrets.token_hex(5)}@example.com"


def get(server: ServerProcess, path: str, who: Credentials) -> httpx.Response:
    return httpx.get(server.base_url + path, headers=session_headers(who.token, who.csrf))


def mutate(server: ServerProcess, method: str, path: str, who: Credentials) -> httpx.Response:
    headers = session_headers(who.token, who.csrf, who.csrf)
    return httpx.request(method, server.base_url + path, headers=headers, timeout=30)


def listed(server: ServerProcess, who: Credentials) -> list[dict[str, Any]]:
    response = get(server, "/v1/auth/sessions", who)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"sessions"}
    sessions: list[dict[str, Any]] = response.json()["sessions"]
    return sessions


def current_id(server: ServerProcess, who: Credentials) -> str:
    return next(s["id"] for s in listed(server, who) if s["current"])


def me(server: ServerProcess, who: Credentials) -> httpx.Response:
    return get(server, "/v1/auth/me", who)


def assert_ended(server: ServerProcess, who: Credentials, reason: str | None) -> None:
    """401 on /me, with spec §2.10's reason (or none), and both cookies cleared."""
    response = me(server, who)
    assert_envelope(response, 401, "unauthenticated")
    assert response.json().get("reason") == reason
    assert set_cookies(response)["nl_session"]["value"] == ""


def revoke(server: ServerProcess, who: Credentials, session_id: str) -> httpx.Response:
    return mutate(server, "DELETE", f"/v1/auth/sessions/{session_id}", who)


def revoke_others(server: ServerProcess, who: Credentials) -> httpx.Response:
    return mutate(server, "POST", "/v1/auth/sessions/revoke-others", who)


# GET /v1/auth/sessions -------------------------------------------------------------------
def test_list_shows_live_sessions_current_first_then_newest_with_device_and_ip(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    address = new_address()
    oldest, _ = sign_in_as(server, smtp_sink, address, CHROME_MAC)
    middle, _ = sign_in_as(server, smtp_sink, address, IPHONE)
    newest, _ = sign_in_as(server, smtp_sink, address, "curl/8.4.0")
    sessions = listed(server, middle)
    assert [s["current"] for s in sessions] == [True, False, False]
    assert [s["user_agent"] for s in sessions] == [IPHONE, "curl/8.4.0", CHROME_MAC]
    assert [s["device"] for s in sessions] == ["Safari on iOS", "curl", "Chrome on macOS"]
    for session in sessions:
        assert set(session) == SESSION_FIELDS
        assert str(uuid.UUID(session["id"])) == session["id"]
        assert session["provider"] == "email"
        assert session["ip"] == "127.0.0.1"
        for field in ("created_at", "last_seen_at", "expires_at"):
            assert TIMESTAMP.fullmatch(session[field])
        assert session["last_seen_at"] == session["created_at"]
    # The public id is not the token, nor its hash.
    for who in (oldest, middle, newest):
        digest = hashlib.sha256(who.token.encode()).hexdigest()
        for session in sessions:
            assert who.token not in session["id"] and digest not in session["id"].replace("-", "")
    # Another session sees the same sessions, itself first, then newest first.
    from_newest = listed(server, newest)
    assert [s["id"] for s in from_newest] == [
        sessions[1]["id"],
        sessions[0]["id"],
        sessions[2]["id"],
    ]
    assert [s["current"] for s in from_newest] == [True, False, False]


def test_list_leaves_out_revoked_and_expired_sessions_and_other_users(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    address = new_address()
    ended, _ = sign_in_as(server, smtp_sink, address)
    expired, _ = sign_in_as(server, smtp_sink, address)
    caller, _ = sign_in_as(server, smtp_sink, address)
    sign_in_as(server, smtp_sink, new_address())  # someone else
    assert mutate(server, "POST", "/v1/auth/logout", ended).status_code == 200
    age_session(server.database_url, expired.token)
    sessions = listed(server, caller)
    assert len(sessions) == 1 and sessions[0]["current"]


def test_unknown_user_agent_has_no_device_and_a_long_one_is_cut_to_512(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    address = new_address()
    unlabelled, _ = sign_in_as(server, smtp_sink, address, "python-httpx/0.27.0")
    assert listed(server, unlabelled)[0]["device"] is None
    long_agent = CHROME_MAC + " " + "x" * 2000
    caller, _ = sign_in_as(server, smtp_sink, address, long_agent)
    first = listed(server, caller)[0]
    assert first["user_agent"] == long_agent[:512]
    assert first["device"] == "Chrome on macOS"


def test_sessions_routes_need_a_live_session(server: ServerProcess) -> None:
    for method, path in (
        ("GET", "/v1/auth/sessions"),
        ("GET", "/v1/auth/activity"),
        ("DELETE", f"/v1/auth/sessions/{UNKNOWN_ID}"),
        ("POST", "/v1/auth/sessions/revoke-others"),
    ):
        response = httpx.request(method, server.base_url + path)
        assert_envelope(response, 401, "unauthenticated")
        assert "reason" not in response.json()


# DELETE /v1/auth/sessions/{id} -----------------------------------------------------------
def test_revoking_another_session_ends_it_with_reason_revoked_and_keeps_the_callers_cookies(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    address = new_address()
    lost_laptop, _ = sign_in_as(server, smtp_sink, address)
    phone, _ = sign_in_as(server, smtp_sink, address)
    laptop_id = current_id(server, lost_laptop)
    response = revoke(server, phone, laptop_id)
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert "set-cookie" not in response.headers
    assert_ended(server, lost_laptop, "revoked")
    assert me(server, phone).status_code == 200
    assert [s["id"] for s in listed(server, phone)] == [current_id(server, phone)]
    # Idempotent: the same id again, and in upper case, is still a 200.
    assert revoke(server, phone, laptop_id).status_code == 200
    assert revoke(server, phone, laptop_id.upper()).status_code == 200


def test_revoking_the_callers_own_session_clears_both_cookies_reason_signed_out(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    caller = sign_in_one(server.base_url, smtp_sink)
    response = revoke(server, caller, current_id(server, caller))
    assert response.status_code == 200
    cleared = set_cookies(response)
    assert cleared["nl_session"]["value"] == "" and cleared["nl_session"]["max-age"] == "0"
    assert cleared["nl_csrf"]["value"] == "" and cleared["nl_csrf"]["max-age"] == "0"
    assert_ended(server, caller, "signed_out")


def test_revoking_an_expired_session_is_still_200(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    address = new_address()
    old, _ = sign_in_as(server, smtp_sink, address)
    caller, _ = sign_in_as(server, smtp_sink, address)
    old_id = current_id(server, old)
    age_session(server.database_url, old.token)
    assert revoke(server, caller, old_id).status_code == 200
    assert_ended(server, old, "expired")  # it was not live, so it was not revoked now


@pytest.mark.parametrize(
    "bad", ["not-a-uuid", "3f2b8c1e4d5a4b6c8d7e9f0a1b2c3d4e", UNKNOWN_ID + "0", "%00", "revoke"]
)
def test_a_malformed_session_id_is_400_invalid_id(
    server: ServerProcess, new_session: Any, bad: str
) -> None:
    client = new_session(server)
    caller = Credentials(client.cookies["nl_session"], client.cookies["nl_csrf"])
    assert_envelope(revoke(server, caller, bad), 400, "invalid_id")


def test_an_unknown_id_and_another_users_session_are_both_404_and_change_nothing(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    """IDOR: knowing another user's session id (from a screenshot, a log) ends nothing."""
    victim = sign_in_one(server.base_url, smtp_sink)
    attacker = sign_in_one(server.base_url, smtp_sink)
    victim_id = current_id(server, victim)
    unknown = revoke(server, attacker, UNKNOWN_ID)
    other = revoke(server, attacker, victim_id)
    assert_envelope(unknown, 404, "not_found")
    assert_envelope(other, 404, "not_found")
    assert unknown.json()["message"] == other.json()["message"]
    assert me(server, victim).status_code == 200
    assert "set-cookie" not in other.headers


def test_session_mutations_need_the_csrf_token_and_change_nothing_without_it(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    address = new_address()
    other, _ = sign_in_as(server, smtp_sink, address)
    caller, _ = sign_in_as(server, smtp_sink, address)
    other_id = current_id(server, other)
    base = server.base_url
    for method, path in (
        ("DELETE", f"/v1/auth/sessions/{other_id}"),
        ("POST", "/v1/auth/sessions/revoke-others"),
    ):
        no_header = httpx.request(
            method, base + path, headers=session_headers(caller.token, caller.csrf)
        )
        assert_envelope(no_header, 403, "csrf_invalid")
        no_cookie = httpx.request(
            method, base + path, headers=session_headers(caller.token, None, caller.csrf)
        )
        assert_envelope(no_cookie, 403, "csrf_missing")
        # The other session's CSRF token (equal in cookie and header) is not bound to this one.
        crossed = httpx.request(
            method, base + path, headers=session_headers(caller.token, other.csrf, other.csrf)
        )
        assert_envelope(crossed, 403, "csrf_invalid")
        foreign = httpx.request(
            method,
            base + path,
            headers={
                **session_headers(caller.token, caller.csrf, caller.csrf),
                "Origin": "https://evil.example",
            },
        )
        assert_envelope(foreign, 403, "csrf_invalid")
    assert me(server, other).status_code == 200
    assert len(listed(server, caller)) == 2


def test_revoke_others_on_a_route_of_its_own_never_reaches_delete(server: ServerProcess) -> None:
    response = httpx.delete(server.base_url + "/v1/auth/sessions/revoke-others")
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"
    assert httpx.get(server.base_url + "/v1/auth/sessions/" + UNKNOWN_ID).status_code == 405


# POST /v1/auth/sessions/revoke-others ------------------------------------------------------
def test_revoke_others_ends_every_other_session_in_one_go(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    address = new_address()
    others = [sign_in_as(server, smtp_sink, address)[0] for _ in range(3)]
    caller, _ = sign_in_as(server, smtp_sink, address)
    bystander = sign_in_one(server.base_url, smtp_sink)  # another user: untouched
    response = revoke_others(server, caller)
    assert response.status_code == 200 and response.json() == {"revoked": 3}
    assert "set-cookie" not in response.headers
    for other in others:
        assert_ended(server, other, "signed_out_everywhere")
    assert me(server, caller).status_code == 200
    assert me(server, bystander).status_code == 200
    assert len(listed(server, caller)) == 1
    assert revoke_others(server, caller).json() == {"revoked": 0}


# Why a session ended (§2.10) ---------------------------------------------------------------
def test_logout_reason_is_signed_out_and_unknown_or_malformed_tokens_get_no_reason(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    caller = sign_in_one(server.base_url, smtp_sink)
    assert mutate(server, "POST", "/v1/auth/logout", caller).status_code == 200
    assert_ended(server, caller, "signed_out")
    never_issued = Credentials(secrets.token_urlsafe(32), "x")
    assert_ended(server, never_issued, None)
    malformed = Credentials("not-a-token", "x")
    assert_ended(server, malformed, None)


def test_a_new_sign_in_in_the_same_browser_replaces_the_old_session(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=15) as browser:
        first = sign_in_one(server.base_url, smtp_sink)
        browser.cookies.set("nl_session", first.token)
        browser.cookies.set("nl_csrf", first.csrf)
        address = new_address()
        started = browser.post(
            "/v1/auth/email/start", json={"email": address}, headers={"X-CSRF-Token": first.csrf}
        )
        code = smtp_sink.wait_for_code(address)
        verified = browser.post(
            "/v1/auth/email/verify",
            json={"request_id": started.json()["request_id"], "code": code},
            headers={"X-CSRF-Token": first.csrf},
        )
        assert verified.status_code == 200, verified.text
    assert_ended(server, first, "replaced")


def test_the_operators_revoke_sessions_command_reason_is_admin(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    address = new_address()
    one, _ = sign_in_as(server, smtp_sink, address)
    two, _ = sign_in_as(server, smtp_sink, address)
    result = cli(
        "revoke-sessions", "--email", address, env={"TRIPORT_DATABASE_URL": server.database_url}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "revoked 2 session(s)"
    assert_ended(server, one, "admin")
    assert_ended(server, two, "admin")


def test_an_expired_session_reason_is_expired(server: ServerProcess, smtp_sink: SmtpSink) -> None:
    caller = sign_in_one(server.base_url, smtp_sink)
    age_session(server.database_url, caller.token)
    assert_ended(server, caller, "expired")
    # Every route that needs a session says the same.
    response = get(server, "/v1/keys", caller)
    assert response.json()["reason"] == "expired"


# sign_out_others on sign-in ----------------------------------------------------------------
def test_email_sign_in_with_sign_out_others_ends_every_other_session(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    address = new_address()
    lost = [sign_in_as(server, smtp_sink, address)[0] for _ in range(2)]
    fresh, verified = sign_in_as(server, smtp_sink, address, sign_out_others=True)
    assert verified.json()["signed_out_others"] == 2
    assert set(verified.json()) == {"user", "signed_out_others"}
    for session in lost:
        assert_ended(server, session, "signed_out_everywhere")
    assert me(server, fresh).status_code == 200
    again, verified = sign_in_as(server, smtp_sink, address, sign_out_others=True)
    assert verified.json()["signed_out_others"] == 1
    assert_ended(server, fresh, "signed_out_everywhere")
    _, plain = sign_in_as(server, smtp_sink, address, sign_out_others=False)
    assert "signed_out_others" not in plain.json()
    assert me(server, again).status_code == 200


@pytest.mark.parametrize("value", ["yes", 1, "true", [], {}])
def test_sign_out_others_that_is_not_a_boolean_is_invalid_request_and_uses_nothing_up(
    server: ServerProcess, smtp_sink: SmtpSink, value: object
) -> None:
    address = new_address()
    earlier = sign_in_one(server.base_url, smtp_sink, address)
    with httpx.Client(base_url=server.base_url, timeout=15) as http:
        started = http.post("/v1/auth/email/start", json={"email": address}).json()
        code = smtp_sink.wait_for_code(address)
        body = {"request_id": started["request_id"], "code": code, "sign_out_others": value}
        refused = http.post("/v1/auth/email/verify", json=body)
        assert_envelope(refused, 400, "invalid_request")
        assert "set-cookie" not in refused.headers
        assert me(server, earlier).status_code == 200
        body.pop("sign_out_others")
        assert http.post("/v1/auth/email/verify", json=body).status_code == 200  # code unused


# last_seen_at ------------------------------------------------------------------------------
def _set_last_seen(server: ServerProcess, who: Credentials, ago: timedelta) -> None:
    moment = datetime.now(UTC) - ago
    value: Any = (
        moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if server.database_url.startswith("sqlite")
        else moment
    )
    token_hash = hashlib.sha256(who.token.encode()).digest()
    run_sql(
        server.database_url,
        "UPDATE sessions SET last_seen_at = $1, ip = NULL WHERE token_hash = $2",
        value,
        token_hash,
    )


def test_last_seen_is_written_at_most_once_per_five_minutes_and_records_the_address(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    caller = sign_in_one(server.base_url, smtp_sink)
    _set_last_seen(server, caller, timedelta(minutes=4))
    before = listed(server, caller)[0]
    assert me(server, caller).status_code == 200
    unchanged = listed(server, caller)[0]
    assert unchanged["last_seen_at"] == before["last_seen_at"]  # used 4 minutes ago: no write
    assert unchanged["ip"] is None

    _set_last_seen(server, caller, timedelta(minutes=6))
    seen = listed(server, caller)[0]  # this request's own use is recorded first
    assert datetime.fromisoformat(seen["last_seen_at"]) > datetime.now(UTC) - timedelta(minutes=1)
    assert seen["ip"] == "127.0.0.1"
    stored = _stored_last_seen(server, caller)
    for _ in range(3):  # used again within five minutes: no further write
        assert me(server, caller).status_code == 200
    assert _stored_last_seen(server, caller) == stored


def _stored_last_seen(server: ServerProcess, who: Credentials) -> Any:
    token_hash = hashlib.sha256(who.token.encode()).digest()
    sql = "SELECT last_seen_at FROM sessions WHERE token_hash = $1"
    return run_sql(server.database_url, sql, token_hash)[0][0]


def _race_once(server: ServerProcess, smtp_sink: SmtpSink) -> None:
    address = new_address()
    sessions = [sign_in_as(server, smtp_sink, address)[0] for _ in range(4)]
    caller, target = sessions[0], sessions[1]
    target_id = current_id(server, target)
    http = httpx.Client(base_url=server.base_url, timeout=15)
    started = http.post("/v1/auth/email/start", json={"email": address}).json()
    body = {"request_id": started["request_id"], "code": smtp_sink.wait_for_code(address)}
    results: dict[str, httpx.Response] = {}
    barrier = threading.Barrier(3)
    actions = {
        "others": lambda: revoke_others(server, caller),
        "delete": lambda: revoke(server, caller, target_id),
        "sign_in": lambda: http.post("/v1/auth/email/verify", json=body),
    }

    def run(name: str) -> None:
        barrier.wait()
        results[name] = actions[name]()

    threads = [threading.Thread(target=run, args=(name,)) for name in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results["others"].status_code == 200, results["others"].text
    assert results["delete"].status_code == 200, results["delete"].text
    assert results["sign_in"].status_code == 200, results["sign_in"].text
    new = Credentials(http.cookies["nl_session"], http.cookies["nl_csrf"])
    http.close()

    # Every session the caller could list before is gone, whoever ended it.
    assert [who for who in sessions if me(server, who).status_code == 200] == [caller]
    # The new sign-in committed either before revoke-others (and was ended by it) or after
    # (and is listed, alive): the list and /me agree either way.
    new_alive = me(server, new).status_code == 200
    assert len(listed(server, caller)) == (2 if new_alive else 1)
    # Each ended session was ended exactly once: by revoke-others, or B by the DELETE.
    events = get(server, "/v1/auth/activity", caller).json()["events"]
    deleted = [e for e in events if e["type"] == "session_revoked"]
    assert [e["session_id"] for e in deleted] in ([], [target_id])
    assert results["others"].json()["revoked"] + len(deleted) == 3 + (0 if new_alive else 1)


def test_concurrent_revoke_others_sign_in_and_delete_leave_no_listed_session_alive(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    """Three requests at once: revoke-others and a DELETE of B from A, and a new sign-in."""
    for _ in range(4):
        _race_once(server, smtp_sink)
