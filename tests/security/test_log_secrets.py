"""No secret in any server log line, on the success paths and on every failure path.

The server runs at debug level (the most it ever writes). The test walks the flows that handle
each kind of secret — sign-in (login code), /me (session cookie, and the new key's `nl_live_`
secret in the body), logout with a wrong CSRF token, logout under a held write lock (500
logout_failed), a wrong code, secrets in a query string — and then searches the whole log for
every value it saw. The other suites of this issue run the same check on their own logs
(tests/support/secrets_watch.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support.harness import ServerProcess, SmtpSink, write_lock
from tests.support.secrets_watch import SecretWatch
from tests.support.sessions import logout, me, sign_in_one


def test_no_secret_reaches_the_log(
    make_server: Callable[..., ServerProcess], smtp_sink: SmtpSink, database_url: str
) -> None:
    watch = SecretWatch()
    server = watch.server(make_server({"TRIPORT_LOG_LEVEL": "debug", "TRIPORT_DB_TIMEOUT": "1"}))
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        credentials = sign_in_one(server.base_url, smtp_sink)
        watch.token(credentials.token, credentials.csrf)
        first = me(http, credentials)
        raw_key = first.json()["default_key"]["raw"]
        assert raw_key.startswith("nl_live_")
        watch.token(raw_key)

        wrong_csrf = logout(http, type(credentials)(credentials.token, credentials.csrf[::-1]))
        assert wrong_csrf.status_code == 403

        address = "log-check@example.com"
        started = http.post("/v1/auth/email/start", json={"email": address}).json()
        code = smtp_sink.wait_for_code(address)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        watch.codes.update({code, wrong})
        refused = http.post(
            "/v1/auth/email/verify", json={"request_id": started["request_id"], "code": wrong}
        )
        assert refused.json()["error"] == "invalid_code"

        leaky = http.get(
            f"/v1/auth/me?code={code}&token={credentials.token}", headers=credentials.cookie
        )
        assert leaky.status_code == 200
        http.cookies.clear()

        with write_lock(database_url):
            failed = logout(http, credentials)
        assert failed.status_code == 500 and failed.json()["error"] == "logout_failed"
        assert logout(http, credentials).status_code == 200
    assert watch.finish(smtp_sink) >= 8  # every request above wrote at least one line


def test_the_watch_finds_each_kind_of_secret(tmp_path: Path) -> None:
    """The check above can fail: each planted secret is found, an id that merely contains digits
    of a code is not."""
    token = "A" * 43
    planted = {
        "token": f'{{"event":"x","cookie":"{token}"}}',
        "code": '{"event":"x","message":"code 123456 sent"}',
        "key": '{"event":"x","raw":"nl_live_' + "ab" * 32 + '"}',
    }
    for kind, line in planted.items():
        log = tmp_path / f"{kind}.log"
        log.write_text('{"request_id":"req_00123456abcdef00","duration_ms":0.123}\n' + line + "\n")
        watch = SecretWatch()
        watch.logs.append(log)
        watch.token(token)
        watch.codes.add("123456")
        with pytest.raises(AssertionError):
            watch.check()
    clean = tmp_path / "clean.log"
    clean.write_text('{"request_id":"req_00123456abcdef00","key_prefix":"nl_live_abababab"}\n')
    watch = SecretWatch()
    watch.logs.append(clean)
    watch.token(token)
    watch.codes.add("123456")
    assert watch.check() == 1
