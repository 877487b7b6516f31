"""Fixtures for the Python SDK tests: a real server on a real database, and a real SMTP sink."""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from triport import AsyncConsoleClient, ConsoleClient

from tests.conftest import require_postgres
from tests.support.harness import (
    ServerProcess,
    SmtpSink,
    create_database,
    drop_database,
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Report failures here in the short style.

    The long style prints every frame's arguments, and an SDK frame's arguments can be a login
    code or a request body holding one.
    """
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed and call.excinfo is not None:
        report.longrepr = item._repr_failure_py(call.excinfo, style="short")


# Each logout attempt under a held write lock fails after this many seconds.
DB_TIMEOUT = "0.5"
# A loaded machine (four test workers on two cores) can take a while to start a server.
SERVER_START_TIMEOUT = 60.0


@dataclass
class Server:
    base_url: str
    database_url: str


def _start_server(store: str, smtp_sink: SmtpSink) -> Iterator[Server]:
    if store == "postgres":
        require_postgres()
    database_url = create_database(store)
    process = ServerProcess(
        database_url, mail_url=smtp_sink.url, env={"TRIPORT_DB_TIMEOUT": DB_TIMEOUT}, workers=1
    )
    try:
        process.start(timeout=SERVER_START_TIMEOUT)
        yield Server(process.base_url, database_url)
    finally:
        process.stop()
        drop_database(database_url)


@pytest.fixture(scope="session")
def sdk_server(smtp_sink: SmtpSink) -> Iterator[Server]:
    """A server on SQLite shared by the SDK tests (each signs in as its own user)."""
    yield from _start_server("sqlite", smtp_sink)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def any_store_server(request: pytest.FixtureRequest, smtp_sink: SmtpSink) -> Iterator[Server]:
    """The same tests once per database."""
    yield from _start_server(request.param, smtp_sink)


@pytest.fixture
def email() -> str:
    """A fresh address per test: the email/start rate limit is per address."""
    return f"sdk-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture
def sign_in(smtp_sink: SmtpSink) -> Callable[[Any, str], None]:
    """Sign ``console`` (either client) in as ``address`` with the code from the SMTP sink."""

    def run(console: Any, address: str) -> None:
        request_id = console.auth.email_start(address).request_id
        console.auth.email_verify(request_id, smtp_sink.wait_for_code(address, timeout=10))

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
        if name in ("auth", "keys", "wallet", "sessions", "activity", "passkeys"):
            return _Blocking(value, self._runner)
        if inspect.iscoroutinefunction(value):
            return lambda *args, **kwargs: self._runner.run(value(*args, **kwargs))
        if inspect.isasyncgenfunction(value):
            return lambda *args, **kwargs: self._drain(value(*args, **kwargs))
        return value

    def _drain(self, items: AsyncIterator[Any]) -> Iterator[Any]:
        """An async iterator, stepped on the client's loop: a plain iterator for the test."""
        while True:
            try:
                yield self._runner.run(anext(items))  # type: ignore[arg-type]
            except StopAsyncIteration:
                return


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
