"""The ``triport`` command end to end: a real process, a real server, codes from the SMTP sink."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def cli(triport_cli: str, server: Any, tmp_path: Path) -> Any:
    """Run ``triport ARGS`` with its config directory in ``tmp_path``."""
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": os.fspath(tmp_path),
        "TRIPORT_BASE_URL": server.base_url,
    }
    env.pop("TRIPORT_SESSION_FILE", None)

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [triport_cli, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
        )

    run.env = env  # type: ignore[attr-defined]
    return run


def test_login_me_keys_and_logout_from_the_command_line(
    cli: Any, triport_cli: str, sink: Any, server: Any, email: str, tmp_path: Path
) -> None:
    # login prompts for the code, which only exists once the command has asked for it.
    login = subprocess.Popen(
        [triport_cli, "--base-url", server.base_url, "login", "--email", email],
        env=cli.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        code = sink.wait_for_code(email, timeout=10)
        out, err = login.communicate(f"{code}\n", timeout=30)
    finally:
        login.kill()
    assert login.returncode == 0, err
    assert f"Signed in as {email}" in out
    assert "code sent to" in err
    session_file = tmp_path / "triport" / "session.json"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600

    me = cli("--json", "me")
    assert me.returncode == 0, me.stderr
    profile = json.loads(me.stdout)
    assert profile["user"]["email"] == email and profile["provider"] == "email"
    assert profile["default_key"]["raw"].startswith("nl_live_")
    human = cli("me")
    assert email in human.stdout and "shown once" not in human.stdout

    created = cli(
        "--json", "keys", "create", "deploy bot", "--scope", "eth:rpc", "--rate-limit", "7"
    )
    assert created.returncode == 0, created.stderr
    new_key = json.loads(created.stdout)
    assert new_key["raw"].startswith("nl_live_")
    assert (new_key["key"]["scopes"], new_key["key"]["rate_limit"]) == (["eth:rpc"], 7)
    key_id = new_key["key"]["id"]

    listed = cli("keys", "list")
    assert listed.returncode == 0 and key_id in listed.stdout and "deploy bot" in listed.stdout

    rotated = cli("--json", "keys", "rotate", key_id)
    assert rotated.returncode == 0, rotated.stderr
    new_id = json.loads(rotated.stdout)["new"]["id"]
    assert json.loads(rotated.stdout)["old_id"] == key_id

    revoked = cli("keys", "revoke", new_id)
    assert revoked.returncode == 0, revoked.stderr
    statuses = {
        key["id"]: key["status"] for key in json.loads(cli("--json", "keys", "list").stdout)
    }
    assert statuses[key_id] == statuses[new_id] == "revoked"

    logout = cli("logout")
    assert logout.returncode == 0, logout.stderr
    assert not session_file.exists()
    after = cli("me")
    assert after.returncode == 1
    assert "unauthenticated" in after.stderr and "triport login" in after.stderr


def test_login_in_two_steps_for_scripts(cli: Any, sink: Any, email: str) -> None:
    sent = cli("--json", "login", "--email", email, "--send-only")
    assert sent.returncode == 0, sent.stderr
    request_id = json.loads(sent.stdout)["request_id"]

    code = sink.wait_for_code(email, timeout=10)
    done = cli("login", "--email", email, "--request-id", request_id, "--code", code)
    assert done.returncode == 0, done.stderr
    assert cli("me").returncode == 0
    assert cli("logout").returncode == 0


def test_errors_exit_non_zero_with_the_code(cli: Any) -> None:
    bad = cli("login", "--email", "nobody", "--send-only")
    assert bad.returncode == 1
    assert "invalid_email" in bad.stderr
    missing = cli("login", "--email", "a@example.com", "--code", "123456")
    assert missing.returncode == 2
    assert "--request-id" in missing.stderr
