"""The SQLite database and its -wal/-shm files are created owner-only (issue 12).

They hold session, key and code hashes and every user's email address: no other local user may
read them, whatever the process umask.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from tests.support.harness import ServerProcess


def test_database_files_are_created_0600_under_a_permissive_umask(smtp_sink) -> None:
    folder = Path(tempfile.mkdtemp(prefix="triport-mode-"))
    database = folder / "triport.db"
    previous = os.umask(0o022)
    try:
        with ServerProcess(f"sqlite:///{database}", mail_url=smtp_sink.url):
            files = [folder / name for name in ("triport.db", "triport.db-wal", "triport.db-shm")]
            for path in files:
                assert path.exists(), path
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))
    finally:
        os.umask(previous)
