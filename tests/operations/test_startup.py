"""`triport-console serve` as an operator starts it (spec §2.13): one secret per database, the
public URL from --host/--port, JSON-only standard output, and a banner only once listening."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import require_postgres
from tests.support.harness import (
    ServerProcess,
    create_database,
    drop_database,
    free_port,
    run_sql,
)
from tests.support.wallet_keys import EvmWallet
from triport_console.cli import bind_url


def serve(
    database_url: str, port: int, env: dict[str, str], cwd: Path, *extra: str
) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRIPORT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "triport_console", "serve", "--port", str(port), *extra],
        env={**clean, "TRIPORT_DATABASE_URL": database_url, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_healthy(base_url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("server did not start")


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.terminate()
    return process.communicate(timeout=30)


# One secret per deployment ------------------------------------------------------------------
def test_a_second_process_with_another_secret_refuses_to_start(store, smtp_sink, tmp_path):
    database_url = create_database(store)  # its own: the secret recorded here stays with it
    first_secret, other_secret = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    env = {"TRIPORT_SECRET_KEY": first_secret, "TRIPORT_MAIL_URL": smtp_sink.url}
    with ServerProcess(database_url, env=env):
        refused = subprocess.run(
            [sys.executable, "-m", "triport_console", "serve", "--port", str(free_port())],
            env={
                **os.environ,
                **env,
                "TRIPORT_DATABASE_URL": database_url,
                "TRIPORT_SECRET_KEY": other_secret,
            },
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert refused.returncode != 0
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "TRIPORT_SECRET_KEY" in lines[0], refused.stderr
        assert other_secret not in refused.stderr and first_secret not in refused.stderr
        assert "Triport console on" not in refused.stdout + refused.stderr
        # The same secret starts, side by side with the first process.
        with ServerProcess(database_url, env=env) as second:
            assert httpx.get(second.base_url + "/readyz").status_code == 200
    # The database keeps a 32-byte HMAC, not the secret.
    rows = run_sql(database_url, "SELECT fingerprint FROM secret_fingerprint")
    assert len(rows) == 1 and len(bytes(rows[0][0])) == 32
    assert first_secret.encode() not in bytes(rows[0][0])
    drop_database(database_url)


def test_generated_secrets_on_two_hosts_sharing_postgres_are_caught(tmp_path):
    """The issue's case: no TRIPORT_SECRET_KEY, so each host generates its own ./var/secret_key.

    (On SQLite the generated secret sits beside the one database file, so it is always shared.)
    """
    require_postgres()
    database_url = create_database("postgres")
    hosts = [tmp_path / "host-a", tmp_path / "host-b"]
    for host in hosts:
        host.mkdir()
    env = {"TRIPORT_SECRET_KEY": "", "TRIPORT_MAIL_URL": "console:"}
    port = free_port()
    first = serve(database_url, port, env, hosts[0])
    try:
        wait_healthy(f"http://127.0.0.1:{port}", first)
        second = serve(database_url, free_port(), env, hosts[1])
        _, err = second.communicate(timeout=60)
        assert second.returncode != 0
        assert len(err.strip().splitlines()) == 1 and "TRIPORT_SECRET_KEY" in err, err
    finally:
        stop(first)
        drop_database(database_url)


# The public URL ----------------------------------------------------------------------------
def test_without_public_url_the_bound_port_names_the_service(database_url, smtp_sink):
    server = ServerProcess(
        database_url, mail_url=smtp_sink.url, env={"TRIPORT_PUBLIC_URL": ""}
    ).start()
    try:
        document = httpx.get(server.base_url + "/openapi.json").json()
        assert document["servers"][0]["url"] == server.base_url
        wallet = EvmWallet()
        challenge = httpx.post(
            server.base_url + "/v1/auth/wallet/challenge",
            json={"address": wallet.address, "chain": wallet.chain},
        )
        assert challenge.status_code == 200, challenge.text
        message = challenge.json()["message"]
        assert message.startswith(f"127.0.0.1:{server.port} wants you to sign in"), message
        assert "8080" not in message
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:9000"),
        ("0.0.0.0", "http://127.0.0.1:9000"),
        ("::", "http://[::1]:9000"),
        ("::1", "http://[::1]:9000"),
        ("console.internal", "http://console.internal:9000"),
    ],
)
def test_the_public_url_a_bind_address_stands_for(host, url):
    assert bind_url(host, 9000) == url


# Standard output, standard error and the banner ----------------------------------------------
def test_stdout_is_json_lines_only_and_codes_go_to_stderr_framed(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"sqlite:///{tmp_path}/triport.db"
    process = serve(url, port, {}, tmp_path)
    try:
        wait_healthy(base, process)
        started = httpx.post(base + "/v1/auth/email/start", json={"email": "dev@example.com"})
        assert started.status_code == 200
        # A path carrying a newline and a forged JSON record stays inside one escaped field.
        forged = '\n{"event":"forged","level":"error"}\n'
        httpx.get(base + "/v1/" + forged.replace("\n", "%0A").replace('"', "%22"))
        # uvicorn's own complaint about a malformed request is a JSON line too.
        with socket.create_connection(("127.0.0.1", port)) as raw:
            raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            raw.recv(1024)
        time.sleep(0.5)
    finally:
        out, err = stop(process)
    records = [json.loads(line) for line in out.splitlines()]  # every line parses
    assert all({"time", "level", "event"} <= set(record) for record in records)
    events = [record["event"] for record in records]
    assert events[0] == "listening" and "forged" not in events
    assert any(r["event"] == "server" and r["logger"].startswith("uvicorn") for r in records), out
    assert any(r.get("path", "").endswith(forged) for r in records)
    code_line = [line for line in err.splitlines() if "sign-in code for dev@example.com" in line]
    assert len(code_line) == 1 and code_line[0].split(": ")[1][:6].isdigit(), err
    assert "DEVELOPMENT MAIL" in err and "Triport console on " + base in err
    assert code_line[0].split(": ")[1][:6] not in out


def test_a_taken_port_fails_in_one_line_without_the_banner(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = serve(f"sqlite:///{tmp_path}/triport.db", port, {}, tmp_path)
        out, err = process.communicate(timeout=60)
    assert process.returncode != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"127.0.0.1:{port}" in lines[0] and "address already in use" in lines[0]
    assert "Triport console on" not in out + err
    assert all(json.loads(line)["event"] != "listening" for line in out.splitlines())
