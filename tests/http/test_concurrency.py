"""Races: /me during a logout on another process, and concurrent default-key bootstraps."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.harness import run_sql
from tests.support.http import session_headers


def test_no_me_that_starts_after_the_logout_200_succeeds(make_server, new_session):
    reader = make_server(workers=2)
    writer = make_server()
    client = new_session(reader)
    token, csrf = client.cookies["nl_session"], client.cookies["nl_csrf"]
    results: list[tuple[float, int]] = []
    stop = threading.Event()
    lock = threading.Lock()

    def hammer() -> None:
        with httpx.Client(base_url=reader.base_url, headers=session_headers(token)) as http:
            while not stop.is_set():
                started = time.monotonic()
                status = http.get("/v1/auth/me").status_code
                with lock:
                    results.append((started, status))

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(0.7)
    response = httpx.post(
        writer.base_url + "/v1/auth/logout", headers=session_headers(token, csrf, csrf)
    )
    acknowledged = time.monotonic()
    assert response.status_code == 200
    time.sleep(0.7)
    stop.set()
    for thread in threads:
        thread.join()

    before = [status for started, status in results if started < acknowledged]
    after = [status for started, status in results if started >= acknowledged]
    assert 200 in before  # the storm really ran against a live session
    assert after and set(after) == {401}, f"{after.count(200)} /me calls succeeded after logout"


def test_concurrent_first_me_calls_create_one_default_key(server, new_session):
    client = new_session(server)
    token = client.cookies["nl_session"]
    barrier = threading.Barrier(8)

    def first_me(_: int) -> dict:
        barrier.wait()
        return httpx.get(server.base_url + "/v1/auth/me", headers=session_headers(token)).json()

    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(first_me, range(8)))
    keys = {body["default_key"]["id"] for body in bodies}
    assert len(keys) == 1
    with_secret = [body for body in bodies if "raw" in body["default_key"]]
    assert len(with_secret) == 1
    assert with_secret[0]["default_key"]["created"] is True
    user_id = bodies[0]["user"]["id"]
    rows = run_sql(
        server.database_url,
        "SELECT count(*) FROM api_keys WHERE user_id = $1 AND is_default AND status = 'active'",
        user_id,
    )
    assert rows[0][0] == 1
