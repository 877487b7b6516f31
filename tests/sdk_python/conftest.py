"""Fixtures for the Python SDK tests: a real server on a real database, and a real SMTP sink."""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.harness import (
    ServerProcess,
    SmtpSink,
    create_database,
    drop_database,
)
from triport import AsyncConsoleClient, ConsoleClient

# Each logout attempt under a held write lock fails after this many seconds.
DB_TIMEOUT = "0.5"


@dataclass
class Server:
    base_url: str
    database_url: str


@pytest.fixture(scope="session")
def sink() -> Iterator[SmtpSink]:
    smtp = SmtpSink()
    smtp.start()
    yield smtp
    smtp.stop()


def _start_server(store: str, sink: SmtpSink) -> Iterator[Server]:
    database_url = create_database(store)
    process = ServerProcess(
        database_url, mail_url=sink.url, env={"TRIPORT_DB_TIMEOUT": DB_TIMEOUT}, workers=1
    )
    try:
        process.start()
        yield Server(process.base_url, database_url)
    finally:
        process.stop()
        drop_database(database_url)


@pytest.fixture(scope="module")
def server(sink: SmtpSink) -> Iterator[Server]:
    """A server on SQLite, shared by the tests of one module (each uses its own user)."""
    yield from _start_server("sqlite", sink)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def any_store_server(request: pytest.FixtureRequest, sink: SmtpSink) -> Iterator[Server]:
    """The same tests once per database."""
    yield from _start_server(request.param, sink)


@pytest.fixture
def email() -> str:
    """A fresh address per test: the email/start rate limit is per address."""
    return f"sdk-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture
def sign_in(sink: SmtpSink) -> Callable[[Any, str], None]:
    """Sign ``console`` (either client) in as ``address`` with the code from the SMTP sink."""

    def run(console: Any, address: str) -> None:
        request_id = console.auth.email_start(address)
        console.auth.email_verify(request_id, sink.wait_for_code(address, timeout=10))

    return run


@pytest.fixture
def me_status() -> Callable[[str, dict[str, str]], int]:
    """Ask the server directly, without the SDK, whether some cookies still authenticate."""

    def run(base_url: str, cookies: dict[str, str]) -> int:
        header = "; ".join(f"{name}={value}" for name, value in cookies.items())
        return httpx.get(f"{base_url}/v1/auth/me", headers={"Cookie": header}).status_code

    return run


@pytest.fixture
def triport_cli() -> str:
    """The ``triport`` console script installed next to this interpreter."""
    path = Path(sys.executable).parent / "triport"
    assert path.exists(), "the SDK is not installed: pip install -e ./sdk/python"
    return os.fspath(path)


class _Blocking:
    """Drives an ``AsyncConsoleClient`` (or one of its resources) from synchronous test code.

    Every coroutine method is run to completion on the one event loop the client lives on, so the
    same test body exercises both clients' real code paths.
    """

    def __init__(self, target: object, runner: asyncio.Runner) -> None:
        self._target = target
        self._runner = runner

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name in ("auth", "keys"):
            return _Blocking(value, self._runner)
        if inspect.iscoroutinefunction(value):
            return lambda *args, **kwargs: self._runner.run(value(*args, **kwargs))
        return value


@pytest.fixture(params=["sync", "async"])
def make_console(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """``make_console(**kwargs)``: a ConsoleClient, or an AsyncConsoleClient via ``_Blocking``."""
    closers: list[Callable[[], None]] = []

    def make(**kwargs: Any) -> Any:
        if request.param == "sync":
            client = ConsoleClient(**kwargs)
            closers.append(client.close)
            return client
        runner = asyncio.Runner()
        async_client = runner.run(_async_client(kwargs))
        closers.append(runner.close)
        closers.append(lambda: runner.run(async_client.aclose()))
        return _Blocking(async_client, runner)

    yield make
    for close in reversed(closers):
        close()


async def _async_client(kwargs: dict[str, Any]) -> AsyncConsoleClient:
    # Built inside the loop that will drive it.
    return AsyncConsoleClient(**kwargs)
