"""Email code sign-in (spec §2.3, §2.4) through a real SMTP server on loopback."""

from __future__ import annotations

import secrets
import uuid

import httpx
import pytest

from tests.support.harness import ServerProcess, free_port, past, run_sql
from tests.support.http import assert_envelope, set_cookies


def fresh_address() -> str:
    return f"user-{secrets.token_hex(5)}@example.com"


def start(server: ServerProcess, body: object) -> httpx.Response:
    return httpx.post(server.base_url + "/v1/auth/email/start", json=body, timeout=30)


def verify(server: ServerProcess, request_id: str, code: object) -> httpx.Response:
    return httpx.post(
        server.base_url + "/v1/auth/email/verify",
        json={"request_id": request_id, "code": code},
        timeout=30,
    )


def test_address_is_trimmed_and_lower_cased_before_use(server, smtp_sink):
    local = f"Ada.{secrets.token_hex(4)}"
    response = start(server, {"email": f"  {local}@Example.COM \t"})
    assert response.status_code == 200
    request_id = response.json()["request_id"]
    assert uuid.UUID(request_id)
    normalised = f"{local.lower()}@example.com"
    code = smtp_sink.wait_for_code(normalised)
    signed_in = verify(server, request_id, code)
    assert signed_in.status_code == 200
    assert signed_in.json()["user"]["email"] == normalised
    assert {"nl_session", "nl_csrf"} <= set(set_cookies(signed_in))


def test_the_mail_is_a_real_message_with_the_code(server, smtp_sink):
    address = fresh_address()
    start(server, {"email": address})
    code = smtp_sink.wait_for_code(address)
    message = next(m for m in reversed(smtp_sink.messages) if m["To"] == address)
    assert message["Subject"] == "Your Triport sign-in code"
    assert "Triport" in message["From"]
    assert code in message.get_payload(decode=True).decode()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": ""},
        {"email": "   "},
        {"email": None},
        {"email": 42},
        {"email": ["a@example.com"]},
        {"email": {"a": "b"}},
        {"email": "no-at-sign"},
        {"email": "two@@example.com"},
        {"email": "spaces in@example.com"},
        {"email": "a@localhost"},
        {"email": "a@-bad-.com"},
        {"email": "x" * 65 + "@example.com"},
        {"email": "a@" + "b" * 250 + ".com"},
        {"email": "nul\u0000@example.com"},
    ],
)
def test_invalid_addresses_are_invalid_email_and_send_nothing(server, smtp_sink, body):
    before = len(smtp_sink.messages)
    assert_envelope(start(server, body), 400, "invalid_email")
    assert len(smtp_sink.messages) == before


def test_known_and_unknown_addresses_get_the_same_answer(server, new_session):
    known = fresh_address()
    new_session(server, known)
    answers = [start(server, {"email": address}) for address in (known, fresh_address())]
    assert [a.status_code for a in answers] == [200, 200]
    assert [set(a.json()) for a in answers] == [{"request_id"}, {"request_id"}]
    assert [set_cookies(a) for a in answers] == [{}, {}]


def test_five_codes_per_address_per_hour_across_two_processes(make_server, smtp_sink):
    first, second = make_server(), make_server()
    address = fresh_address()
    for index in range(5):
        target = first if index % 2 else second
        assert start(target, {"email": address.upper()}).status_code == 200
    limited = start(first, {"email": f" {address} "})
    assert_envelope(limited, 429, "rate_limited")
    retry_after = limited.json()["retry_after"]
    assert 3500 < retry_after <= 3601
    assert limited.headers["retry-after"] == str(retry_after)
    assert_envelope(start(second, {"email": address}), 429, "rate_limited")
    assert smtp_sink.count_for(address) == 5


def test_a_code_works_once(server, smtp_sink):
    address = fresh_address()
    request_id = start(server, {"email": address}).json()["request_id"]
    code = smtp_sink.wait_for_code(address)
    assert verify(server, request_id, code).status_code == 200
    assert_envelope(verify(server, request_id, code), 400, "invalid_request")


def test_an_expired_code_is_refused(server, smtp_sink):
    address = fresh_address()
    request_id = start(server, {"email": address}).json()["request_id"]
    code = smtp_sink.wait_for_code(address)
    run_sql(
        server.database_url,
        "UPDATE login_codes SET expires_at = $1 WHERE email = $2",
        past(server.database_url),
        address,
    )
    assert_envelope(verify(server, request_id, code), 400, "invalid_request")


def test_five_wrong_codes_lock_the_request(server, smtp_sink):
    address = fresh_address()
    request_id = start(server, {"email": address}).json()["request_id"]
    code = smtp_sink.wait_for_code(address)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert_envelope(verify(server, request_id, wrong), 400, "invalid_code")
    assert_envelope(verify(server, request_id, code), 400, "invalid_request")


@pytest.mark.parametrize("code", [None, 123456, "12345", "1234567", "abcdef", "", ["123456"]])
def test_malformed_codes_are_invalid_code_and_not_counted(server, smtp_sink, code):
    address = fresh_address()
    request_id = start(server, {"email": address}).json()["request_id"]
    real = smtp_sink.wait_for_code(address)
    for _ in range(6):
        assert_envelope(verify(server, request_id, code), 400, "invalid_code")
    assert verify(server, request_id, real).status_code == 200


@pytest.mark.parametrize(
    "request_id",
    [
        None,
        7,
        "",
        "not-a-uuid",
        "8f1c3b2a-0000-4000-8000-000000000000",
        "8F1C3B2A-0000-4000-8000-00000000000X",
    ],
)
def test_malformed_or_unknown_request_ids_are_invalid_request(server, request_id):
    assert_envelope(verify(server, request_id, "123456"), 400, "invalid_request")


def test_a_code_belongs_to_its_request(server, smtp_sink):
    first, second = fresh_address(), fresh_address()
    first_id = start(server, {"email": first}).json()["request_id"]
    start(server, {"email": second})
    second_code = smtp_sink.wait_for_code(second)
    smtp_sink.wait_for_code(first)
    assert_envelope(verify(server, first_id, second_code), 400, "invalid_code")


def test_a_refusing_mail_server_is_internal_and_does_not_use_up_the_limit(server, smtp_sink):
    address = fresh_address()
    smtp_sink.reject = True
    try:
        for _ in range(6):
            assert_envelope(start(server, {"email": address}), 500, "internal")
    finally:
        smtp_sink.reject = False
    assert start(server, {"email": address}).status_code == 200


def test_an_unreachable_mail_server_is_internal(database_url):
    closed = f"smtp://127.0.0.1:{free_port()}"
    with ServerProcess(database_url, mail_url=closed) as server:
        assert_envelope(start(server, {"email": fresh_address()}), 500, "internal")


def test_codes_are_stored_only_as_hmacs(server, smtp_sink):
    address = fresh_address()
    start(server, {"email": address})
    code = smtp_sink.wait_for_code(address)
    rows = run_sql(server.database_url, "SELECT * FROM login_codes WHERE email = $1", address)
    assert rows
    flattened = repr(rows)
    assert code not in flattened
    assert all(len(value) == 32 for value in rows[0] if isinstance(value, bytes))


def test_signing_in_again_creates_a_new_token_and_revokes_the_replaced_one(
    server, smtp_sink, new_session
):
    address = fresh_address()
    client = new_session(server, address)
    old_token, old_csrf = client.cookies["nl_session"], client.cookies["nl_csrf"]
    request_id = client.post(
        "/v1/auth/email/start", json={"email": address}, headers={"X-CSRF-Token": old_csrf}
    ).json()["request_id"]
    response = client.post(
        "/v1/auth/email/verify",
        json={"request_id": request_id, "code": smtp_sink.wait_for_code(address)},
        headers={"X-CSRF-Token": old_csrf},
    )
    assert response.status_code == 200
    new_token = set_cookies(response)["nl_session"]["value"]
    assert new_token != old_token
    old = httpx.get(server.base_url + "/v1/auth/me", cookies={"nl_session": old_token})
    assert old.status_code == 401


def test_sign_in_post_from_a_foreign_origin_is_refused(server, smtp_sink):
    """Login CSRF: a foreign page must not sign the victim in to the attacker's account."""
    address = fresh_address()
    response = httpx.post(
        server.base_url + "/v1/auth/email/start",
        json={"email": address},
        headers={"Origin": "https://evil.example"},
    )
    assert_envelope(response, 403, "csrf_invalid")
    ok = start(server, {"email": address})
    request_id = ok.json()["request_id"]
    code = smtp_sink.wait_for_code(address)
    forged = httpx.post(
        server.base_url + "/v1/auth/email/verify",
        json={"request_id": request_id, "code": code},
        headers={"Origin": "https://evil.example"},
    )
    assert_envelope(forged, 403, "csrf_invalid")
    assert verify(server, request_id, code).status_code == 200  # the refusal consumed nothing
