"""`ApiKeyService.authenticate_key`, the RPC data plane's check, on both stores.

Keys are made through the real server's HTTP API; the check runs through the public core API
(`open_store` + `ApiKeyService`) against the same database, as the data plane would.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest

from tests.support.harness import ServerProcess, write_lock
from triport_console.models import ApiKey, User
from triport_console.services.api_keys import ApiKeyService
from triport_console.store import Store, open_store

T = TypeVar("T")


class Core:
    """The core opened directly on the test database, driven from synchronous tests."""

    def __init__(self, database_url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self.store: Store = open_store(database_url, 2.0)
        self._loop.run_until_complete(self.store.open())
        self.keys = ApiKeyService(self.store)

    def run(self, awaitable: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(awaitable)

    def authenticate(
        self, secret: str | None, now: datetime | None = None
    ) -> tuple[ApiKey, User] | None:
        return self.run(self.keys.authenticate_key(secret, now))

    def close(self) -> None:
        self._loop.run_until_complete(self.store.close())
        self._loop.close()


@pytest.fixture
def core(database_url: str, server: ServerProcess) -> Iterator[Core]:
    """Opened after the server, so the server's migrations are in place."""
    opened = Core(database_url)
    yield opened
    opened.close()


def send(client: httpx.Client, method: str, path: str, **options: Any) -> httpx.Response:
    response = client.request(
        method, path, headers={"X-CSRF-Token": client.cookies["nl_csrf"]}, **options
    )
    assert response.status_code == 200, response.text
    return response


def new_key(client: httpx.Client, **body: Any) -> tuple[str, dict[str, Any]]:
    created = send(client, "POST", "/v1/keys", json={"name": "rpc", **body}).json()
    return created["raw"], created["key"]


def listed(client: httpx.Client, key_id: str) -> dict[str, Any]:
    return next(key for key in client.get("/v1/keys").json()["keys"] if key["id"] == key_id)


def test_an_active_key_authenticates_to_itself_and_its_owner(core, server, new_session):
    address = f"rpc-{secrets.token_hex(4)}@example.com"
    client = new_session(server, address)
    raw, key = new_key(client, scopes=["eth:rpc", "op:rpc"], rate_limit=40)
    found = core.authenticate(raw)
    assert found is not None
    api_key, user = found
    assert (api_key.id, api_key.name, api_key.status) == (key["id"], "rpc", "active")
    assert (api_key.scopes, api_key.rate_limit) == (("eth:rpc", "op:rpc"), 40)
    assert user.email == address
    assert user.id == api_key.user_id


def test_malformed_and_unknown_secrets_authenticate_nothing(core, server, new_session) -> None:
    raw, _ = new_key(new_session(server))
    for secret in [
        "",
        raw[:-1],
        raw + "0",
        raw.upper(),
        "nl_live_" + raw[8:].upper(),
        "nl_test_" + raw[8:],
        " " + raw,
        raw + "\n",
        raw[8:],
        "nl_live_" + secrets.token_hex(32),  # well-formed, never issued
    ]:
        assert core.authenticate(secret) is None, repr(secret[:12])
    assert core.authenticate(raw) is not None


def test_a_revoked_key_stops_authenticating(core, server, new_session) -> None:
    client = new_session(server)
    raw, key = new_key(client)
    assert core.authenticate(raw) is not None
    send(client, "DELETE", f"/v1/keys/{key['id']}")
    assert core.authenticate(raw) is None


@pytest.mark.parametrize("default", [False, True])
def test_rotation_retires_the_old_secret_the_moment_it_returns(core, server, new_session, default):
    client = new_session(server)
    if default:
        me = client.get("/v1/auth/me").json()["default_key"]
        old_raw, old_id = me["raw"], me["id"]
    else:
        old_raw, old_key = new_key(client, scopes=["bsc:rpc"])
        old_id = old_key["id"]
    assert core.authenticate(old_raw) is not None
    rotated = send(client, "POST", f"/v1/keys/{old_id}/rotate").json()
    assert core.authenticate(old_raw) is None
    found = core.authenticate(rotated["raw"])
    assert found is not None
    assert found[0].id == rotated["new"]["id"]
    assert found[0].is_default is default


def test_last_used_at_is_written_at_most_once_a_minute(core, server, new_session) -> None:
    client = new_session(server)
    raw, key = new_key(client)
    assert listed(client, key["id"])["last_used_at"] is None
    first = datetime.now(UTC).replace(microsecond=0)

    used = core.authenticate(raw, first)
    assert used is not None and used[0].last_used_at == first
    assert listed(client, key["id"])["last_used_at"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")

    for later in (first + timedelta(seconds=1), first + timedelta(seconds=59)):
        again = core.authenticate(raw, later)
        assert again is not None and again[0].last_used_at == first

    minute_on = first + timedelta(seconds=61)
    touched = core.authenticate(raw, minute_on)
    assert touched is not None and touched[0].last_used_at == minute_on
    assert listed(client, key["id"])["last_used_at"] == minute_on.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_recently_used_key_authenticates_without_a_write(core, server, database_url, new_session):
    """Under a held write lock, a key used within the minute answers at read speed: no write."""
    raw, _ = new_key(new_session(server))
    assert core.authenticate(raw) is not None
    with write_lock(database_url):
        started = time.monotonic()
        for _ in range(20):
            assert core.authenticate(raw) is not None
        assert time.monotonic() - started < 1.0  # one attempted write would wait 2 s


def test_a_database_refusing_writes_still_authenticates_keys(
    core, server, database_url, new_session
):
    """Recording the use is best effort: a key is not refused because last_used_at can't be set."""
    client = new_session(server)
    raw, key = new_key(client)
    with write_lock(database_url):
        started = time.monotonic()
        found = core.authenticate(raw)
        waited = time.monotonic() - started
    assert found is not None and found[0].last_used_at is None
    assert 1.5 < waited < 10  # it did try to record the use, and gave up after the timeout
    assert listed(client, key["id"])["last_used_at"] is None


def test_the_touch_itself_is_conditioned_so_racing_checks_write_once(core, server, new_session):
    """Two data-plane checks that both read a stale key both try to touch it; one write wins."""
    raw, key = new_key(new_session(server))
    now = datetime.now(UTC)
    stale_before = now - timedelta(minutes=1)
    touch = core.store.touch_key
    assert core.run(touch(key["id"], now, stale_before)) is True
    assert core.run(touch(key["id"], now + timedelta(seconds=1), stale_before)) is False
    found = core.authenticate(raw, now + timedelta(seconds=2))
    assert found is not None and found[0].last_used_at == now


def test_a_missing_secret_authenticates_nothing_without_raising(core, server) -> None:
    """Issue 12: a data-plane request without the key header hands in None; that is no key,
    not a TypeError (which would surface there as a 500)."""
    assert core.authenticate(None) is None
