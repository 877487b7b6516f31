"""Fixtures: every HTTP suite runs on SQLite and on PostgreSQL, against real server processes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.harness import (
    ServerProcess,
    SmtpSink,
    create_database,
    drop_database,
    postgres_available,
    sign_in,
)

IN_CI = os.environ.get("CI", "").lower() == "true"
STORES = ["sqlite", "postgres"]


def require_postgres() -> None:
    if not postgres_available():
        if IN_CI:
            pytest.fail("PostgreSQL is required in CI but is not reachable on 127.0.0.1:5432")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session", params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        require_postgres()
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(store: str) -> Iterator[str]:
    url = create_database(store)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def server(database_url: str, smtp_sink: SmtpSink) -> Iterator[ServerProcess]:
    """One shared server per store with the default configuration."""
    with ServerProcess(database_url, mail_url=smtp_sink.url) as process:
        yield process


@pytest.fixture
def make_server(database_url: str, smtp_sink: SmtpSink) -> Iterator[Callable[..., ServerProcess]]:
    """Extra servers (other settings, a second process) on the same database."""
    started: list[ServerProcess] = []

    def make(env: dict[str, str] | None = None, **options: object) -> ServerProcess:
        process = ServerProcess(database_url, mail_url=smtp_sink.url, env=env, **options)  # type: ignore[arg-type]
        started.append(process.start())
        return process

    yield make
    for process in started:
        process.stop()


@pytest.fixture
def new_session(smtp_sink: SmtpSink) -> Iterator[Callable[..., httpx.Client]]:
    """Sign in through the real SMTP sink; `new_session(server)` returns a client with cookies."""
    clients: list[httpx.Client] = []

    def make(target: ServerProcess, address: str | None = None) -> httpx.Client:
        client = sign_in(target.base_url, smtp_sink, address)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
