"""`GET /metrics` (spec §2.13): Prometheus text read with prometheus_client's own parser, one
scrape covering every worker process, and a route that does not exist without the token."""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections import Counter
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.harness import ServerProcess, _children, sign_in, write_lock
from tests.support.http import assert_envelope, session_headers

TOKEN = secrets.token_urlsafe(32)
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def scrape(base_url: str) -> dict[str, dict[frozenset[tuple[str, str]], float]]:
    """Sample name → {labels → value}, parsed by prometheus_client."""
    response = httpx.get(base_url + "/metrics", headers=AUTH, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, dict[frozenset[tuple[str, str]], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get(name, {}).get(frozenset(labels.items()), 0.0)


def fresh_client() -> httpx.Client:
    # No keep-alive: every request opens a new connection, which the kernel hands to either
    # worker, so both of them answer some.
    return httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=10)


def test_one_scrape_adds_up_every_workers_requests(make_server, tmp_path):
    directory = tmp_path / "multiproc"
    env = {"TRIPORT_METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    server = make_server(env, workers=2)
    sent: Counter[tuple[str, str, str]] = Counter()

    def pids() -> set[int]:
        return {int(p.stem.rsplit("_", 1)[1]) for p in directory.glob("counter_*.db")}

    with fresh_client() as http:
        # At least 30 rounds, and more until both workers have answered some (on a loaded
        # machine the kernel can hand the first connections all to one worker).
        rounds = 0
        while rounds < 30 or (len(pids()) < 2 and rounds < 2000):
            rounds += 1
            assert http.get(server.base_url + "/readyz").status_code == 200
            sent["/readyz", "GET", "200"] += 1
            assert http.get(server.base_url + "/v1/auth/me").status_code == 401
            sent["/v1/auth/me", "GET", "401"] += 1
        for path in ("/nowhere", "/v1/keys/x/y/z", "/metrics/../etc"):
            assert http.get(server.base_url + path).status_code == 404
            sent["(unmatched)", "GET", "404"] += 1
        assert http.delete(server.base_url + "/readyz").status_code == 405
        sent["/readyz", "DELETE", "405"] += 1
    # Both workers recorded requests into their own files; the scrape sums them.
    assert len(pids()) >= 2, sorted(directory.iterdir())
    samples = scrape(server.base_url)
    for (route, method, status), count in sent.items():
        got = value(
            samples, "triport_http_requests_total", route=route, method=method, status=status
        )
        assert got == count, (route, method, status, got)
    assert (
        value(samples, "triport_http_request_duration_seconds_count", route="/readyz") == rounds + 1
    )
    assert value(samples, "triport_workers") == 2
    # Raw paths never become labels: only route templates and the one "(unmatched)".
    routes = {dict(labels)["route"] for labels in samples["triport_http_requests_total"]}
    assert routes <= {"/healthz", "/readyz", "/v1/auth/me", "(unmatched)", "/metrics"}


def test_a_restart_starts_from_zero_and_a_killed_worker_is_marked_dead(
    database_url, smtp_sink, tmp_path
):
    directory = tmp_path / "multiproc"
    env = {"TRIPORT_METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    with ServerProcess(database_url, mail_url=smtp_sink.url, env=env, workers=2) as first:
        for _ in range(5):
            assert httpx.get(first.base_url + "/readyz").status_code == 200
    ready = {"route": "/readyz", "method": "GET", "status": "200"}
    with ServerProcess(database_url, mail_url=smtp_sink.url, env=env, workers=2) as server:
        # The previous run's files were removed at start: its five requests are not counted.
        assert value(scrape(server.base_url), "triport_http_requests_total", **ready) == 0
        assert httpx.get(server.base_url + "/readyz").status_code == 200
        assert server.process is not None
        wait_for_workers(server, 2)
        victim = worker_pids(server)[0]
        os.kill(victim, signal.SIGKILL)
        # uvicorn replaces the worker; the dead one's live-gauge file is dropped at the scrape.
        wait_for_workers(server, 2, gone=victim)
        samples = scrape(server.base_url)
        assert value(samples, "triport_workers") == 2
        # Counts stay whichever process recorded them, the dead one included.
        assert value(samples, "triport_http_requests_total", **ready) == 1


def worker_pids(server: ServerProcess) -> list[int]:
    """uvicorn's worker processes (not multiprocessing's resource tracker, also a child)."""
    assert server.process is not None
    found = []
    for pid in _children(server.process.pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended between the listing and this read (the killed worker, reaped)
        if b"resource_tracker" not in command:
            found.append(pid)
    return found


def wait_for_workers(server: ServerProcess, count: int, gone: int | None = None) -> None:
    assert server.process is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        alive = worker_pids(server)
        if gone not in alive:
            try:
                if value(scrape(server.base_url), "triport_workers") == count:
                    return
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"never saw {count} live workers")


def test_logout_outcomes_sign_ins_store_errors_and_commit_batches(make_server, smtp_sink, store):
    server = make_server({"TRIPORT_METRICS_TOKEN": TOKEN, "TRIPORT_DB_TIMEOUT": "0.5"})
    client = sign_in(server.base_url, smtp_sink)
    token, csrf = client.cookies["nl_session"], client.cookies["nl_csrf"]
    base = server.base_url
    # csrf_refused: a wrong header, then a matching pair bound to another session (refused by
    # the revoke itself); failed: the write lock is held; revoked; then nothing_live.
    refused = httpx.post(base + "/v1/auth/logout", headers=session_headers(token, csrf, "x"))
    assert refused.status_code == 403
    unbound = httpx.post(base + "/v1/auth/logout", headers=session_headers(token, "y", "y"))
    assert_envelope(unbound, 403, "csrf_invalid")
    with write_lock(server.database_url):
        failed = httpx.post(base + "/v1/auth/logout", headers=session_headers(token, csrf, csrf))
    assert_envelope(failed, 500, "logout_failed")
    for _ in range(2):
        done = httpx.post(base + "/v1/auth/logout", headers=session_headers(token, csrf, csrf))
        assert done.status_code == 200
    started = httpx.post(base + "/v1/auth/email/start", json={"email": "m@example.com"})
    wrong = httpx.post(
        base + "/v1/auth/email/verify",
        json={"request_id": started.json()["request_id"], "code": "000000"},
    )
    assert_envelope(wrong, 400, "invalid_code")
    samples = scrape(base)
    for outcome in ("revoked", "nothing_live", "failed"):
        assert value(samples, "triport_logouts_total", outcome=outcome) == 1, outcome
    assert value(samples, "triport_logouts_total", outcome="csrf_refused") == 2
    assert value(samples, "triport_sign_ins_total", provider="email", outcome="success") == 1
    assert value(samples, "triport_sign_ins_total", provider="email", outcome="invalid_code") == 1
    assert value(samples, "triport_store_errors_total", store=store) >= 1
    batches = value(samples, "triport_sqlite_commit_batch_size_count")
    assert (batches > 0) if store == "sqlite" else (batches == 0)


def test_without_the_right_token_metrics_is_a_route_that_does_not_exist(make_server):
    server = make_server({"TRIPORT_METRICS_TOKEN": TOKEN})
    unconfigured = make_server()
    nowhere = httpx.get(server.base_url + "/no-such-route")
    tries = [
        httpx.get(server.base_url + "/metrics"),
        httpx.get(server.base_url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}x"}),
        httpx.get(server.base_url + "/metrics", headers={"Authorization": f"Bearer {TOKEN[:-1]}"}),
        httpx.get(server.base_url + "/metrics", headers={"Authorization": f"Basic {TOKEN}"}),
        httpx.get(server.base_url + "/metrics", headers={"Authorization": TOKEN}),
        httpx.post(server.base_url + "/metrics", headers={"Authorization": "Bearer nope"}),
        httpx.delete(server.base_url + "/metrics"),
        httpx.get(unconfigured.base_url + "/metrics", headers=AUTH),
        httpx.post(unconfigured.base_url + "/metrics", headers=AUTH),
    ]
    for response in tries:
        assert_envelope(response, 404, "route_not_found")
        assert response.json()["message"] == nowhere.json()["message"]
        assert sorted(k for k in response.headers if k not in {"date", "x-request-id"}) == sorted(
            k for k in nowhere.headers if k not in {"date", "x-request-id"}
        )
    assert httpx.get(server.base_url + "/metrics", headers=AUTH).status_code == 200
    lower = {"Authorization": f"bearer {TOKEN}"}
    assert httpx.get(server.base_url + "/metrics", headers=lower).status_code == 200
    head = httpx.head(server.base_url + "/metrics", headers=AUTH)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 0  # the GET answer's length (spec §1.6)
    assert httpx.head(server.base_url + "/metrics").status_code == 404
    wrong_method = httpx.post(server.base_url + "/metrics", headers=AUTH)
    assert_envelope(wrong_method, 405, "method_not_allowed")
