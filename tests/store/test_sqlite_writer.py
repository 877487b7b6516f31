"""The SQLite group-commit writer survives any failure of one operation (issue 12, finding 6).

Injection: these tests drive `GroupCommitWriter`, the public class the SQLite store writes
through, on a real database file with its real thread, and queue operations of their own beside
ordinary writes. No store method can be made to raise a TypeError from outside (every input is
validated before it reaches SQL), so a bug is simulated the only honest way: an operation that
raises. Before the fix, such an operation killed the thread and every later write hung forever.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from triport_console.errors import StoreUnavailable
from triport_console.store.sqlite import GroupCommitWriter, connect


def run(
    scenario: Callable[[GroupCommitWriter, str], Awaitable[None]], timeout: float = 2.0
) -> None:
    path = str(Path(tempfile.mkdtemp(prefix="triport-writer-")) / "w.db")
    setup = connect(path, timeout)
    setup.execute("CREATE TABLE t (v INTEGER NOT NULL)")
    setup.close()

    async def main() -> None:
        writer = GroupCommitWriter(path, timeout)
        writer.start(asyncio.get_running_loop())
        try:
            await asyncio.wait_for(scenario(writer, path), 30)
        finally:
            writer.stop()

    asyncio.run(main())


def insert(value: int) -> Callable[[sqlite3.Connection], int]:
    def operation(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO t (v) VALUES (?)", (value,))
        return value

    return operation


def buggy(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO t (v) VALUES (666)")
    raise TypeError("a bug in one operation")


def values(path: str) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        return sorted(row[0] for row in conn.execute("SELECT v FROM t"))
    finally:
        conn.close()


@pytest.mark.parametrize("error", [TypeError, KeyError, AttributeError, RuntimeError])
def test_one_failing_operation_fails_alone_and_the_writer_lives_on(error: type[Exception]) -> None:
    def failing(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO t (v) VALUES (666)")
        raise error("a bug")

    async def scenario(writer: GroupCommitWriter, path: str) -> None:
        # Queued together, so they share one batch (one transaction) with the failing one.
        results = await asyncio.gather(
            writer.run(insert(1)),
            writer.run(failing),
            writer.run(insert(2)),
            return_exceptions=True,
        )
        assert results[0] == 1 and results[2] == 2
        assert isinstance(results[1], StoreUnavailable)
        assert await writer.run(insert(3)) == 3  # later writes still succeed
        assert values(path) == [1, 2, 3]  # the failing operation's own write was rolled back

    run(scenario)


def test_a_stuck_writer_fails_the_caller_within_a_deadline() -> None:
    """No caller waits on the writer without a deadline: here one operation blocks the thread
    past 2 x TRIPORT_DB_TIMEOUT + 1 s; the callers get StoreUnavailable, and once the thread is
    free again the writer serves new writes."""

    def stuck(conn: sqlite3.Connection) -> None:
        time.sleep(2.5)

    async def scenario(writer: GroupCommitWriter, path: str) -> None:
        started = time.monotonic()
        outcomes = await asyncio.gather(
            writer.run(stuck), writer.run(insert(1)), return_exceptions=True
        )
        waited = time.monotonic() - started
        assert isinstance(outcomes[0], StoreUnavailable)
        assert 2.0 <= waited < 2.4
        await asyncio.sleep(0.5)
        assert await writer.run(insert(2)) == 2
        assert 2 in values(path)

    run(scenario, timeout=0.5)


def test_buggy_operation_alone_is_a_store_failure() -> None:
    async def scenario(writer: GroupCommitWriter, path: str) -> None:
        with pytest.raises(StoreUnavailable):
            await writer.run(buggy)
        assert await writer.run(insert(7)) == 7
        assert values(path) == [7]

    run(scenario)
