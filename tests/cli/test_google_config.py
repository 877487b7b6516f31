"""Google sign-in configuration is checked at start, like every other variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import cli


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TRIPORT_GOOGLE_ISSUER": "http://accounts.example.com"}, "TRIPORT_GOOGLE_ISSUER"),
        ({"TRIPORT_GOOGLE_ISSUER": "accounts.google.com"}, "TRIPORT_GOOGLE_ISSUER"),
        ({"TRIPORT_GOOGLE_CLIENT_ID": "id-without-secret"}, "TRIPORT_GOOGLE_CLIENT_SECRET"),
        ({"TRIPORT_CONSOLE_URL": "console.example.com"}, "TRIPORT_CONSOLE_URL"),
    ],
)
def test_invalid_google_configuration_fails_at_start_naming_the_variable(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = cli("serve", "--port", "1", env=env, cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], result.stderr
