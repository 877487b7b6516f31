"""A private PostgreSQL cluster in a temporary directory, to stop and start at will.

The shared server on 5432 must never be stopped, so outage tests start their own: `initdb` into a
temp dir, `pg_ctl start` on a free loopback port with the socket in that dir. PostgreSQL refuses
to run as root, so as root the cluster runs as the `postgres` system user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.harness import free_port

_BIN_CANDIDATES = ("/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin")


def _tool(name: str) -> str:
    for folder in _BIN_CANDIDATES:
        path = Path(folder) / name
        if path.exists():
            return str(path)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found; install the PostgreSQL server package")
    return found


class ThrowawayPostgres:
    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="triport-pg-"))
        self.data = self.folder / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*self._as_user, *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )

    def init(self) -> ThrowawayPostgres:
        self._run(_tool("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-N")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "server.log")
        self._run(_tool("pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as in an outage."""
        self._run(_tool("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
