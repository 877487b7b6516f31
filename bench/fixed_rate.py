"""An open-loop, rate-limited HTTP/1.1 client: latency at a fixed offered load.

    python bench/fixed_rate.py URL MODE POOL_DIR RATE DURATION CONNECTIONS TIMEOUT \\
        ME_PATH LOGOUT_PATH SESSION_COOKIE CSRF_COOKIE CSRF_HEADER ORIGIN

MODE is `me` or `logout`; POOL_DIR and the last six arguments are workload.lua's (see
`Api.wrk_args`): /me cycles over every read.<t>.txt session, each logout takes the next unused
session of the revoke.<t>.txt files. Request i is due at start + i / RATE whatever happened to the
earlier ones (open loop): due requests go to the first idle one of CONNECTIONS keep-alive
connections, or wait for one, and that wait is counted. A request sent more than LATE_MS after it
was due is `late`; latency is taken from the send (`latency_us`, as wrk and hey take it) and from
the moment it was due (`due_latency_us`, which includes any lateness: coordinated omission shows
there). Every 200 body is classified as workload.lua classifies it. Prints one BENCH_RESULT line of
workload.lua's shape, plus `offered_rps`, `late`, `late_max_us` and `due_latency_us`.

hey cannot do the logout workload: it sends one fixed request, so every logout after the first
would name a session already revoked. Hence this client, used for /me as well so that both
workloads' latencies are taken the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from itertools import cycle
from pathlib import Path
from time import perf_counter
from typing import Any
from urllib.parse import urlsplit

from loadgen import MARKER, Api, body_class

# The event loop's timers (and uvloop's loop.time()) tick in whole milliseconds, so requests
# are sent in batches up to 1 ms after they were due; times are taken with perf_counter.
LATE_MS = 2.0
TICK_S = 0.001  # never sleep less: a shorter sleep spins on a 0 ms timer


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    classes: Counter[str] = field(default_factory=Counter)
    socket_errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # seconds, from the send
    due_latencies: list[float] = field(default_factory=list)  # seconds, from the due time
    late: int = 0
    late_max: float = 0.0
    bytes: int = 0


def requests(mode: str, pools: Path, api: Api, host: str) -> tuple[list[bytes], list[int]]:
    """The requests in the order they will be sent (a logout pool's requests once each), and a
    one-element counter of how often the logout pool wrapped around."""
    name = "read" if mode == "me" else "revoke"
    built = []
    for path in sorted(pools.glob(f"{name}.*.txt")):
        for line in path.read_text().splitlines():
            token, csrf = line.split(" ")
            headers = api.session_headers(token, csrf)
            if mode == "me":
                start = f"GET {api.me_path} HTTP/1.1\r\nHost: {host}\r\n"
            else:
                start = f"POST {api.logout_path} HTTP/1.1\r\nHost: {host}\r\n"
                if api.origin:
                    headers["Origin"] = f"http://{host}"
                headers["Content-Length"] = "0"
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            built.append(f"{start}{head}\r\n".encode())
    return built, [0]


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body and whether the server closes the connection after it."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    marker = lower.find(b"\r\ncontent-length:")
    if marker < 0:
        raise ValueError("a response without Content-Length")
    end = lower.index(b"\r\n", marker + 2)
    body = await reader.readexactly(int(lower[marker + 17 : end]))
    return status, body, b"\r\nconnection: close" in lower


async def connection(
    host: str, port: int, queue: asyncio.Queue[tuple[float, bytes] | None], tally: Tally
) -> None:
    """One keep-alive connection: takes the next due request, sends it, reads the answer."""
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while (item := await queue.get()) is not None:
        due, request = item
        try:
            if writer is None or reader is None:
                try:
                    reader, writer = await asyncio.open_connection(host, port)
                except OSError:
                    tally.socket_errors["connect"] += 1
                    continue
            sent = perf_counter()
            lateness = sent - due
            if lateness * 1000 > LATE_MS:
                tally.late += 1
            tally.late_max = max(tally.late_max, lateness)
            writer.write(request)
            try:
                status, body, close = await read_response(reader)
            except (OSError, ValueError, asyncio.IncompleteReadError):
                tally.socket_errors["read"] += 1
                close = True
            else:
                done = perf_counter()
                tally.latencies.append(done - sent)
                tally.due_latencies.append(done - due)
                tally.statuses[status] += 1
                tally.bytes += len(body)
                if status == 200:
                    tally.classes[body_class(body)] += 1
            if close:
                writer.close()
                reader = writer = None
        finally:
            queue.task_done()
    if writer is not None:
        writer.close()


def percentiles_us(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"p50": 0, "p90": 0, "p99": 0, "max": 0, "mean": 0.0}
    ordered = sorted(values)

    def at(share: float) -> int:
        return round(1e6 * ordered[min(len(ordered) - 1, int(share * len(ordered)))])

    return {
        "p50": at(0.50),
        "p90": at(0.90),
        "p99": at(0.99),
        "max": round(1e6 * ordered[-1]),
        "mean": round(1e6 * sum(ordered) / len(ordered), 1),
    }


async def drive(
    url: str, mode: str, pools: Path, api: Api, rate: float, duration: int, conns: int, timeout: int
) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    built, wrapped = requests(mode, pools, api, f"{host}:{port}")
    if not built:
        raise SystemExit(f"no sessions in {pools}")
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    tally = Tally()
    workers = [asyncio.create_task(connection(host, port, queue, tally)) for _ in range(conns)]
    total = max(1, round(rate * duration))
    source = cycle(built) if mode == "me" else iter(built)
    start = perf_counter() + 0.05
    for number in range(total):
        due = start + number / rate
        if due > perf_counter():
            await asyncio.sleep(max(TICK_S, due - perf_counter()))
        request = next(source, None)
        if request is None:  # every logout session was used: wrap, and say so
            wrapped[0] += 1
            source = iter(built)
            request = next(source)
        queue.put_nowait((due, request))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(queue.join(), timeout)
    # Still queued, or sent and never answered, `timeout` seconds after the last was due.
    answered = sum(tally.statuses.values()) + sum(tally.socket_errors.values())
    tally.socket_errors["timeout"] += total - answered
    elapsed = perf_counter() - start
    for worker in workers:
        worker.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return {
        "duration_us": round(1e6 * elapsed),
        "requests": total,
        "bytes": tally.bytes,
        "socket_errors": {
            k: tally.socket_errors[k] for k in ("connect", "read", "write", "timeout")
        },
        "non_2xx_3xx": sum(v for k, v in tally.statuses.items() if not 200 <= k < 400),
        "latency_us": percentiles_us(tally.latencies),
        "statuses": {str(k): v for k, v in tally.statuses.items()},
        "classes": {k: tally.classes[k] for k in ("user", "ok", "start", "other")},
        "issued": {"me": total if mode == "me" else 0, "logout": total if mode != "me" else 0},
        "exhausted": wrapped[0],
        "offered_rps": rate,
        "late": tally.late,
        "late_max_us": round(1e6 * tally.late_max),
        "due_latency_us": percentiles_us(tally.due_latencies),
    }


def main(argv: list[str]) -> None:
    url, mode, pools, rate, duration, conns, timeout, *api_args = argv
    if mode not in ("me", "logout"):
        raise SystemExit(f"unknown mode {mode!r}")
    try:
        import uvloop
    except ImportError:  # the project's venv has it (uvicorn's loop); plain asyncio otherwise
        run = asyncio.run
    else:
        run = uvloop.run
    result = run(
        drive(
            url,
            mode,
            Path(pools),
            Api.from_args(api_args),
            float(rate),
            int(duration),
            int(conns),
            int(timeout),
        )
    )
    print(MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
