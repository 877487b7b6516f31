"""Real components for tests: an SMTP sink, a server process, fresh databases, a held write lock.

Used by the pytest suites directly, and by the Node and browser suites through the command line:
`python -m tests.support.harness --store sqlite|postgres [--env K=V ...]` prints one JSON line
(base_url, control_url, database_url, smtp_url) and serves a small control API on loopback
(`GET /code?email=…`, `POST /lock`, `POST /unlock`) until SIGTERM or stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
from aiosmtpd.controller import Controller

from triport_console.config import RATE_LIMIT_VARIABLES

ADMIN_DSN = os.environ.get("TRIPORT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
# One secret per test run: several server processes on one database must agree on it.
TEST_SECRET = secrets.token_urlsafe(48)
# Every suite signs in from 127.0.0.1 many times; the per-client abuse limits are raised out of
# the way here and tested with their real values in tests/abuse/ (a test's env overrides these).
LENIENT_RATE_LIMITS = {variable: "1000000/3600" for variable, _ in RATE_LIMIT_VARIABLES.values()}
_CODE = re.compile(r"\b(\d{6})\b")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback that files each login code by recipient."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.messages: list[email.message.Message] = []
        self.recipients: list[list[str]] = []  # each message's SMTP envelope recipients
        self.reject = False  # answer 554 to every message, to simulate a refusing mail server
        self._codes: dict[str, deque[str]] = defaultdict(deque)
        self._changed = threading.Condition()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reject:
            return "554 5.7.1 Rejected by the test"
        message = email.message_from_bytes(envelope.content)
        body = message.get_payload(decode=True) or b""
        match = _CODE.search(body.decode(errors="replace"))
        with self._changed:
            self.messages.append(message)
            self.recipients.append(list(envelope.rcpt_tos))
            for recipient in envelope.rcpt_tos:
                if match:
                    self._codes[recipient.lower()].append(match.group(1))
            self._changed.notify_all()
        return "250 OK"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def wait_for_code(self, address: str, timeout: float = 10.0) -> str:
        """The next unread code mailed to `address`."""
        queue = self._codes[address.lower()]
        with self._changed:
            if not self._changed.wait_for(lambda: bool(queue), timeout):
                raise TimeoutError(f"no login code mailed to {address} within {timeout}s")
            return queue.popleft()

    def count_for(self, address: str) -> int:
        with self._changed:
            return sum(1 for m in self.messages if m["To"].lower() == address.lower())


def create_database(store: str) -> str:
    """A fresh, empty database; returns its TRIPORT_DATABASE_URL."""
    if store == "sqlite":
        folder = tempfile.mkdtemp(prefix="triport-test-")
        return f"sqlite:///{folder}/triport.db"
    if store != "postgres":
        raise ValueError(store)
    name = "triport_t_" + secrets.token_hex(6)

    async def create() -> None:
        conn = await asyncpg.connect(ADMIN_DSN)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return ADMIN_DSN.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    if url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        for path in folder.glob("*"):
            path.unlink()
        folder.rmdir()
        return
    name = url.rsplit("/", 1)[1]

    async def drop() -> None:
        conn = await asyncpg.connect(ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


def run_sql(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one statement on a test database (to age a row, or to look at what was stored)."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=10)
        try:
            return conn.execute(re.sub(r"\$\d+", "?", sql), params).fetchall()
        finally:
            conn.close()

    async def run() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await conn.fetch(sql, *params)]
        finally:
            await conn.close()

    return asyncio.run(run())


def past(url: str) -> Any:
    """A timestamp long gone, in the form the database at `url` stores."""
    moment = datetime(2000, 1, 1, tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if url.startswith("sqlite") else moment


def age_session(url: str, token: str) -> None:
    """Move a session's expiry into the past, as if its TTL had run out."""
    token_hash = hashlib.sha256(token.encode()).digest()
    run_sql(url, "UPDATE sessions SET expires_at = $1 WHERE token_hash = $2", past(url), token_hash)


def postgres_available() -> bool:
    async def probe() -> None:
        conn = await asyncpg.connect(ADMIN_DSN, timeout=3)
        await conn.close()

    try:
        # On its own thread: a fixture may ask while Playwright's sync API runs a loop here.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, probe()).result()
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    return True


class ServerProcess:
    """`triport-console serve` in a subprocess on a free port, with its log kept in a file."""

    def __init__(
        self,
        database_url: str,
        *,
        mail_url: str = "console:",
        env: dict[str, str] | None = None,
        workers: int = 1,
        port: int | None = None,
    ) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self._log_dir = tempfile.mkdtemp(prefix="triport-log-")
        self.log_path = Path(self._log_dir) / "server.log"
        self.env = {
            **os.environ,
            "TRIPORT_DATABASE_URL": database_url,
            "TRIPORT_MAIL_URL": mail_url,
            "TRIPORT_SECRET_KEY": TEST_SECRET,
            "TRIPORT_PUBLIC_URL": self.base_url,
            **LENIENT_RATE_LIMITS,
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ServerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "triport_console",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self._log_dir,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_text()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not become healthy:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.log_text().splitlines():
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
        return records

    def records_once(
        self, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 10
    ) -> list[dict[str, Any]]:
        """The log's records once `done(records)` holds (bounded: the last records as they are).

        A request's line is written after its answer has gone out (at the end of that event
        loop turn), so a client that has its answer may look before the line is there."""
        return records_once([self], done, timeout)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL the whole process group's server (and its workers)."""
        if self.process and self.process.poll() is None:
            for pid in _children(self.process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def records_once(
    servers: list[ServerProcess], done: Callable[[list[dict[str, Any]]], bool], timeout: float = 10
) -> list[dict[str, Any]]:
    """All `servers`' log records once `done(records)` holds; see `ServerProcess.records_once`."""
    deadline = time.monotonic() + timeout
    while True:
        records = [record for server in servers for record in server.log_records()]
        if done(records) or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = status.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(status.parent.name))
    return found


class _PostgresLock(threading.Thread):
    """Holds EXCLUSIVE locks on the service's tables: reads go on, every write waits."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.ready = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._hold())
        except BaseException as exc:
            self.error = exc
            self.ready.set()

    async def _hold(self) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            async with conn.transaction():
                tables = await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'schema_migrations'"
                )
                names = ", ".join(f'"{row[0]}"' for row in tables)
                await conn.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
                self.ready.set()
                while not self.release.is_set():
                    await asyncio.sleep(0.02)
        finally:
            await conn.close()


@contextlib.contextmanager
def write_lock(url: str) -> Iterator[None]:
    """Another connection holds the database's write lock until the block ends."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=10)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    holder = _PostgresLock(url)
    holder.start()
    holder.ready.wait(10)
    if holder.error is not None:
        raise holder.error
    try:
        yield
    finally:
        holder.release.set()
        holder.join(10)


def sign_in(
    base_url: str, sink: SmtpSink, address: str | None = None, **client: Any
) -> httpx.Client:
    """An httpx client holding a fresh email session (nl_session + nl_csrf cookies)."""
    address = address or f"user-{secrets.token_hex(6)}@example.com"
    http = httpx.Client(base_url=base_url, timeout=15, **client)
    started = http.post("/v1/auth/email/start", json={"email": address})
    started.raise_for_status()
    code = sink.wait_for_code(address)
    verified = http.post(
        "/v1/auth/email/verify", json={"request_id": started.json()["request_id"], "code": code}
    )
    verified.raise_for_status()
    return http


# Command-line form -------------------------------------------------------------------------
class _Control(BaseHTTPRequestHandler):
    sink: SmtpSink
    database_url: str
    lock: contextlib.ExitStack | None = None

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path != "/code" or "email" not in query:
            self._reply(404, {"error": "not_found"})
            return
        try:
            code = self.sink.wait_for_code(
                query["email"][0], float(query.get("timeout", ["10"])[0])
            )
        except TimeoutError:
            self._reply(504, {"error": "no_code"})
            return
        self._reply(200, {"code": code})

    def do_POST(self) -> None:
        cls = type(self)
        if self.path == "/lock" and cls.lock is None:
            stack = contextlib.ExitStack()
            stack.enter_context(write_lock(self.database_url))
            cls.lock = stack
            self._reply(200, {"ok": True})
        elif self.path == "/unlock":
            if cls.lock is not None:
                cls.lock.close()
                cls.lock = None
            self._reply(200, {"ok": True})
        else:
            self._reply(409 if self.path == "/lock" else 404, {"error": "bad_request"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    parser.add_argument("--port", type=int, default=None, help="server port (default: free)")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    sink = SmtpSink().start()
    url = create_database(args.store)
    server = ServerProcess(url, mail_url=sink.url, env=env, port=args.port).start()
    _Control.sink = sink
    _Control.database_url = url
    control = ThreadingHTTPServer(("127.0.0.1", 0), _Control)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    if stat.S_ISFIFO(os.fstat(0).st_mode) or stat.S_ISSOCK(os.fstat(0).st_mode):
        # Started by another program through a pipe: exit when that program goes away.
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    print(
        json.dumps(
            {
                "base_url": server.base_url,
                "control_url": f"http://127.0.0.1:{control.server_address[1]}",
                "database_url": url,
                "smtp_url": sink.url,
            }
        ),
        flush=True,
    )
    try:
        done.wait()
    finally:
        control.shutdown()
        if _Control.lock is not None:
            _Control.lock.close()
        server.stop()
        sink.stop()
        drop_database(url)


if __name__ == "__main__":
    main()
