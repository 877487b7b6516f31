"""``console.sessions``, ``console.activity``, ``sign_out_others`` and the 401 ``reason``, on both
clients and both databases, against the real server (spec §2.9-2.11)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from triport import (
    ActivityEvent,
    ActivityPage,
    AuthenticationError,
    ConsoleClient,
    InvalidRequestError,
    NotFoundError,
    OkResult,
    RevokedOthers,
    Session,
    SessionList,
    UnauthenticatedError,
)

SignIn = Callable[..., Any]


@pytest.fixture
def signed_in(
    any_store_server: Any, make_console: Callable[..., Any], smtp_sink: Any, email: str
) -> Callable[..., Any]:
    """``signed_in(sign_out_others=False)``: a new client signed in as this test's user."""

    def make(*, sign_out_others: bool = False) -> Any:
        console = make_console(base_url=any_store_server.base_url)
        request_id = console.auth.email_start(email).request_id
        code = smtp_sink.wait_for_code(email, timeout=10)
        console.last_sign_in = console.auth.email_verify(
            request_id, code, sign_out_others=sign_out_others
        )
        return console

    return make


def expect_ended(console: Any, reason: str) -> None:
    with pytest.raises(AuthenticationError) as raised:
        console.auth.me()
    assert isinstance(raised.value, UnauthenticatedError)
    assert (raised.value.status, raised.value.code) == (401, "unauthenticated")
    assert raised.value.reason == reason


def test_list_and_revoke_another_session(signed_in: Callable[..., Any]) -> None:
    laptop, phone = signed_in(), signed_in()
    assert laptop.last_sign_in.signed_out_others is None, "only sent when asked for"

    listed = laptop.sessions.list()
    assert isinstance(listed, SessionList)
    assert all(isinstance(session, Session) for session in listed.sessions)
    assert [session.current for session in listed.sessions] == [True, False]
    this, other = listed.sessions
    assert other.id == phone.sessions.list().sessions[0].id, "each sees itself first"
    assert this.provider == "email" and this.ip
    assert this.user_agent and this.user_agent.startswith("triport-sdk/")
    assert this.expires_at > this.created_at

    assert laptop.sessions.revoke(other.id) == OkResult(ok=True)
    assert laptop.sessions.revoke(other.id) == OkResult(ok=True), "idempotent"
    expect_ended(phone, "revoked")
    assert [session.id for session in laptop.sessions.list().sessions] == [this.id]


def test_revoke_others_and_sign_in_signing_out_others(signed_in: Callable[..., Any]) -> None:
    first, second, third = signed_in(), signed_in(), signed_in()
    ended = third.sessions.revoke_others()
    assert ended == RevokedOthers(revoked=2)
    expect_ended(first, "signed_out_everywhere")
    expect_ended(second, "signed_out_everywhere")
    assert third.sessions.revoke_others() == RevokedOthers(revoked=0)

    recovery = signed_in(sign_out_others=True)
    assert recovery.last_sign_in.signed_out_others == 1
    expect_ended(third, "signed_out_everywhere")
    assert len(recovery.sessions.list().sessions) == 1


def test_revoking_the_own_session_signs_the_client_out(signed_in: Callable[..., Any]) -> None:
    console = signed_in()
    own = console.sessions.list().sessions[0]
    assert own.current
    console.sessions.revoke(own.id)
    assert console.cookies == {}, "the server cleared both cookies and the client forgot them"
    with pytest.raises(AuthenticationError) as raised:
        console.auth.me()
    assert raised.value.reason is None, "no cookie sent: no reason"


def test_session_errors(signed_in: Callable[..., Any], make_console: Callable[..., Any]) -> None:
    console = signed_in()
    with pytest.raises(InvalidRequestError) as bad:
        console.sessions.revoke("not-a-uuid")
    assert bad.value.code == "invalid_id"
    with pytest.raises(NotFoundError):
        console.sessions.revoke(str(uuid.uuid4()))
    anonymous = make_console(base_url=console.base_url)
    with pytest.raises(AuthenticationError) as raised:
        anonymous.sessions.list()
    assert raised.value.reason is None


def test_activity_pages_and_iteration(signed_in: Callable[..., Any]) -> None:
    console, other = signed_in(), signed_in()
    key = console.keys.create("activity probe").key
    console.keys.revoke(key.id)
    console.sessions.revoke(other.sessions.list().sessions[0].id)

    first = console.activity.list(limit=2)
    assert isinstance(first, ActivityPage)
    assert [event.type for event in first.events] == ["session_revoked", "key_revoked"]
    assert first.events[1].key_id == key.id
    assert first.next is not None
    second = console.activity.list(limit=2, before=first.next)
    assert [event.type for event in second.events] == ["key_created", "signed_in"]

    everything = list(console.activity.iterate(limit=2))
    assert all(isinstance(event, ActivityEvent) for event in everything)
    assert [event.id for event in everything[:4]] == [
        event.id for event in first.events + second.events
    ]
    types = [event.type for event in everything]
    assert types.count("signed_in") == 2 and types[-1] == "signed_in"
    assert everything == sorted(everything, key=lambda event: event.at, reverse=True)
    assert len({event.id for event in everything}) == len(everything)

    with pytest.raises(InvalidRequestError) as bad_limit:
        console.activity.list(limit=0)
    assert bad_limit.value.code == "invalid_request"
    with pytest.raises(InvalidRequestError):
        console.activity.list(before="not a cursor")


def test_a_blocking_client_iterates_activity_directly(
    sdk_server: Any, sign_in: Callable[[Any, str], None], email: str
) -> None:
    with ConsoleClient(base_url=sdk_server.base_url) as console:
        sign_in(console, email)
        assert [event.type for event in console.activity] == ["signed_in"]


def test_google_start_url_carries_sign_out_others() -> None:
    console = ConsoleClient(base_url="https://api.example.test/")
    assert console.auth.google_start_url() == "https://api.example.test/v1/auth/google/start"
    assert console.auth.google_start_url(sign_out_others=True).endswith(
        "/v1/auth/google/start?sign_out_others=1"
    )
    console.close()
