"""Every exception class, each raised from a real response of the real server."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from triport import (
    APIConnectionError,
    AuthenticationError,
    ConflictError,
    ConsoleClient,
    CsrfError,
    InvalidRequestError,
    LogoutFailedError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TriportError,
)

from tests.support.harness import write_lock

from .redaction import me_status, redact

REQUEST_ID = re.compile(r"req_[0-9a-f]{16}")


def test_me_without_a_session_is_an_authentication_error(sdk_server: Any) -> None:
    with (
        ConsoleClient(base_url=sdk_server.base_url) as console,
        pytest.raises(AuthenticationError) as failure,
    ):
        console.auth.me()
    assert (failure.value.status, failure.value.code) == (401, "unauthenticated")
    assert REQUEST_ID.fullmatch(failure.value.request_id or "")
    assert failure.value.message
    assert isinstance(failure.value, TriportError)


def _tamper(session_file: Path, base_url: str, csrf: str | None) -> None:
    data = json.loads(session_file.read_text())
    cookies = data["sessions"][base_url]
    if csrf is None:
        del cookies["nl_csrf"]
    else:
        cookies["nl_csrf"]["value"] = csrf
    session_file.write_text(json.dumps(data))


@pytest.mark.parametrize(("csrf", "code"), [("x" * 43, "csrf_invalid"), (None, "csrf_missing")])
def test_a_bad_csrf_token_fails_logout_at_once_and_keeps_the_session(
    sdk_server: Any,
    sign_in: Callable[[Any, str], None],
    email: str,
    tmp_path: Path,
    csrf: str | None,
    code: str,
) -> None:
    session_file = tmp_path / "session.json"
    with ConsoleClient(base_url=sdk_server.base_url, session_file=session_file) as console:
        sign_in(console, email)
        cookies = redact(console.cookies)
    _tamper(session_file, sdk_server.base_url, csrf)

    with ConsoleClient(base_url=sdk_server.base_url, session_file=session_file) as tampered:
        started = time.monotonic()
        with pytest.raises(CsrfError) as failure:
            tampered.auth.logout()
        # Not retried: a repeat cannot fix a CSRF token.
        assert time.monotonic() - started < 2
        assert redact(tampered.cookies)["nl_session"] == cookies["nl_session"]
    assert (failure.value.status, failure.value.code) == (403, code)
    assert me_status(sdk_server.base_url, cookies) == 200


def test_a_sixth_code_for_one_address_is_rate_limited(sdk_server: Any, email: str) -> None:
    with ConsoleClient(base_url=sdk_server.base_url) as console:
        for _ in range(5):
            console.auth.email_start(email)
        with pytest.raises(RateLimitError) as failure:
            console.auth.email_start(f"  {email.upper()} ")
    assert (failure.value.status, failure.value.code) == (429, "rate_limited")
    assert failure.value.retry_after is not None and failure.value.retry_after > 0


def test_invalid_email_request_and_code_are_invalid_request_errors(
    sdk_server: Any, smtp_sink: Any, email: str
) -> None:
    with ConsoleClient(base_url=sdk_server.base_url) as console:
        with pytest.raises(InvalidRequestError) as bad_email:
            console.auth.email_start("not an address")
        with pytest.raises(InvalidRequestError) as bad_request:
            console.auth.email_verify(str(uuid.uuid4()), "123456")
        request_id = console.auth.email_start(email).request_id
        code = smtp_sink.wait_for_code(email, timeout=10)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        with pytest.raises(InvalidRequestError) as bad_code:
            console.auth.email_verify(request_id, wrong)
    assert (bad_email.value.status, bad_email.value.code) == (400, "invalid_email")
    assert (bad_request.value.status, bad_request.value.code) == (400, "invalid_request")
    assert (bad_code.value.status, bad_code.value.code) == (400, "invalid_code")


def test_unknown_and_protected_keys_are_not_found_and_conflict_errors(
    sdk_server: Any, sign_in: Callable[[Any, str], None], email: str
) -> None:
    with ConsoleClient(base_url=sdk_server.base_url) as console:
        sign_in(console, email)
        default_id = console.auth.me().default_key.id
        with pytest.raises(NotFoundError) as unknown:
            console.keys.revoke(str(uuid.uuid4()))
        with pytest.raises(ConflictError) as default:
            console.keys.revoke(default_id)
        spare = console.keys.create("spare").key.id
        console.keys.revoke(spare)
        with pytest.raises(ConflictError) as revoked:
            console.keys.rotate(spare)
        with pytest.raises(InvalidRequestError) as bad_id:
            console.keys.rotate("not-a-uuid")
        console.auth.logout()
    assert (unknown.value.status, unknown.value.code) == (404, "not_found")
    assert (default.value.status, default.value.code) == (409, "cannot_revoke_default")
    assert (revoked.value.status, revoked.value.code) == (409, "key_revoked")
    assert (bad_id.value.status, bad_id.value.code) == (400, "invalid_id")


def test_a_store_failure_is_a_server_error_not_a_logout(sdk_server: Any, email: str) -> None:
    with (
        ConsoleClient(base_url=sdk_server.base_url) as console,
        write_lock(sdk_server.database_url),
        pytest.raises(ServerError) as failure,
    ):
        console.auth.email_start(email)
    assert failure.value.status == 500
    assert failure.value.code == "internal"
    assert not isinstance(failure.value, (LogoutFailedError, AuthenticationError))


def test_no_server_is_a_connection_error_after_the_safe_retries() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more: connections are refused.
    with ConsoleClient(base_url=f"http://127.0.0.1:{port}", max_retries=1) as console:
        with pytest.raises(APIConnectionError) as failure:
            console.auth.me()
        with pytest.raises(LogoutFailedError) as logout:
            console.auth.logout(deadline=0.5)
    assert (failure.value.status, failure.value.code) == (None, "connection_error")
    assert logout.value.status is None and logout.value.attempts >= 1
