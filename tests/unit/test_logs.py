"""The JSON log's writes: while bound to a loop (`write_per_turn`, as the app is while serving),
the lines of one event-loop turn go out together, each write whole lines of at most PIPE_BUF
bytes, in order; other threads' lines, and an unbound log's, go out at once.

A SOCK_SEQPACKET socket pair keeps each `os.write` as one message, so the test sees the writes
themselves, not just the bytes.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import threading
from collections.abc import Iterator

import pytest

from triport_console.logs import JsonLog


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    right.setblocking(False)
    with left, right:
        yield left, right


def writes(sock: socket.socket) -> list[bytes]:
    found = []
    while True:
        try:
            found.append(sock.recv(1 << 16))
        except BlockingIOError:
            return found


def log_burst(log: JsonLog, count: int) -> None:
    for number in range(count):
        log.request(f"req_{number:04d}", "GET", "/v1/auth/me", 200, 0.5, "127.0.0.1")


def test_one_turns_lines_are_written_at_its_end_whole_and_in_order(pair):
    writer, reader = pair
    log = JsonLog("info", writer.fileno())

    async def turn() -> tuple[list[bytes], list[bytes]]:
        log.write_per_turn(asyncio.get_running_loop())
        log_burst(log, 60)
        during = writes(reader)  # nothing yet: the turn has not ended
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return during, writes(reader)

    during, after = asyncio.run(turn())
    line_size = max(len(line) + 1 for line in b"".join(during + after).splitlines())
    # During the turn only full buffers went out; the rest waited for the turn's end.
    assert all(len(chunk) > select.PIPE_BUF - line_size for chunk in during)
    assert after and len(during) + len(after) < 60
    assert all(len(chunk) <= select.PIPE_BUF and chunk.endswith(b"\n") for chunk in during + after)
    lines = b"".join(during + after).splitlines()
    assert [json.loads(line)["request_id"] for line in lines] == [
        f"req_{number:04d}" for number in range(60)
    ]


def test_lines_from_another_thread_or_an_unbound_log_are_written_at_once(pair):
    writer, reader = pair
    batched = JsonLog("info", writer.fileno())
    plain = JsonLog("info", writer.fileno())

    async def main() -> list[bytes]:
        batched.write_per_turn(asyncio.get_running_loop())
        thread = threading.Thread(target=batched.info, args=("from_thread",))
        thread.start()
        thread.join()
        plain.info("unbatched")
        return writes(reader)

    seen = asyncio.run(main())
    assert [json.loads(chunk)["event"] for chunk in seen] == ["from_thread", "unbatched"]


def test_unbinding_writes_what_is_pending_and_later_lines_at_once(pair):
    writer, reader = pair
    log = JsonLog("info", writer.fileno())

    async def serve() -> None:
        log.write_per_turn(asyncio.get_running_loop())
        log.info("first")
        log.flush()
        assert [json.loads(chunk)["event"] for chunk in writes(reader)] == ["first"]
        log.info("pending_at_shutdown")
        assert writes(reader) == []
        log.write_per_turn(None)  # the app's shutdown
        assert [json.loads(chunk)["event"] for chunk in writes(reader)] == ["pending_at_shutdown"]

    asyncio.run(serve())
    log.info("after")
    assert [json.loads(chunk)["event"] for chunk in writes(reader)] == ["after"]
