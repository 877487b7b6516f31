"""Account activity (spec §2.11) on both stores: what is recorded, paging, and atomicity.

Events are checked through GET /v1/auth/activity only; each change is made through the real
HTTP routes (or the operator's command), as a user or operator would.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest

from tests.cli.test_cli import cli
from tests.http.test_sessions import (
    CHROME_MAC,
    current_id,
    get,
    mutate,
    new_address,
    revoke,
    revoke_others,
    sign_in_as,
)
from tests.support.harness import ServerProcess, SmtpSink, write_lock
from tests.support.http import assert_envelope, session_headers
from tests.support.sessions import Credentials, sign_in_one

EVENT_FIELDS = {"id", "type", "at", "ip", "user_agent", "device"}
OPTIONAL_FIELDS = {"provider", "session_id", "key_id", "passkey_id"}


def activity(server: ServerProcess, who: Credentials, **query: Any) -> httpx.Response:
    return httpx.get(
        server.base_url + "/v1/auth/activity",
        params=query,
        headers=session_headers(who.token, who.csrf),
        timeout=15,
    )


def events(server: ServerProcess, who: Credentials) -> list[dict[str, Any]]:
    response = activity(server, who, limit=100)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"events", "next"}
    found: list[dict[str, Any]] = response.json()["events"]
    for event in found:
        assert EVENT_FIELDS <= set(event) <= EVENT_FIELDS | OPTIONAL_FIELDS
        assert all(event[name] is not None for name in OPTIONAL_FIELDS & set(event))
        assert str(uuid.UUID(event["id"])) == event["id"]
    return found


def types(server: ServerProcess, who: Credentials) -> list[str]:
    return [event["type"] for event in events(server, who)]


def send(server: ServerProcess, who: Credentials, method: str, path: str, **kw: Any) -> Any:
    headers = session_headers(who.token, who.csrf, who.csrf)
    return httpx.request(method, server.base_url + path, headers=headers, timeout=30, **kw)


def test_sign_in_records_signed_in_with_provider_session_address_and_device(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    caller, _ = sign_in_as(server, smtp_sink, new_address(), CHROME_MAC)
    (event,) = events(server, caller)
    assert event["type"] == "signed_in"
    assert event["provider"] == "email"
    assert event["session_id"] == current_id(server, caller)
    assert event["ip"] == "127.0.0.1"
    assert event["user_agent"] == CHROME_MAC
    assert event["device"] == "Chrome on macOS"
    assert "key_id" not in event and "passkey_id" not in event


def test_key_changes_are_recorded_newest_first_with_their_key(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    caller = sign_in_one(server.base_url, smtp_sink)
    default = get(server, "/v1/auth/me", caller).json()["default_key"]["id"]
    created = send(server, caller, "POST", "/v1/keys", json={"name": "indexer"}).json()["key"]
    rotated = send(server, caller, "POST", f"/v1/keys/{created['id']}/rotate").json()
    assert send(server, caller, "DELETE", f"/v1/keys/{rotated['new']['id']}").status_code == 200
    # Repeats change nothing, so they record nothing.
    assert send(server, caller, "DELETE", f"/v1/keys/{rotated['new']['id']}").status_code == 200
    assert send(server, caller, "POST", f"/v1/keys/{created['id']}/rotate").status_code == 409
    found = events(server, caller)
    assert [(e["type"], e.get("key_id")) for e in found] == [
        ("key_revoked", rotated["new"]["id"]),
        ("key_rotated", created["id"]),
        ("key_created", created["id"]),
        ("key_created", default),  # the /me bootstrap of the default key
        ("signed_in", None),
    ]
    ats = [e["at"] for e in found]
    assert ats == sorted(ats, reverse=True)


def test_session_endings_are_recorded_once_each(server: ServerProcess, smtp_sink: SmtpSink) -> None:
    address = new_address()
    sessions = [sign_in_as(server, smtp_sink, address)[0] for _ in range(4)]
    first, second, _third, caller = sessions
    first_id, second_id = current_id(server, first), current_id(server, second)
    caller_id = current_id(server, caller)
    assert mutate(server, "POST", "/v1/auth/logout", first).status_code == 200
    assert mutate(server, "POST", "/v1/auth/logout", first).status_code == 200  # nothing live
    assert revoke(server, caller, second_id).status_code == 200
    assert revoke(server, caller, second_id).status_code == 200  # already revoked
    assert revoke_others(server, caller).json() == {"revoked": 1}  # third
    assert revoke_others(server, caller).json() == {"revoked": 0}  # nothing ended: no event
    found = events(server, caller)
    assert [e["type"] for e in found[:3]] == [
        "signed_out_everywhere",
        "session_revoked",
        "signed_out",
    ]
    assert found[0]["session_id"] == caller_id  # the session that did it
    assert found[1]["session_id"] == second_id
    assert found[2]["session_id"] == first_id
    assert [e["type"] for e in found[3:]] == ["signed_in"] * 4
    # Ending one's own session through DELETE is a sign-out.
    assert revoke(server, caller, caller_id).status_code == 200
    again = sign_in_one(server.base_url, smtp_sink, address)
    assert types(server, again)[:2] == ["signed_in", "signed_out"]
    assert events(server, again)[1]["session_id"] == caller_id


def test_sign_in_with_sign_out_others_records_both_events(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    address = new_address()
    sign_in_as(server, smtp_sink, address)
    caller, _ = sign_in_as(server, smtp_sink, address, sign_out_others=True)
    assert sorted(types(server, caller)[:2]) == ["signed_in", "signed_out_everywhere"]
    assert {e["session_id"] for e in events(server, caller)[:2]} == {current_id(server, caller)}


def test_each_user_sees_only_their_own_events(server: ServerProcess, smtp_sink: SmtpSink) -> None:
    one = sign_in_one(server.base_url, smtp_sink)
    other = sign_in_one(server.base_url, smtp_sink)
    assert send(server, other, "POST", "/v1/keys", json={"name": "theirs"}).status_code == 200
    assert types(server, one) == ["signed_in"]
    # A cursor taken from another user's list pages through the caller's events only.
    cursor = activity(server, other, limit=1).json()["next"]
    assert cursor is not None
    assert [e["type"] for e in activity(server, one, before=cursor).json()["events"]] in (
        [],
        ["signed_in"],
    )


def test_paging_walks_every_event_once_newest_first(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    caller = sign_in_one(server.base_url, smtp_sink)
    for index in range(6):
        assert (
            send(server, caller, "POST", "/v1/keys", json={"name": f"k{index}"}).status_code == 200
        )
    everything = events(server, caller)
    assert len(everything) == 7
    assert activity(server, caller).json()["next"] is None  # default limit 50 covers all
    for size in (1, 2, 3, 7, 100):
        seen: list[dict[str, Any]] = []
        cursor = None
        while True:
            query: dict[str, Any] = {"limit": size}
            if cursor is not None:
                query["before"] = cursor
            page = activity(server, caller, **query).json()
            assert len(page["events"]) <= size
            seen.extend(page["events"])
            cursor = page["next"]
            if cursor is None:
                break
            assert len(page["events"]) == size
        assert seen == everything


@pytest.mark.parametrize("limit", ["0", "101", "-1", "1.5", "abc", "", " 5", "5 ", "0x10", "007"])
def test_a_bad_limit_is_400_invalid_request(
    server: ServerProcess, new_session: Any, limit: str
) -> None:
    client = new_session(server)
    caller = Credentials(client.cookies["nl_session"], client.cookies["nl_csrf"])
    assert_envelope(activity(server, caller, limit=limit), 400, "invalid_request")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "before",
    [
        "",
        "x",
        "not base64!",
        "A" * 200,
        _b64("junk"),
        _b64("123.not-a-uuid"),
        _b64("-5.3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"),
        _b64("1" * 30 + ".3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"),
        _b64("12.3F2B8C1E-4D5A-4B6C-8D7E-9F0A1B2C3D4E") + "\x00",
        "%C3%A9",
    ],
)
def test_a_bad_cursor_is_400_invalid_request(
    server: ServerProcess, new_session: Any, before: str
) -> None:
    client = new_session(server)
    caller = Credentials(client.cookies["nl_session"], client.cookies["nl_csrf"])
    assert_envelope(activity(server, caller, before=before), 400, "invalid_request")


def test_a_well_formed_cursor_of_any_position_just_pages_from_there(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    caller = sign_in_one(server.base_url, smtp_sink)
    future = _b64(f"{10**16}.{uuid.uuid4()}")  # the year 2286: everything is older
    assert [e["type"] for e in activity(server, caller, before=future).json()["events"]] == [
        "signed_in"
    ]
    epoch = _b64(f"0.{uuid.uuid4()}")
    assert activity(server, caller, before=epoch).json() == {"events": [], "next": None}


# No event without its change, no change without its event --------------------------------
def test_a_change_that_fails_records_no_event_and_its_retry_records_exactly_one(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    address = new_address()
    other, _ = sign_in_as(server, smtp_sink, address)
    caller, _ = sign_in_as(server, smtp_sink, address)
    other_id = current_id(server, other)
    get(server, "/v1/auth/me", caller)  # the default key exists before the lock
    before = events(server, caller)
    with write_lock(server.database_url):
        assert_envelope(
            send(server, caller, "POST", "/v1/keys", json={"name": "x"}), 500, "internal"
        )
        assert_envelope(revoke(server, caller, other_id), 500, "revoke_failed")
        assert_envelope(revoke_others(server, caller), 500, "revoke_failed")
        assert_envelope(mutate(server, "POST", "/v1/auth/logout", other), 500, "logout_failed")
        assert events(server, caller) == before  # reads go on; nothing was recorded
    assert events(server, caller) == before
    assert send(server, caller, "POST", "/v1/keys", json={"name": "x"}).status_code == 200
    assert revoke(server, caller, other_id).status_code == 200
    assert mutate(server, "POST", "/v1/auth/logout", other).status_code == 200  # nothing live now
    assert revoke_others(server, caller).json() == {"revoked": 0}
    added = [e["type"] for e in events(server, caller)[: -len(before)]]
    assert added == ["session_revoked", "key_created"]


def test_the_operator_command_records_one_session_revoked_per_session_without_an_address(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    address = new_address()
    sign_in_as(server, smtp_sink, address)
    sign_in_as(server, smtp_sink, address)
    done = cli(
        "revoke-sessions", "--email", address, env={"TRIPORT_DATABASE_URL": server.database_url}
    )
    assert done.returncode == 0, done.stderr
    later = sign_in_one(server.base_url, smtp_sink, address)
    found = events(server, later)
    revoked = [e for e in found if e["type"] == "session_revoked"]
    assert len(revoked) == 2
    assert all(e["ip"] is None and e["user_agent"] is None for e in revoked)
