"""Session pools for the wrk script: who reads, who gets logged out, split per wrk thread.

Shared by our seeder and the Django peer's seeder so that both targets are driven from files of
the same shape: `read.<t>.txt` (sessions that /me uses again and again, never revoked) and
`revoke.<t>.txt` (sessions each logout uses once), lines "TOKEN CSRF", one file per wrk thread so
no two threads ever send the same session.
"""

from collections.abc import Sequence
from pathlib import Path

MAX_READ_POOL = 10_000


def read_pool_size(sessions: int) -> int:
    """A tenth of the sessions (at most 10 000) are read; the rest are there to be revoked."""
    return max(1, min(MAX_READ_POOL, sessions // 10))


def write_pools(directory: Path, rows: Sequence[tuple[str, str]], threads: int) -> None:
    """Write the pools for `threads` wrk threads; `rows` are (session token, CSRF token) pairs."""
    directory.mkdir(parents=True, exist_ok=True)
    reads = read_pool_size(len(rows))
    for thread in range(threads):
        for name, part in (("read", rows[:reads]), ("revoke", rows[reads:])):
            lines = [f"{token} {csrf}\n" for token, csrf in part[thread::threads]]
            (directory / f"{name}.{thread}.txt").write_text("".join(lines))
