"""One structured line per request, with its request_id; never a secret."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.support.http import session_headers


def test_one_json_line_per_request_with_its_request_id(server):
    response = httpx.get(server.base_url + "/v1/auth/me?code=123456&state=secret")
    request_id = response.headers["x-request-id"]
    records = server.records_once(lambda seen: any(r.get("request_id") == request_id for r in seen))
    records = [r for r in records if r.get("request_id") == request_id]
    request_lines = [r for r in records if r["event"] == "request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert line["method"] == "GET" and line["path"] == "/v1/auth/me" and line["status"] == 401
    assert line["client"] == "127.0.0.1"
    assert isinstance(line["duration_ms"], float)
    assert line["time"].endswith("Z")


def test_logs_never_contain_tokens_codes_cookies_or_keys(server, smtp_sink):
    address = "logs-secret@example.com"
    client = httpx.Client(base_url=server.base_url)
    request_id = client.post("/v1/auth/email/start", json={"email": address}).json()["request_id"]
    code = smtp_sink.wait_for_code(address)
    client.post("/v1/auth/email/verify", json={"request_id": request_id, "code": "000000"})
    client.post("/v1/auth/email/verify", json={"request_id": request_id, "code": code})
    token, csrf = client.cookies["nl_session"], client.cookies["nl_csrf"]
    raw_key = client.get("/v1/auth/me").json()["default_key"]["raw"]
    logouts = [
        httpx.post(server.base_url + "/v1/auth/logout", headers=session_headers(token, *pair))
        for pair in (("bad", "bad"), (csrf, csrf))
    ]
    ids = [response.headers["x-request-id"] for response in logouts]

    def request_line(records: list[dict[str, Any]], request_id: str) -> dict[str, Any] | None:
        found = [r for r in records if r["event"] == "request" and r["request_id"] == request_id]
        return found[0] if found else None

    records = server.records_once(lambda seen: all(request_line(seen, i) for i in ids))
    text = server.log_text()
    for secret in (token, csrf, code, raw_key, raw_key[16:]):
        assert secret not in text
    assert {"request", "login", "csrf_invalid"} <= {record["event"] for record in records}
    # The refused logout has no outcome; the revoking one says so on its request line.
    lines = [request_line(records, request_id) for request_id in ids]
    assert [line.get("outcome") if line else "no line" for line in lines] == [None, "revoked"]


def test_a_burst_of_concurrent_requests_logs_each_once_whole(server):
    """Many requests at once (one event-loop turn answers several, and their lines are written
    together): every request id is in exactly one whole request line."""

    def batch(_: int) -> list[str]:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            return [client.get("/healthz").headers["x-request-id"] for _ in range(25)]

    with ThreadPoolExecutor(16) as pool:
        ids = [request_id for found in pool.map(batch, range(16)) for request_id in found]

    def all_logged(records: list[dict[str, Any]]) -> bool:
        return set(ids) <= {r.get("request_id") for r in records if r["event"] == "request"}

    records = server.records_once(all_logged)
    # Every line is a JSON object (a torn or interleaved one would not be), apart from the
    # start line that standard error adds to this file.
    for line in server.log_text().splitlines():
        assert line.startswith("Triport console on ") or json.loads(line)
    counted = Counter(r["request_id"] for r in records if r["event"] == "request")
    assert all(counted[request_id] == 1 for request_id in ids)
