"""Per-client-address abuse limits: shared by every process on one database, 429 with Retry-After.

Each test gets a fresh database, so counters from other suites (which raise the limits out of the
way, see harness.LENIENT_RATE_LIMITS) cannot leak in. Two server processes serve it, and requests
alternate between them: the counter lives in the database, not in a process.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.harness import ServerProcess, SmtpSink, create_database, drop_database
from tests.support.secrets_watch import SecretWatch

START = "/v1/auth/email/start"
VERIFY = "/v1/auth/email/verify"


@pytest.fixture
def servers(store: str, smtp_sink: SmtpSink) -> Iterator[Callable[..., list[ServerProcess]]]:
    """`servers(env)` starts two processes with that env on one fresh database."""
    url = create_database(store)
    started: list[ServerProcess] = []

    def make(env: dict[str, str]) -> list[ServerProcess]:
        pair = [ServerProcess(url, mail_url=smtp_sink.url, env=env).start() for _ in range(2)]
        started.extend(pair)
        return pair

    yield make
    watch = SecretWatch()
    for process in started:
        process.stop()
        watch.server(process)
    watch.finish(smtp_sink)
    drop_database(url)


def _address() -> str:
    return f"u-{secrets.token_hex(6)}@example.com"


def _client_ip() -> str:
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{1 + secrets.randbelow(254)}"


def _assert_limited(response: httpx.Response, window: int) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["error"] == "rate_limited"
    retry_after = int(response.headers["retry-after"])
    assert body["retry_after"] == retry_after
    assert 1 <= retry_after <= window


def test_email_start_limit_is_shared_by_two_processes(
    servers: Callable[..., list[ServerProcess]],
) -> None:
    first, second = servers({"TRIPORT_RATE_LIMIT_EMAIL_START": "4/3600"})
    for index in range(4):
        target = (first, second)[index % 2]
        assert httpx.post(target.base_url + START, json={"email": _address()}).status_code == 200
    for target in (first, second):
        _assert_limited(httpx.post(target.base_url + START, json={"email": _address()}), 3600)
    # Invalid bodies count too: the limit is on requests, not on successful ones.
    assert httpx.post(first.base_url + START, content=b"{").status_code == 429


def test_limit_is_per_client_address_behind_a_trusted_proxy(
    servers: Callable[..., list[ServerProcess]],
) -> None:
    first, second = servers(
        {"TRIPORT_RATE_LIMIT_EMAIL_START": "2/3600", "TRIPORT_TRUST_PROXY": "true"}
    )
    alice, bob = _client_ip(), _client_ip()
    for target in (first, second):
        sent = httpx.post(
            target.base_url + START, json={"email": _address()}, headers={"X-Forwarded-For": alice}
        )
        assert sent.status_code == 200
    # A client cannot pick its own key: only the entry our proxy appended (the last) counts.
    spoofed = httpx.post(
        first.base_url + START,
        json={"email": _address()},
        headers={"X-Forwarded-For": f"{_client_ip()}, {alice}"},
    )
    _assert_limited(spoofed, 3600)
    other = httpx.post(
        second.base_url + START, json={"email": _address()}, headers={"X-Forwarded-For": bob}
    )
    assert other.status_code == 200


def test_email_verify_limit_stops_code_guessing(
    servers: Callable[..., list[ServerProcess]], smtp_sink: SmtpSink
) -> None:
    first, second = servers({"TRIPORT_RATE_LIMIT_EMAIL_VERIFY": "3/3600"})
    address = _address()
    request_id = httpx.post(first.base_url + START, json={"email": address}).json()["request_id"]
    code = smtp_sink.wait_for_code(address)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for index in range(3):
        target = (first, second)[index % 2]
        guess = httpx.post(target.base_url + VERIFY, json={"request_id": request_id, "code": wrong})
        assert guess.json()["error"] == "invalid_code"
    # Even the right code is refused now: the client has spent its attempts for this window.
    right = httpx.post(second.base_url + VERIFY, json={"request_id": request_id, "code": code})
    _assert_limited(right, 3600)


def test_concurrent_requests_never_exceed_the_limit(
    servers: Callable[..., list[ServerProcess]],
) -> None:
    """40 requests at once across two processes, limit 10: exactly 10 get through."""
    first, second = servers({"TRIPORT_RATE_LIMIT_EMAIL_START": "10/3600"})

    def send(index: int) -> int:
        target = (first, second)[index % 2]
        return httpx.post(
            target.base_url + START, json={"email": _address()}, timeout=15
        ).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = Counter(pool.map(send, range(40)))
    assert statuses == Counter({200: 10, 429: 30})


def test_window_ends_and_the_client_may_retry(servers: Callable[..., list[ServerProcess]]) -> None:
    first, _ = servers({"TRIPORT_RATE_LIMIT_EMAIL_START": "1/2"})
    deadline = time.monotonic() + 10
    while True:  # the first request of a fresh window passes, the next one is limited
        assert time.monotonic() < deadline
        if httpx.post(first.base_url + START, json={"email": _address()}).status_code == 200:
            limited = httpx.post(first.base_url + START, json={"email": _address()})
            if limited.status_code == 429:
                break
    _assert_limited(limited, 2)
    time.sleep(int(limited.headers["retry-after"]))
    assert httpx.post(first.base_url + START, json={"email": _address()}).status_code == 200


def test_a_limit_switched_off_counts_nothing(servers: Callable[..., list[ServerProcess]]) -> None:
    first, _ = servers({"TRIPORT_RATE_LIMIT_EMAIL_START": "off"})
    for _ in range(8):
        assert httpx.post(first.base_url + START, json={"email": _address()}).status_code == 200


def test_wallet_challenge_limit_is_shared_by_two_processes(
    servers: Callable[..., list[ServerProcess]],
) -> None:
    first, second = servers({"TRIPORT_RATE_LIMIT_WALLET_CHALLENGE": "3/3600"})
    body = {"address": "0x" + secrets.token_hex(20), "chain": "evm"}
    for index in range(3):
        target = (first, second)[index % 2]
        issued = httpx.post(target.base_url + "/v1/auth/wallet/challenge", json=body)
        assert issued.status_code == 200, issued.text
    _assert_limited(httpx.post(second.base_url + "/v1/auth/wallet/challenge", json=body), 3600)


def test_passkey_options_limit_is_shared_by_two_processes(
    servers: Callable[..., list[ServerProcess]],
) -> None:
    """Each sign-in options call stores a challenge: a script must not fill the table."""
    first, second = servers({"TRIPORT_RATE_LIMIT_PASSKEY_OPTIONS": "3/3600"})
    for index in range(3):
        target = (first, second)[index % 2]
        issued = httpx.post(target.base_url + "/v1/auth/passkey/options")
        assert issued.status_code == 200, issued.text
    _assert_limited(httpx.post(first.base_url + "/v1/auth/passkey/options"), 3600)


def test_passkey_verify_limit_counts_refused_assertions(
    servers: Callable[..., list[ServerProcess]],
) -> None:
    """Verifying costs a signature check: a script cannot hammer it from one address."""
    first, second = servers({"TRIPORT_RATE_LIMIT_PASSKEY_VERIFY": "2/3600"})
    for target in (first, second):
        refused = httpx.post(target.base_url + "/v1/auth/passkey/verify", json={"credential": {}})
        assert refused.status_code == 400, refused.text
    _assert_limited(
        httpx.post(first.base_url + "/v1/auth/passkey/verify", json={"credential": {}}), 3600
    )


def _start_with(target: ServerProcess, forwarded: list[str]) -> httpx.Response:
    headers = [("X-Forwarded-For", line) for line in forwarded]
    return httpx.post(target.base_url + START, json={"email": _address()}, headers=headers)


def test_a_second_forwarded_line_is_the_one_counted(
    servers: Callable[..., list[ServerProcess]],
) -> None:
    """HAProxy's `option forwardfor` adds its own X-Forwarded-For line after the client's: the
    lines join (RFC 9110 §5.3) and the last entry, the proxy's, is the client (issue 12)."""
    first, second = servers(
        {"TRIPORT_RATE_LIMIT_EMAIL_START": "3/3600", "TRIPORT_TRUST_PROXY": "true"}
    )
    client = _client_ip()
    statuses = [
        _start_with(first if i % 2 else second, [_client_ip(), client]).status_code
        for i in range(8)
    ]
    assert statuses == [200, 200, 200, 429, 429, 429, 429, 429]


def test_trusted_proxy_hops_pick_the_nth_entry_from_the_right(
    servers: Callable[..., list[ServerProcess]],
) -> None:
    first, second = servers(
        {
            "TRIPORT_RATE_LIMIT_EMAIL_START": "2/3600",
            "TRIPORT_TRUST_PROXY": "true",
            "TRIPORT_TRUSTED_PROXY_HOPS": "2",
        }
    )
    client, edge = _client_ip(), _client_ip()
    # The client's own (forged) entry varies; the two our proxies appended do not.
    for target in (first, second):
        assert _start_with(target, [f"{_client_ip()}, {client}", edge]).status_code == 200
    _assert_limited(_start_with(first, [f"{_client_ip()}, {client}, {edge}"]), 3600)
    # Only one entry where two hops are configured: not ours to trust, so the peer counts.
    assert _start_with(second, [_client_ip()]).status_code == 200


@pytest.mark.parametrize(
    ("first_form", "second_form"),
    [
        ("203.0.113.7:5000", "203.0.113.7"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8:0:0::2"),
    ],
)
def test_ports_and_brackets_name_the_same_client(
    servers: Callable[..., list[ServerProcess]], first_form: str, second_form: str
) -> None:
    first, second = servers(
        {"TRIPORT_RATE_LIMIT_EMAIL_START": "1/3600", "TRIPORT_TRUST_PROXY": "true"}
    )
    assert _start_with(first, [first_form]).status_code == 200
    _assert_limited(_start_with(second, [second_form]), 3600)
    # A different client in the same form is not locked out with it (no shared bucket).
    assert _start_with(first, ["198.51.100.9:5000"]).status_code == 200


def test_garbage_forwarded_values_do_not_share_a_bucket_with_other_clients(
    servers: Callable[..., list[ServerProcess]],
) -> None:
    """An unparseable entry falls back to the peer address (here 127.0.0.1), so a client sending
    garbage limits only itself, never every other client that sends garbage too."""
    first, second = servers(
        {"TRIPORT_RATE_LIMIT_EMAIL_START": "1/3600", "TRIPORT_TRUST_PROXY": "true"}
    )
    assert _start_with(first, ["not-an-address"]).status_code == 200
    _assert_limited(_start_with(second, ["127.0.0.1"]), 3600)
    assert _start_with(first, ["203.0.113.50"]).status_code == 200


def test_wallet_verify_has_its_own_per_client_limit(
    servers: Callable[..., list[ServerProcess]],
) -> None:
    first, second = servers({"TRIPORT_RATE_LIMIT_WALLET_VERIFY": "2/3600"})
    body = {"chain": "evm", "address": "0x" + "1" * 40, "nonce": "x", "signature": "0x00"}
    answers = [
        httpx.post(target.base_url + "/v1/auth/wallet/verify", json=body)
        for target in (first, second, first)
    ]
    assert [a.status_code for a in answers[:2]] == [400, 400]
    _assert_limited(answers[2], 3600)
