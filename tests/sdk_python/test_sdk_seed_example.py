"""The seed page's Python example, run as written against a local server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from triport import ConsoleClient

from .redaction import me_status, redact

# Verbatim from shared/seed/logout.md ("Python (triport-sdk)"); only the base URL is swapped.
SEED_EXAMPLE = """from triport import ConsoleClient


console = ConsoleClient(base_url="https://api.triport.io")


# Session cookie + CSRF are managed by the client.
console.auth.logout()
"""


def test_seed_example_revokes_the_session_signed_in_by_email(
    sdk_server: Any,
    sign_in: Callable[[Any, str], None],
    email: str,
    tmp_path: Path,
) -> None:
    session_file = tmp_path / "session.json"
    with ConsoleClient(base_url=sdk_server.base_url, session_file=session_file) as console:
        sign_in(console, email)
        cookies = redact(console.cookies)
    assert set(cookies) == {"nl_session", "nl_csrf"}
    assert me_status(sdk_server.base_url, cookies) == 200

    script = SEED_EXAMPLE.replace("https://api.triport.io", sdk_server.base_url)
    assert script.count(sdk_server.base_url) == 1
    env = {**os.environ, "TRIPORT_SESSION_FILE": os.fspath(session_file)}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=90
    )

    status = result.returncode
    assert status == 0, result.stderr
    assert me_status(sdk_server.base_url, cookies) == 401
    assert not session_file.exists()
