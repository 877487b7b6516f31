"""One structured line per request, with its request_id; never a secret."""

from __future__ import annotations

import json

import httpx

from tests.support.http import session_headers


def test_one_json_line_per_request_with_its_request_id(server):
    response = httpx.get(server.base_url + "/v1/auth/me?code=123456&state=secret")
    request_id = response.headers["x-request-id"]
    records = [r for r in server.log_records() if r.get("request_id") == request_id]
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
    httpx.post(server.base_url + "/v1/auth/logout", headers=session_headers(token, "bad", "bad"))
    httpx.post(server.base_url + "/v1/auth/logout", headers=session_headers(token, csrf, csrf))
    text = server.log_text()
    for secret in (token, csrf, code, raw_key, raw_key[16:]):
        assert secret not in text
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert {"request", "login", "csrf_invalid"} <= {record["event"] for record in records}
    logouts = [r for r in records if r["event"] == "request" and r["path"] == "/v1/auth/logout"]
    assert [r.get("outcome") for r in logouts] == [None, "revoked"]
