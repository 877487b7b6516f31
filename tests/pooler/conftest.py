"""The pooler suite: the service through PgBouncer in transaction mode (TRIPORT_DB_POOLER).

Overrides the store fixtures of tests/conftest.py for this folder: `store` has the one variant
`pgbouncer`; `database_url` is a fresh PostgreSQL database, migrated over a direct connection
(as an operator must) and given to tests for looking at rows directly; every server reaches that
database only through one PgBouncer (transaction mode, a server pool of 4) with
TRIPORT_DB_POOLER=transaction. `server` is one of two server processes of two workers each that
run side by side on that pool; `peer_server` is the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.cli.test_cli import cli
from tests.conftest import IN_CI, require_postgres
from tests.faults.test_postgres_outage import postgres_database  # noqa: F401 - an empty database
from tests.support import pgbouncer as pgbouncer_support
from tests.support.harness import (
    ADMIN_DSN,
    ServerProcess,
    SmtpSink,
    create_database,
    drop_database,
)
from tests.support.pgbouncer import PgBouncer

STARTUP = 60.0  # seconds a pooled server of two workers may take to become healthy


def require_pgbouncer() -> None:
    require_postgres()
    if not pgbouncer_support.available():
        if IN_CI:
            pytest.fail("PgBouncer is required in CI (./scripts/test installs Debian's package)")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")


def migrate_directly(database_url: str) -> None:
    done = cli("migrate", env={"TRIPORT_DATABASE_URL": database_url})
    assert done.returncode == 0, done.stderr


def pooled_env(bouncer: PgBouncer, database_url: str) -> dict[str, str]:
    return {
        "TRIPORT_DATABASE_URL": bouncer.url(database_url.rsplit("/", 1)[1]),
        "TRIPORT_DB_POOLER": "transaction",
    }


@pytest.fixture(scope="session")
def bouncer() -> Iterator[PgBouncer]:
    require_pgbouncer()
    with PgBouncer(ADMIN_DSN, pool_size=4) as running:
        yield running


@pytest.fixture(scope="session", params=["pgbouncer"])
def store(request: pytest.FixtureRequest) -> str:
    require_pgbouncer()
    return "postgres"


@pytest.fixture(scope="session")
def database_url(store: str) -> Iterator[str]:
    url = create_database("postgres")
    migrate_directly(url)
    yield url
    drop_database(url)


def _pooled(
    bouncer: PgBouncer,
    database_url: str,
    smtp_sink: SmtpSink,
    env: dict[str, str] | None = None,
    workers: int = 2,
) -> ServerProcess:
    return ServerProcess(
        database_url,
        mail_url=smtp_sink.url,
        env={**pooled_env(bouncer, database_url), **(env or {})},
        workers=workers,
    )


@pytest.fixture(scope="session")
def server_pair(
    bouncer: PgBouncer, database_url: str, smtp_sink: SmtpSink
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    # Four workers start at once here: allow a loaded machine more than the usual 20 s.
    one = _pooled(bouncer, database_url, smtp_sink).start(timeout=STARTUP)
    try:
        two = _pooled(bouncer, database_url, smtp_sink).start(timeout=STARTUP)
        try:
            yield one, two
        finally:
            two.stop()
    finally:
        one.stop()


@pytest.fixture(scope="session")
def server(server_pair: tuple[ServerProcess, ServerProcess]) -> ServerProcess:
    return server_pair[0]


@pytest.fixture(scope="session")
def peer_server(server_pair: tuple[ServerProcess, ServerProcess]) -> ServerProcess:
    return server_pair[1]


@pytest.fixture
def make_server(
    bouncer: PgBouncer, database_url: str, smtp_sink: SmtpSink
) -> Iterator[Callable[..., ServerProcess]]:
    """Extra pooled servers on the same database and PgBouncer."""
    started: list[ServerProcess] = []

    def make(env: dict[str, str] | None = None, workers: int = 1) -> ServerProcess:
        process = _pooled(bouncer, database_url, smtp_sink, env, workers)
        started.append(process.start(timeout=STARTUP))
        return process

    yield make
    for process in started:
        process.stop()
