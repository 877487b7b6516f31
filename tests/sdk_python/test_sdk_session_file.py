"""The optional session file: a round trip across clients, 0600, and never sent to another host."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from triport import AuthenticationError, ConsoleClient

from .redaction import redact


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_session_survives_into_a_new_client_until_logout(
    sdk_server: Any,
    make_console: Callable[..., Any],
    sign_in: Callable[[Any, str], None],
    email: str,
    tmp_path: Path,
) -> None:
    session_file = tmp_path / "config" / "triport" / "session.json"
    old_umask = os.umask(0)  # the file must be private whatever the umask says
    try:
        first = make_console(base_url=sdk_server.base_url, session_file=session_file)
        sign_in(first, email)
    finally:
        os.umask(old_umask)
    assert mode(session_file) == 0o600
    assert mode(session_file.parent) == 0o700
    stored = json.loads(session_file.read_text())["sessions"][sdk_server.base_url]
    assert redact(stored) == redact(first.cookies)
    assert set(stored) == {"nl_session", "nl_csrf"}

    second = make_console(base_url=sdk_server.base_url, session_file=session_file)
    assert second.auth.me().user.email == email
    # Logout needs the CSRF token as well as the session: both were restored.
    second.auth.logout()
    assert not session_file.exists()
    third = make_console(base_url=sdk_server.base_url, session_file=session_file)
    with pytest.raises(AuthenticationError):
        third.auth.me()


def test_the_session_file_comes_from_the_environment(
    sdk_server: Any,
    sign_in: Callable[[Any, str], None],
    email: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session_file = tmp_path / "env-session.json"
    monkeypatch.setenv("TRIPORT_SESSION_FILE", os.fspath(session_file))
    monkeypatch.setenv("TRIPORT_BASE_URL", sdk_server.base_url)
    with ConsoleClient() as console:
        assert console.base_url == sdk_server.base_url
        sign_in(console, email)
    assert mode(session_file) == 0o600
    with ConsoleClient() as again:
        assert again.auth.me().user.email == email
        again.auth.logout()


def test_a_session_is_only_sent_to_the_base_url_it_came_from(
    sdk_server: Any, sign_in: Callable[[Any, str], None], email: str, tmp_path: Path
) -> None:
    session_file = tmp_path / "session.json"
    with ConsoleClient(base_url=sdk_server.base_url, session_file=session_file) as console:
        sign_in(console, email)
    # Same server, other name: a different base URL, so the stored session is not offered.
    alias = sdk_server.base_url.replace("127.0.0.1", "localhost")
    with ConsoleClient(base_url=alias, session_file=session_file) as other:
        assert redact(other.cookies) == {}
        with pytest.raises(AuthenticationError):
            other.auth.me()
    # The 401 answered to the alias did not erase the session kept for the real base URL.
    with ConsoleClient(base_url=sdk_server.base_url, session_file=session_file) as console:
        assert console.auth.me().user.email == email
        console.auth.logout()
