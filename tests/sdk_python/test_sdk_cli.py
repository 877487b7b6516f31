"""The ``triport`` command end to end: a real process, a real server, codes from the SMTP sink."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from .redaction import expect_key_secret


@dataclass
class Run:
    """One finished command; ``out`` may hold secrets, so it stays out of the repr."""

    code: int
    err: str
    out: str = field(repr=False)

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Cli:
    path: str
    env: dict[str, str]
    session_file: Path

    def __call__(self, *args: str) -> Run:
        done = subprocess.run(
            [self.path, *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return Run(done.returncode, done.stderr, done.stdout)

    def login(self, email: str, wait_for_code: Callable[[str], str]) -> Run:
        """``triport login --email``, typing the code at its prompt once it has been mailed."""
        process = subprocess.Popen(
            [self.path, "login", "--email", email],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            out, err = process.communicate(f"{wait_for_code(email)}\n", timeout=30)
        finally:
            process.kill()
        return Run(process.returncode, err, out)


@pytest.fixture
def cli(triport_cli: str, sdk_server: Any, tmp_path: Path) -> Cli:
    """``triport`` with its config directory in ``tmp_path`` and the server from the environment."""
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": os.fspath(tmp_path),
        "TRIPORT_BASE_URL": sdk_server.base_url,
    }
    env.pop("TRIPORT_SESSION_FILE", None)
    return Cli(triport_cli, env, tmp_path / "triport" / "session.json")


@pytest.fixture
def signed_in(cli: Cli, smtp_sink: Any, email: str) -> Cli:
    login = cli.login(email, lambda address: smtp_sink.wait_for_code(address, timeout=10))
    assert login.code == 0, login.err
    assert f"Signed in as {email}" in login.out
    assert "code sent to" in login.err
    return cli


def test_login_me_and_logout(signed_in: Cli, email: str) -> None:
    cli = signed_in
    assert stat.S_IMODE(cli.session_file.stat().st_mode) == 0o600

    me = cli("--json", "me")
    assert me.code == 0, me.err
    profile = me.json()
    assert (profile["user"]["email"], profile["provider"]) == (email, "email")
    expect_key_secret(profile["default_key"]["raw"])
    human = cli("me")
    assert human.code == 0, human.err
    assert email in human.out and "shown once" not in human.out

    logout = cli("logout")
    assert logout.code == 0, logout.err
    assert not cli.session_file.exists()
    after = cli("me")
    assert after.code == 1
    assert "unauthenticated" in after.err and "triport login" in after.err


def test_keys_list_create_rotate_revoke(signed_in: Cli) -> None:
    cli = signed_in
    created = cli(
        "--json", "keys", "create", "deploy bot", "--scope", "eth:rpc", "--rate-limit", "7"
    )
    assert created.code == 0, created.err
    new_key = created.json()
    expect_key_secret(new_key["raw"])
    assert (new_key["key"]["scopes"], new_key["key"]["rate_limit"]) == (["eth:rpc"], 7)
    key_id = new_key["key"]["id"]

    listed = cli("keys", "list")
    assert listed.code == 0, listed.err
    assert key_id in listed.out and "deploy bot" in listed.out

    rotated = cli("--json", "keys", "rotate", key_id)
    assert rotated.code == 0, rotated.err
    assert rotated.json()["old_id"] == key_id
    expect_key_secret(rotated.json()["raw"])
    new_id = rotated.json()["new"]["id"]

    revoked = cli("keys", "revoke", new_id)
    assert revoked.code == 0, revoked.err
    statuses = {key["id"]: key["status"] for key in cli("--json", "keys", "list").json()}
    assert statuses[key_id] == statuses[new_id] == "revoked"
    assert cli("logout").code == 0


def test_login_in_two_steps_for_scripts(cli: Cli, smtp_sink: Any, email: str) -> None:
    sent = cli("--json", "login", "--email", email, "--send-only")
    assert sent.code == 0, sent.err
    request_id = sent.json()["request_id"]

    code = smtp_sink.wait_for_code(email, timeout=10)
    done = cli("login", "--email", email, "--request-id", request_id, "--code", code)
    assert done.code == 0, done.err
    assert cli("me").code == 0
    assert cli("logout").code == 0
    assert cli("me").code == 1


def test_errors_exit_non_zero_with_the_code(cli: Cli, email: str) -> None:
    no_code = cli("login", "--email", email)  # stdin is empty
    assert no_code.code == 1
    assert "no code entered" in no_code.err
    bad = cli("login", "--email", "nobody", "--send-only")
    assert bad.code == 1
    assert "invalid_email" in bad.err
    usage = cli("login", "--email", "a@example.com", "--code", "123456")
    assert usage.code == 2
    assert "--request-id" in usage.err


def _raw_error(cli: Cli, method: str, path: str) -> dict[str, Any]:
    """The server's own error envelope for a request, sent without the SDK (same session)."""
    base_url = cli.env["TRIPORT_BASE_URL"]
    cookies = json.loads(cli.session_file.read_text())["sessions"][base_url]
    values = {name: entry["value"] for name, entry in cookies.items()}
    response = httpx.request(
        method,
        base_url + path,
        headers={
            "Cookie": "; ".join(f"{name}={value}" for name, value in values.items()),
            "X-CSRF-Token": values["nl_csrf"],
        },
    )
    body: dict[str, Any] = response.json()
    assert body["error"] and response.status_code >= 400
    return {**body, "status": response.status_code}


@pytest.mark.parametrize(
    ("key_id", "status", "code"),
    [("not-a-uuid", 400, "invalid_id"), ("00000000-0000-4000-8000-000000000000", 404, "not_found")],
)
def test_an_error_prints_the_servers_human_message_then_code_and_request_id(
    signed_in: Cli, key_id: str, status: int, code: str
) -> None:
    cli = signed_in
    failed = cli("keys", "revoke", key_id)
    expected = _raw_error(cli, "DELETE", f"/v1/keys/{key_id}")

    assert failed.code == 1
    assert (expected["status"], expected["error"]) == (status, code)
    # The message is the server's sentence for the code, never the bare code.
    assert expected["message"] != code and " " in expected["message"]
    line = failed.err.splitlines()[0]
    details = rf"\(HTTP {status}, {code}, request req_[0-9a-f]{{16}}\)"
    pattern = rf"triport: {re.escape(expected['message'])} {details}"
    assert re.fullmatch(pattern, line), line
    assert cli("logout").code == 0


def _second_login(cli: Cli, smtp_sink: Any, email: str, tmp_path: Path, *flags: str) -> Cli:
    """Another ``triport`` with its own session file, signed in as the same user."""
    other = Cli(cli.path, {**cli.env, "XDG_CONFIG_HOME": os.fspath(tmp_path / "other")}, Path())
    sent = other("--json", "login", "--email", email, "--send-only")
    assert sent.code == 0, sent.err
    code = smtp_sink.wait_for_code(email, timeout=10)
    request_id = sent.json()["request_id"]
    done = other("login", "--email", email, "--request-id", request_id, "--code", code, *flags)
    assert done.code == 0, done.err
    return other


def test_sessions_list_revoke_and_revoke_others(
    signed_in: Cli, smtp_sink: Any, email: str, tmp_path: Path
) -> None:
    cli = signed_in
    other = _second_login(cli, smtp_sink, email, tmp_path)

    listed = cli("--json", "sessions")
    assert listed.code == 0, listed.err
    sessions = listed.json()
    assert [session["current"] for session in sessions] == [True, False]
    other_id = sessions[1]["id"]
    human = cli("sessions")
    assert human.code == 0, human.err
    first, second = human.out.splitlines()
    assert first.endswith("(this session)") and other_id in second
    assert "last active" in second and "(this session)" not in second

    revoked = cli("sessions", "revoke", other_id)
    assert (revoked.code, revoked.out.strip()) == (0, f"Ended session {other_id}."), revoked.err
    ended = other("me")
    assert ended.code == 1
    assert "this session was ended from another device" in ended.err
    assert len(cli("--json", "sessions", "list").json()) == 1

    third = _second_login(cli, smtp_sink, email, tmp_path)
    everyone = cli("--json", "sessions", "revoke-others")
    assert everyone.code == 0, everyone.err
    assert everyone.json() == {"revoked": 1}
    assert "signed out everywhere" in third("me").err
    assert cli("logout").code == 0


def test_login_signing_out_other_sessions(
    signed_in: Cli, smtp_sink: Any, email: str, tmp_path: Path
) -> None:
    recovery = _second_login(signed_in, smtp_sink, email, tmp_path, "--sign-out-others")
    assert signed_in("me").code == 1
    assert len(recovery("--json", "sessions").json()) == 1
    assert recovery("logout").code == 0


def test_activity_pages(signed_in: Cli) -> None:
    cli = signed_in
    created = cli("--json", "keys", "create", "activity probe")
    assert created.code == 0, created.err
    key_id = created.json()["key"]["id"]
    assert cli("keys", "revoke", key_id).code == 0

    page = cli("--json", "activity", "--limit", "2")
    assert page.code == 0, page.err
    first = page.json()
    assert [event["type"] for event in first["events"]] == ["key_revoked", "key_created"]
    assert first["events"][0]["key_id"] == key_id and first["next"]
    rest = cli("--json", "activity", "--limit", "2", "--before", first["next"])
    assert [event["type"] for event in rest.json()["events"]] == ["signed_in"]
    assert rest.json()["next"] is None

    human = cli("activity", "--limit", "1")
    assert human.code == 0, human.err
    lines = human.out.splitlines()
    assert "key_revoked" in lines[0] and f"key {key_id}" in lines[0]
    assert lines[-1].startswith("more: triport activity --before ")
    everything = cli("--json", "activity", "--all", "--limit", "1")
    assert [event["type"] for event in everything.json()["events"]] == [
        "key_revoked",
        "key_created",
        "signed_in",
    ]
    bad = cli("activity", "--limit", "0")
    assert bad.code == 1 and "invalid_request" in bad.err
    assert cli("logout").code == 0
