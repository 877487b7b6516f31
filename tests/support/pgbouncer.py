"""Debian's PgBouncer as a plain process, in transaction mode, in front of a PostgreSQL server.

Used by the pooler suite (tests/pooler) and the benchmark's pooled row. Each instance has its own
directory (ini, userlist, log), a free loopback port and a generated password: clients log in to
PgBouncer with SCRAM-SHA-256, and PgBouncer reaches the (trust-auth) test PostgreSQL as the same
user. `stop()` and `start()` again keep the port, for the outage tests.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def available() -> bool:
    return os.access(BINARY, os.X_OK)


class PgBouncer:
    def __init__(
        self,
        upstream: str,
        *,
        pool_size: int = 4,
        ignore_startup_parameters: str = "",
    ) -> None:
        """`upstream`: a URL of the PostgreSQL server (its host, port and user are used)."""
        parts = urlsplit(upstream)
        self.user = parts.username or "postgres"
        self.password = secrets.token_urlsafe(18)
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="triport-pgbouncer-"))
        self.log_path = self.root / "pgbouncer.log"
        self.process: subprocess.Popen[bytes] | None = None
        (self.root / "userlist.txt").write_text(f'"{self.user}" "{self.password}"\n')
        lines = [
            "[databases]",
            f"* = host={parts.hostname or '127.0.0.1'} port={parts.port or 5432}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "auth_type = scram-sha-256",
            f"auth_file = {self.root / 'userlist.txt'}",
            "pool_mode = transaction",
            f"default_pool_size = {pool_size}",
            "max_client_conn = 500",
            f"logfile = {self.log_path}",
            "server_login_retry = 1",
        ]
        if ignore_startup_parameters:
            lines.append(f"ignore_startup_parameters = {ignore_startup_parameters}")
        if os.geteuid() == 0:  # PgBouncer refuses to run as root; it drops to this user
            lines.append("user = postgres")
            shutil.chown(self.root, "postgres", "postgres")
            for path in self.root.iterdir():
                shutil.chown(path, "postgres", "postgres")
        self.ini = self.root / "pgbouncer.ini"
        self.ini.write_text("\n".join(lines) + "\n")

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 10.0) -> PgBouncer:
        self.process = subprocess.Popen(
            [BINARY, str(self.ini)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited early:\n{self.log_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pgbouncer did not listen:\n{self.log_text()}")

    def stop(self) -> None:
        """Immediate shutdown (SIGTERM): every client and server connection is dropped."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> PgBouncer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.destroy()
