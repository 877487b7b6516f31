"""`triport-console` as an operator runs it: migrate, revoke-sessions, config errors, secrets."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.harness import TEST_SECRET, ServerProcess, SmtpSink, run_sql
from tests.support.http import session_headers


def cli(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triport_console", *args],
        env={**os.environ, "TRIPORT_SECRET_KEY": TEST_SECRET, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_migrate_applies_once_and_is_idempotent(database_url):
    env = {"TRIPORT_DATABASE_URL": database_url}
    for _ in range(2):
        result = cli("migrate", env=env)
        assert result.returncode == 0, result.stderr
        assert "migrations applied" in result.stdout
    versions = run_sql(database_url, "SELECT version FROM schema_migrations ORDER BY version")
    assert versions[0] == (1,)
    assert len(versions) == len(set(versions))


def test_revoke_sessions_ends_every_live_session_of_the_user(server, new_session):
    address = "incident@example.com"
    tokens = [new_session(server, address).cookies["nl_session"] for _ in range(3)]
    bystander = new_session(server).cookies["nl_session"]
    result = cli(
        "revoke-sessions",
        "--email",
        " Incident@Example.com ",
        env={"TRIPORT_DATABASE_URL": server.database_url},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "revoked 3 session(s)"
    for token in tokens:
        response = httpx.get(server.base_url + "/v1/auth/me", headers=session_headers(token))
        assert response.status_code == 401
    me = httpx.get(server.base_url + "/v1/auth/me", headers=session_headers(bystander))
    assert me.status_code == 200
    again = cli(
        "revoke-sessions", "--email", address, env={"TRIPORT_DATABASE_URL": server.database_url}
    )
    assert again.stdout.strip() == "revoked 0 session(s)"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRIPORT_SESSION_TTL", "thirty days"),
        ("TRIPORT_SESSION_TTL", "-5"),
        ("TRIPORT_DB_TIMEOUT", "0"),
        ("TRIPORT_DATABASE_URL", "mysql://x/y"),
        ("TRIPORT_MAIL_URL", "carrier-pigeon://x"),
        ("TRIPORT_COOKIE_SECURE", "sometimes"),
        ("TRIPORT_TRUST_PROXY", "maybe"),
        ("TRIPORT_ALLOWED_ORIGINS", "console.example"),
        ("TRIPORT_SECRET_KEY", "short"),
        ("TRIPORT_METRICS_TOKEN", "short"),
        ("TRIPORT_METRICS_TOKEN", "a token with spaces in it, long enough otherwise"),
        ("TRIPORT_DB_POOLER", "session"),
        ("TRIPORT_DB_POOLER", "transaction"),  # the default database is SQLite
    ],
)
def test_invalid_configuration_fails_at_start_naming_the_variable(tmp_path, name, value):
    result = cli("serve", "--port", "1", env={name: value}, cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], result.stderr


def test_secret_is_generated_once_and_kept_private(tmp_path):
    sink = SmtpSink().start()
    env = {"TRIPORT_SECRET_KEY": ""}
    url = f"sqlite:///{tmp_path}/db/triport.db"
    try:
        with ServerProcess(url, mail_url=sink.url, env=env):
            secret_file = tmp_path / "db" / "secret_key"
            first = secret_file.read_bytes()
            assert len(first) >= 48
            assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        with ServerProcess(url, mail_url=sink.url, env=env):
            assert secret_file.read_bytes() == first
    finally:
        sink.stop()


def test_serve_defaults_to_sqlite_under_var_with_the_console_mailer(tmp_path):
    """The README's serve command: no configuration at all, codes printed to the terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIPORT_")}
    port = __import__("tests.support.harness", fromlist=["free_port"]).free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "triport_console", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/healthz")
                break
            except httpx.HTTPError:
                __import__("time").sleep(0.1)
        started = httpx.post(base + "/v1/auth/email/start", json={"email": "dev@example.com"})
        assert started.status_code == 200
        assert (tmp_path / "var" / "triport.db").exists()
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert "Triport sign-in code for dev@example.com:" in output
