"""The seed's retry rule under a real store failure: another connection holds the write lock."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from triport import LogoutFailedError

from tests.support.harness import (
    ServerProcess,
    SmtpSink,
    create_database,
    drop_database,
    write_lock,
)

from .conftest import DB_TIMEOUT, SERVER_START_TIMEOUT
from .redaction import me_status, redact

LOCK_SECONDS = 2.5


@contextmanager
def lock_held_for(database_url: str, seconds: float) -> Iterator[None]:
    """Hold the database write lock in another thread for ``seconds``, then release it."""
    held = threading.Event()

    def hold() -> None:
        with write_lock(database_url):
            held.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(15), "the write lock was not taken"
        yield
    finally:
        thread.join(30)


def failed_attempts(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The error code of each failed logout attempt, from the SDK's ``triport`` logger."""
    return [
        str(record.args[1])  # type: ignore[index]
        for record in caplog.records
        if record.name == "triport" and record.getMessage().startswith("logout attempt")
    ]


def test_logout_retries_until_the_lock_is_released_then_succeeds(
    any_store_server: Any,
    make_console: Callable[..., Any],
    sign_in: Callable[[Any, str], None],
    email: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = any_store_server
    console = make_console(base_url=server.base_url)
    sign_in(console, email)
    cookies = redact(console.cookies)
    caplog.set_level(logging.INFO, logger="triport")

    with lock_held_for(server.database_url, LOCK_SECONDS):
        started = time.monotonic()
        console.auth.logout(deadline=30)
        elapsed = time.monotonic() - started

    failures = failed_attempts(caplog)
    assert failures, "logout succeeded at once: the lock did not make any attempt fail"
    assert set(failures) == {"logout_failed"}
    # It could only succeed once the lock was gone.
    assert elapsed >= LOCK_SECONDS - 0.5
    assert redact(console.cookies) == {}
    assert me_status(server.base_url, cookies) == 401


def test_logout_past_its_deadline_keeps_the_cookies_and_a_second_call_finishes(
    any_store_server: Any,
    make_console: Callable[..., Any],
    sign_in: Callable[[Any, str], None],
    email: str,
    tmp_path: Path,
) -> None:
    server = any_store_server
    session_file = tmp_path / "session.json"
    console = make_console(base_url=server.base_url, session_file=session_file)
    sign_in(console, email)
    cookies = redact(console.cookies)
    deadline = 1.5

    with write_lock(server.database_url):
        started = time.monotonic()
        with pytest.raises(LogoutFailedError) as failure:
            console.auth.logout(deadline=deadline)
        elapsed = time.monotonic() - started
        # The last attempt may have been cut short by the deadline while the server still waits
        # for the lock: keep it until that attempt has failed on the server's side too.
        time.sleep(float(DB_TIMEOUT) + 1.0)

    assert failure.value.code == "logout_failed"
    assert failure.value.attempts >= 2
    # The last attempt ended in the server's 500, or in a timeout cut short by the deadline.
    assert failure.value.status in (500, None)
    assert deadline - 0.1 <= elapsed <= deadline + 2.0
    # The session is still live, and the client still holds what it takes to end it.
    assert redact(console.cookies) == cookies
    assert redact(json.loads(session_file.read_text())["sessions"][server.base_url]) == cookies
    assert me_status(server.base_url, cookies) == 200

    console.auth.logout()

    assert redact(console.cookies) == {}
    assert me_status(server.base_url, cookies) == 401
    assert not session_file.exists()


def test_logout_retries_its_own_timeouts_until_the_server_answers_in_time(
    sdk_server: Any,
    make_console: Callable[..., Any],
    sign_in: Callable[[Any, str], None],
    email: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    session_file = tmp_path / "session.json"
    sign_in(make_console(base_url=sdk_server.base_url, session_file=session_file), email)
    # Gives up on each attempt before the server's own lock timeout can answer 500.
    impatient = make_console(base_url=sdk_server.base_url, session_file=session_file, timeout=0.2)
    cookies = redact(impatient.cookies)
    caplog.set_level(logging.INFO, logger="triport")

    with lock_held_for(sdk_server.database_url, 2.0):
        impatient.auth.logout(deadline=30)

    assert "timeout" in failed_attempts(caplog)
    assert redact(impatient.cookies) == {}
    assert me_status(sdk_server.base_url, cookies) == 401


def test_logout_retries_through_a_server_restart(
    smtp_sink: SmtpSink,
    make_console: Callable[..., Any],
    sign_in: Callable[[Any, str], None],
    email: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    database_url = create_database("sqlite")
    first = ServerProcess(database_url, mail_url=smtp_sink.url).start(SERVER_START_TIMEOUT)
    replacement = ServerProcess(database_url, mail_url=smtp_sink.url, port=first.port)
    restart = threading.Timer(1.0, replacement.start, [SERVER_START_TIMEOUT])
    try:
        console = make_console(base_url=first.base_url)
        sign_in(console, email)
        cookies = redact(console.cookies)
        first.stop()
        caplog.set_level(logging.INFO, logger="triport")

        restart.start()  # nothing listens on the port until then: connections are refused
        console.auth.logout(deadline=90)
        restart.join()

        assert "connection_error" in failed_attempts(caplog)
        assert redact(console.cookies) == {}
        assert me_status(replacement.base_url, cookies) == 401
    finally:
        restart.cancel()
        first.stop()
        replacement.stop()
        drop_database(database_url)
