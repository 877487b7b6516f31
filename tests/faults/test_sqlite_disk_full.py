"""SQLite on a full file system: documented errors, nothing acknowledged is lost, no corruption.

The database lives on a small tmpfs; a filler file takes every free byte. Writes then fail with
SQLITE_FULL, which must surface as `500 logout_failed` (cookie kept) or `500 internal`, never as a
200 for a revoke that did not commit nor as a 401 for a live session. When the space comes back,
the same server process serves again, and `PRAGMA integrity_check` is `ok`.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI
from tests.support.harness import ServerProcess, SmtpSink
from tests.support.secrets_watch import SecretWatch
from tests.support.sessions import logout, me, sign_in_many, sign_in_one

SIZE = "6m"


@pytest.fixture
def small_filesystem() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="triport-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        message = f"cannot mount a tmpfs (needs root): {mounted.stderr.decode().strip()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        folder.rmdir()


def _fill(folder: Path) -> Path:
    """Write zeros until the file system refuses: ENOSPC."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 512):  # big chunks, then small ones to take the last bytes
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


@pytest.mark.slow
def test_disk_full_fails_cleanly_and_recovers(small_filesystem: Path, smtp_sink: SmtpSink) -> None:
    watch = SecretWatch()
    url = f"sqlite:///{small_filesystem}/triport.db"
    server = watch.server(ServerProcess(url, mail_url=smtp_sink.url).start())
    tally: Counter[str] = Counter()
    try:
        sessions = sign_in_many(server.base_url, smtp_sink, 60, threads=4)
        # Empty the WAL first: SQLite reuses a WAL file's bytes from its start, so writes that fit
        # in a WAL grown by the sign-ins would still commit (truly) on a full disk, and the
        # fault would not happen. A TRUNCATE checkpoint from a second connection leaves none.
        with sqlite3.connect(small_filesystem / "triport.db") as conn:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
        filler = _fill(small_filesystem)
        assert os.statvfs(small_filesystem).f_bavail == 0
        with httpx.Client(base_url=server.base_url, timeout=15) as http:
            logged_out = []
            for credentials in sessions:
                response = logout(http, credentials)
                if response.status_code == 200:
                    logged_out.append(credentials)
                    tally["logout 200"] += 1
                    continue
                assert response.status_code == 500
                assert response.json()["error"] == "logout_failed"
                assert "set-cookie" not in response.headers
                tally["logout 500"] += 1
            refused = http.post("/v1/auth/email/start", json={"email": "full@example.com"})
            assert refused.status_code == 500 and refused.json()["error"] == "internal"
            assert tally["logout 500"] > 0, f"the full disk failed nothing: {tally}"

            filler.unlink()  # space comes back; the same process must serve again
            for credentials in sessions:
                if credentials in logged_out:
                    assert me(http, credentials).status_code == 401
                else:  # the failed logout revoked nothing; the client's retry does
                    state = me(http, credentials)
                    assert state.status_code == 200, state.text
                    assert logout(http, credentials).status_code == 200
                    assert me(http, credentials).status_code == 401
            fresh = sign_in_one(server.base_url, smtp_sink)
            assert me(http, fresh).status_code == 200
            watch.token(fresh.token, fresh.csrf)
        assert server.process is not None and server.process.poll() is None
    finally:
        server.stop()
    with sqlite3.connect(small_filesystem / "triport.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        revoked = conn.execute("SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL")
        assert revoked.fetchone()[0] == len(sessions)
    print(f"disk full: {dict(tally)}; integrity_check ok")
    watch.finish(smtp_sink, sessions)
