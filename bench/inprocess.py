"""Ours without sockets: the ASGI app called directly, to see what the app itself costs.

    python bench/inprocess.py [--store sqlite] [--workload me|logout] [--requests 20000]
                              [--sessions 20000] [--concurrency 32] [--profile cprofile|none]

Seeds and migrates exactly as run.py does, starts the app's lifespan in this process, then sends
uvicorn-shaped scopes straight to it from `--concurrency` tasks, with the wrk script's cookies
and headers. Prints the process CPU time per request (both threads: the event loop and SQLite's
writer) and, with `--profile cprofile`, the functions with the most own time. Every answer must
be a 200, or the run fails: a fast stream of 401s measures nothing.

Under `valgrind --tool=callgrind` (with `--profile none`) it counts instructions, which repeat
to a percent or so on a machine shared with other work, unlike timings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sys
import time
from pathlib import Path
from typing import Any

# bench/profile.py shadows the standard library's `profile`, which cProfile imports.
_BENCH = sys.path.pop(0)
import cProfile  # noqa: E402
import pstats  # noqa: E402

sys.path.insert(0, _BENCH)

import run  # noqa: E402
from seeding import create_database, drop_database, migrate, seed  # noqa: E402


def scope(method: str, path: str, token: str, csrf: str) -> dict[str, Any]:
    """What uvicorn's httptools protocol hands the app for one wrk request."""
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"cookie", f"nl_session={token}; nl_csrf={csrf}".encode()),
        (b"x-csrf-token", csrf.encode()),
    ]
    if method == "POST":
        headers.append((b"content-length", b"0"))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 40000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "state": {},
    }


async def drive(app: Any, scopes: list[dict[str, Any]], concurrency: int) -> list[int]:
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def worker(part: list[dict[str, Any]]) -> None:
        for one in part:
            await app(one, receive, send)

    await asyncio.gather(*[worker(scopes[i::concurrency]) for i in range(concurrency)])
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workload", choices=["me", "logout"], default="me")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile", choices=["cprofile", "none"], default="none")
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    workdir = run.BENCH / "results" / f"inprocess-work-{secrets.token_hex(3)}"
    workdir.mkdir(parents=True)
    db = create_database(args.store, workdir)
    try:
        env = run.ours_env(db) | {"TRIPORT_PUBLIC_URL": "http://127.0.0.1:8000"}
        migrate(db, Path(sys.executable).parent / "triport-console", env)
        seed(db, args.sessions, workdir / "pools", 1)
        pool = "read" if args.workload == "me" else "revoke"
        pairs = [
            line.split(" ")
            for line in (workdir / "pools" / f"{pool}.0.txt").read_text().splitlines()
        ]
        if args.workload == "logout" and len(pairs) < args.requests:
            sys.exit(f"only {len(pairs)} sessions to revoke: raise --sessions")
        method, path = (
            ("GET", "/v1/auth/me")
            if args.workload == "me"
            else (
                "POST",
                "/v1/auth/logout",
            )
        )
        scopes = [scope(method, path, *pairs[i % len(pairs)]) for i in range(args.requests)]
        os.environ.update(env)
        asyncio.run(measure(args, scopes, workdir))
    finally:
        drop_database(db)
        shutil.rmtree(workdir, ignore_errors=True)


async def measure(args: argparse.Namespace, scopes: list[dict[str, Any]], workdir: Path) -> None:
    from triport_console.http.app import create_app
    from triport_console.logs import JsonLog

    app = create_app()
    # The request log goes where the benchmark's goes (a file), not to this terminal.
    log_fd = os.open(workdir / "ours.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    app.log = JsonLog(app.settings.log_level, log_fd)
    await app.startup()
    try:
        warm = len(scopes) // 10 if args.workload == "me" else 0
        await drive(app, scopes[:warm], args.concurrency)
        measured = scopes[warm:]
        profiler = cProfile.Profile() if args.profile == "cprofile" else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        statuses = await drive(app, measured, args.concurrency)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await app.shutdown()
        os.close(log_fd)
    bad = len([status for status in statuses if status != 200])
    if bad:
        sys.exit(f"{bad} of {len(statuses)} answers were not 200")
    n = len(measured)
    print(
        f"{args.workload} on {args.store}: {n} requests, {1e6 * cpu / n:.1f} µs CPU and "
        f"{1e6 * wall / n:.1f} µs wall per request"
    )
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
