"""Passkeys over HTTP (spec §2.12) with a software authenticator, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.support.harness import ServerProcess, past, run_sql
from tests.support.http import assert_envelope, set_cookies
from tests.support.soft_authenticator import SoftAuthenticator, b64url, from_b64url

EVIL = "https://login.triport.example.evil"


def csrf(client: httpx.Client) -> dict[str, str]:
    token = client.cookies.get("nl_csrf")
    return {"X-CSRF-Token": token} if token else {}


def registration_options(client: httpx.Client) -> dict[str, Any]:
    response = client.post("/v1/auth/passkeys/register/options", headers=csrf(client))
    assert response.status_code == 200, response.text
    options: dict[str, Any] = response.json()["options"]
    return options


def finish_registration(
    client: httpx.Client, credential: dict[str, Any], **extra: Any
) -> httpx.Response:
    return client.post(
        "/v1/auth/passkeys/register/verify",
        json={"credential": credential, **extra},
        headers=csrf(client),
    )


def register(
    client: httpx.Client, authenticator: SoftAuthenticator, **extra: Any
) -> dict[str, Any]:
    response = finish_registration(
        client, authenticator.create(registration_options(client)), **extra
    )
    assert response.status_code == 200, response.text
    passkey: dict[str, Any] = response.json()["passkey"]
    return passkey


def sign_in_options(client: httpx.Client) -> dict[str, Any]:
    response = client.post("/v1/auth/passkey/options", headers=csrf(client))
    assert response.status_code == 200, response.text
    options: dict[str, Any] = response.json()["options"]
    return options


def verify(client: httpx.Client, assertion: dict[str, Any], **extra: Any) -> httpx.Response:
    return client.post(
        "/v1/auth/passkey/verify", json={"credential": assertion, **extra}, headers=csrf(client)
    )


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert_envelope(response, status, code)
    assert not set_cookies(response).get("nl_session", {}).get("value"), "no session is issued"


@pytest.fixture
def anonymous(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=15) as client:
        yield client


@pytest.fixture
def fresh(server: ServerProcess) -> Iterator[Callable[[], httpx.Client]]:
    """Clients without cookies: another browser, where the user signs in with the passkey."""
    clients: list[httpx.Client] = []

    def make() -> httpx.Client:
        clients.append(httpx.Client(base_url=server.base_url, timeout=15))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def authenticator(server: ServerProcess) -> SoftAuthenticator:
    return SoftAuthenticator(server.base_url)


def user_id(client: httpx.Client) -> str:
    me = client.get("/v1/auth/me")
    assert me.status_code == 200, me.text
    identifier: str = me.json()["user"]["id"]
    return identifier


# --- registration ------------------------------------------------------------------------


def test_registration_options_ask_for_a_resident_key_for_this_console(
    server: ServerProcess, new_session: Callable[..., httpx.Client]
) -> None:
    client = new_session(server)
    options = registration_options(client)
    assert options["rp"] == {"id": "127.0.0.1", "name": "Triport console"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["requireResidentKey"] is True
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["timeout"] == 300_000
    assert len(from_b64url(options["challenge"])) == 32
    assert from_b64url(options["user"]["id"]) == uuid.UUID(user_id(client)).bytes
    assert options["excludeCredentials"] == []
    assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]
    assert registration_options(client)["challenge"] != options["challenge"]


def test_register_list_and_exclude_the_registered_passkey(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    client = new_session(server)
    passkey = register(client, authenticator, name="  Laptop  ")
    uuid.UUID(passkey["id"])
    assert passkey["name"] == "Laptop"
    assert passkey["last_used_at"] is None
    assert passkey["created_at"].endswith("Z")
    phone = SoftAuthenticator(server.base_url)
    second = register(client, phone)
    assert second["name"] == "Passkey"
    listed = client.get("/v1/auth/passkeys")
    assert listed.status_code == 200
    assert listed.json() == {"passkeys": [second, passkey]}  # newest first, nothing secret
    excluded = registration_options(client)["excludeCredentials"]
    expected = [phone.credentials[0], authenticator.credentials[0]]
    assert [item["id"] for item in excluded] == [b64url(c.credential_id) for c in expected]
    assert all(item["type"] == "public-key" for item in excluded)
    assert all(item["transports"] == ["internal", "hybrid"] for item in excluded)


def test_registration_stores_only_the_challenge_hash(
    server: ServerProcess, new_session: Callable[..., httpx.Client]
) -> None:
    client = new_session(server)
    challenge = from_b64url(registration_options(client)["challenge"])
    stored = run_sql(
        server.database_url,
        "SELECT challenge_hash FROM passkey_challenges WHERE challenge_hash = $1",
        hashlib.sha256(challenge).digest(),
    )
    assert len(stored) == 1
    raw = run_sql(
        server.database_url,
        "SELECT count(*) FROM passkey_challenges WHERE challenge_hash = $1",
        challenge,
    )
    assert raw[0][0] == 0


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, "line\nbreak", 42, ["a"]])
def test_registration_with_a_bad_name_is_invalid_name_and_adds_nothing(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    authenticator: SoftAuthenticator,
    name: object,
) -> None:
    client = new_session(server)
    options = registration_options(client)
    assert_envelope(
        finish_registration(client, authenticator.create(options), name=name), 400, "invalid_name"
    )
    assert client.get("/v1/auth/passkeys").json() == {"passkeys": []}


def test_registration_needs_a_session(anonymous: httpx.Client) -> None:
    assert_envelope(anonymous.post("/v1/auth/passkeys/register/options"), 401, "unauthenticated")
    assert_envelope(
        anonymous.post("/v1/auth/passkeys/register/verify", json={"credential": {}}),
        401,
        "unauthenticated",
    )
    assert_envelope(anonymous.get("/v1/auth/passkeys"), 401, "unauthenticated")


def test_registration_needs_the_csrf_header(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    client = new_session(server)
    assert_envelope(client.post("/v1/auth/passkeys/register/options"), 403, "csrf_invalid")
    wrong = {"X-CSRF-Token": "x" * 43}
    assert_envelope(
        client.post("/v1/auth/passkeys/register/options", headers=wrong), 403, "csrf_invalid"
    )
    credential = authenticator.create(registration_options(client))
    refused = client.post("/v1/auth/passkeys/register/verify", json={"credential": credential})
    assert_envelope(refused, 403, "csrf_invalid")
    foreign = {**csrf(client), "Origin": EVIL}
    assert_envelope(
        client.post(
            "/v1/auth/passkeys/register/verify", json={"credential": credential}, headers=foreign
        ),
        403,
        "csrf_invalid",
    )
    assert client.get("/v1/auth/passkeys").json() == {"passkeys": []}
    # The refused requests left the challenge to the real ceremony.
    assert finish_registration(client, credential).status_code == 200
    client.cookies.delete("nl_csrf")
    assert_envelope(client.post("/v1/auth/passkeys/register/options"), 403, "csrf_missing")


def test_a_registration_challenge_is_single_use(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    client = new_session(server)
    options = registration_options(client)
    assert finish_registration(client, authenticator.create(options)).status_code == 200
    again = finish_registration(client, SoftAuthenticator(server.base_url).create(options))
    assert_envelope(again, 400, "invalid_challenge")
    assert len(client.get("/v1/auth/passkeys").json()["passkeys"]) == 1


def test_a_registration_challenge_belongs_to_the_account_that_asked(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    alice, mallory = new_session(server), new_session(server)
    options = registration_options(alice)
    stolen = finish_registration(mallory, authenticator.create(options))
    assert_envelope(stolen, 400, "invalid_challenge")
    assert mallory.get("/v1/auth/passkeys").json() == {"passkeys": []}
    assert (
        finish_registration(alice, SoftAuthenticator(server.base_url).create(options)).status_code
        == 200
    )


def test_a_sign_in_challenge_cannot_register(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    client = new_session(server)
    options = registration_options(client)
    options["challenge"] = sign_in_options(client)["challenge"]
    assert_envelope(
        finish_registration(client, authenticator.create(options)), 400, "invalid_challenge"
    )


def test_registration_from_another_origin_or_rp_id_is_refused(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    client = new_session(server)
    options = registration_options(client)
    assert_envelope(
        finish_registration(client, authenticator.create(options, origin=EVIL)),
        400,
        "invalid_credential",
    )
    assert_envelope(
        finish_registration(client, authenticator.create(options, rp_id="triport.example.evil")),
        400,
        "invalid_credential",
    )
    # A refused answer leaves the challenge to the real ceremony.
    assert finish_registration(client, authenticator.create(options)).status_code == 200


def test_a_credential_registered_once_cannot_be_registered_again(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    alice, mallory = new_session(server), new_session(server)
    register(alice, authenticator)
    taken = authenticator.credentials[0].credential_id
    copy = SoftAuthenticator(server.base_url).create(
        registration_options(mallory), credential_id=taken
    )
    assert_envelope(finish_registration(mallory, copy), 400, "invalid_credential")
    assert mallory.get("/v1/auth/passkeys").json() == {"passkeys": []}


@pytest.mark.parametrize(
    "credential",
    [None, "text", [], {}, {"id": "x", "rawId": "x", "type": "public-key", "response": {}}],
)
def test_a_malformed_registration_is_invalid_credential(
    server: ServerProcess, new_session: Callable[..., httpx.Client], credential: object
) -> None:
    client = new_session(server)
    assert_envelope(finish_registration(client, credential), 400, "invalid_credential")  # type: ignore[arg-type]


def test_registration_body_must_be_json(
    server: ServerProcess, new_session: Callable[..., httpx.Client]
) -> None:
    client = new_session(server)
    for content in (b"{", b"[]", b"x" * 5000):
        response = client.post(
            "/v1/auth/passkeys/register/verify", content=content, headers=csrf(client)
        )
        assert_envelope(response, 400, "invalid_json")


# --- sign-in -----------------------------------------------------------------------------


def test_sign_in_options_ask_for_a_discoverable_credential(anonymous: httpx.Client) -> None:
    options = sign_in_options(anonymous)
    assert options["rpId"] == "127.0.0.1"
    assert options["allowCredentials"] == []
    assert options["userVerification"] == "preferred"
    assert options["timeout"] == 300_000
    assert len(from_b64url(options["challenge"])) == 32


def test_sign_in_with_a_passkey_creates_a_session(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    owner = new_session(server)
    passkey = register(owner, authenticator, name="Phone")
    browser = fresh()
    response = verify(browser, authenticator.get(sign_in_options(browser)))
    assert response.status_code == 200, response.text
    assert response.json()["user"]["id"] == user_id(owner)
    cookies = set_cookies(response)
    assert cookies["nl_session"]["value"] and "httponly" in cookies["nl_session"]
    assert cookies["nl_csrf"]["value"]
    assert user_id(browser) == user_id(owner)
    (listed,) = owner.get("/v1/auth/passkeys").json()["passkeys"]
    assert listed["id"] == passkey["id"] and listed["last_used_at"] is not None
    # The counter advanced to what the authenticator signed.
    stored = run_sql(
        server.database_url,
        "SELECT sign_count FROM passkeys WHERE credential_id = $1",
        authenticator.credentials[0].credential_id,
    )
    assert stored == [(1,)]


def test_a_passkey_sign_in_replaces_the_browsers_old_session(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    client = new_session(server)
    register(client, authenticator)
    old = client.cookies.get("nl_session")
    response = verify(client, authenticator.get(sign_in_options(client)))
    assert response.status_code == 200, response.text
    assert client.cookies.get("nl_session") != old
    stale = httpx.get(server.base_url + "/v1/auth/me", cookies={"nl_session": old or ""})
    assert_envelope(stale, 401, "unauthenticated")


def test_replaying_a_used_sign_in_is_invalid_challenge(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    register(new_session(server), authenticator)
    browser = fresh()
    assertion = authenticator.get(sign_in_options(browser))
    assert verify(browser, assertion).status_code == 200
    assert_refused(verify(fresh(), assertion), 400, "invalid_challenge")
    # A new signature over the burned challenge is refused as well.
    options = {"rpId": "127.0.0.1", "challenge": assertion_challenge(assertion)}
    assert_refused(verify(fresh(), authenticator.get(options)), 400, "invalid_challenge")


def assertion_challenge(assertion: dict[str, Any]) -> str:
    import json

    client_data = json.loads(from_b64url(assertion["response"]["clientDataJSON"]))
    challenge: str = client_data["challenge"]
    return challenge


def test_a_challenge_the_server_never_issued_or_that_expired_is_invalid_challenge(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    register(new_session(server), authenticator)
    made_up = {"rpId": "127.0.0.1", "challenge": b64url(b"\x07" * 32)}
    assert_refused(verify(fresh(), authenticator.get(made_up)), 400, "invalid_challenge")
    browser = fresh()
    options = sign_in_options(browser)
    run_sql(
        server.database_url,
        "UPDATE passkey_challenges SET expires_at = $1 WHERE challenge_hash = $2",
        past(server.database_url),
        hashlib.sha256(from_b64url(options["challenge"])).digest(),
    )
    assert_refused(verify(browser, authenticator.get(options)), 400, "invalid_challenge")


def test_a_registration_challenge_cannot_sign_in(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    client = new_session(server)
    register(client, authenticator)
    options = {"rpId": "127.0.0.1", "challenge": registration_options(client)["challenge"]}
    assert_refused(verify(fresh(), authenticator.get(options)), 400, "invalid_challenge")


def test_an_assertion_made_for_another_origin_is_refused(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    """A phishing page relaying our challenge gets an assertion naming its own origin."""
    register(new_session(server), authenticator)
    browser = fresh()
    options = sign_in_options(browser)
    assert_refused(
        verify(browser, authenticator.get(options, origin=EVIL)), 400, "invalid_credential"
    )
    # The refusal neither burned the challenge nor moved the counter check out of step.
    assert verify(browser, authenticator.get(options)).status_code == 200


def test_an_assertion_for_another_rp_id_is_refused(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    register(new_session(server), authenticator)
    browser = fresh()
    options = sign_in_options(browser)
    forged = authenticator.get(options, rp_id="triport.example.evil")
    assert_refused(verify(browser, forged), 400, "invalid_credential")


def test_a_bad_signature_or_unknown_credential_is_invalid_credential(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    register(new_session(server), authenticator)
    browser = fresh()
    options = sign_in_options(browser)
    tampered = authenticator.get(options)
    signature = bytearray(from_b64url(tampered["response"]["signature"]))
    signature[-1] ^= 0x01
    tampered["response"]["signature"] = b64url(bytes(signature))
    assert_refused(verify(browser, tampered), 400, "invalid_credential")
    stranger = SoftAuthenticator(server.base_url)
    stranger.create(
        {
            "rp": {"id": "127.0.0.1"},
            "user": {"id": b64url(b"u" * 16)},
            "challenge": b64url(b"c" * 32),
        }
    )
    assert_refused(verify(browser, stranger.get(options)), 400, "invalid_credential")


def test_an_assertion_naming_another_account_is_refused(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    register(new_session(server), authenticator)
    authenticator.credentials[0].user_handle = uuid.uuid4().bytes
    assert_refused(
        verify(fresh(), authenticator.get(sign_in_options(fresh()))), 400, "invalid_credential"
    )


def test_a_removed_passkey_cannot_sign_in(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    owner = new_session(server)
    passkey = register(owner, authenticator)
    removed = owner.delete(f"/v1/auth/passkeys/{passkey['id']}", headers=csrf(owner))
    assert removed.status_code == 200 and removed.json() == {"ok": True}
    assert owner.get("/v1/auth/passkeys").json() == {"passkeys": []}
    browser = fresh()
    assert_refused(
        verify(browser, authenticator.get(sign_in_options(browser))), 400, "invalid_credential"
    )
    # Idempotent for its owner (a retried DELETE whose first answer was lost still succeeds).
    again = owner.delete(f"/v1/auth/passkeys/{passkey['id']}", headers=csrf(owner))
    assert again.status_code == 200 and again.json() == {"ok": True}


def test_a_counter_that_goes_backwards_is_refused(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    """A cloned authenticator shows up as a counter that does not grow."""
    register(new_session(server), authenticator)
    for _ in range(3):
        browser = fresh()
        assert verify(browser, authenticator.get(sign_in_options(browser))).status_code == 200
    for stale in (3, 2, 0):
        browser = fresh()
        clone = authenticator.get(sign_in_options(browser), sign_count=stale)
        assert_refused(verify(browser, clone), 400, "invalid_credential")
    browser = fresh()
    assert verify(browser, authenticator.get(sign_in_options(browser))).status_code == 200


def test_a_passkey_that_keeps_no_counter_signs_in_every_time(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
) -> None:
    synced = SoftAuthenticator(server.base_url, keep_counter=False)
    register(new_session(server), synced)
    for _ in range(2):
        browser = fresh()
        assert verify(browser, synced.get(sign_in_options(browser))).status_code == 200


@pytest.mark.parametrize(
    "credential",
    [None, 7, "text", [], {}, {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}],
)
def test_a_malformed_assertion_is_invalid_credential(
    anonymous: httpx.Client, credential: object
) -> None:
    assert_refused(verify(anonymous, credential), 400, "invalid_credential")  # type: ignore[arg-type]


def test_sign_in_body_must_be_json(anonymous: httpx.Client) -> None:
    for content in (b"{", b"null", b"x" * 5000):
        assert_refused(
            anonymous.post("/v1/auth/passkey/verify", content=content), 400, "invalid_json"
        )


def test_sign_in_from_a_foreign_origin_is_refused(anonymous: httpx.Client) -> None:
    """The Origin rule of every sign-in (login CSRF)."""
    foreign = {"Origin": EVIL}
    assert_envelope(
        anonymous.post("/v1/auth/passkey/options", headers=foreign), 403, "csrf_invalid"
    )
    refused = anonymous.post("/v1/auth/passkey/verify", json={"credential": {}}, headers=foreign)
    assert_refused(refused, 403, "csrf_invalid")


def test_sign_in_routes_answer_only_post(anonymous: httpx.Client) -> None:
    for path in ("/v1/auth/passkey/options", "/v1/auth/passkey/verify"):
        response = anonymous.get(path)
        assert_envelope(response, 405, "method_not_allowed")
        assert response.headers["allow"] == "POST"


# --- removal -----------------------------------------------------------------------------


def test_another_users_passkey_is_not_found_and_stays(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    alice, mallory = new_session(server), new_session(server)
    passkey = register(alice, authenticator)
    refused = mallory.delete(f"/v1/auth/passkeys/{passkey['id']}", headers=csrf(mallory))
    assert_envelope(refused, 404, "not_found")
    assert_envelope(
        mallory.delete(f"/v1/auth/passkeys/{uuid.uuid4()}", headers=csrf(mallory)), 404, "not_found"
    )
    assert [p["id"] for p in alice.get("/v1/auth/passkeys").json()["passkeys"]] == [passkey["id"]]
    browser = fresh()
    assert verify(browser, authenticator.get(sign_in_options(browser))).status_code == 200


@pytest.mark.parametrize("bad", ["not-a-uuid", "1234", "00000000-0000-0000-0000-00000000000g"])
def test_removing_with_a_malformed_id_is_invalid_id(
    server: ServerProcess, new_session: Callable[..., httpx.Client], bad: str
) -> None:
    client = new_session(server)
    assert_envelope(
        client.delete(f"/v1/auth/passkeys/{bad}", headers=csrf(client)), 400, "invalid_id"
    )


def test_removing_needs_the_csrf_header(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    client = new_session(server)
    passkey = register(client, authenticator)
    assert_envelope(client.delete(f"/v1/auth/passkeys/{passkey['id']}"), 403, "csrf_invalid")
    assert len(client.get("/v1/auth/passkeys").json()["passkeys"]) == 1


# --- sessions and activity (spec §2.9 to §2.11) ---------------------------------------------


def activity(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("/v1/auth/activity")
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def test_adding_and_removing_a_passkey_are_account_activity(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    client = new_session(server)
    passkey = register(client, authenticator)
    client.delete(f"/v1/auth/passkeys/{passkey['id']}", headers=csrf(client))
    client.delete(f"/v1/auth/passkeys/{passkey['id']}", headers=csrf(client))  # no second event
    passkey_events = [e for e in activity(client) if e["type"].startswith("passkey_")]
    assert [(e["type"], e["passkey_id"]) for e in passkey_events] == [
        ("passkey_removed", passkey["id"]),
        ("passkey_added", passkey["id"]),
    ]
    assert all(e["ip"] == "127.0.0.1" for e in passkey_events)


def test_a_refused_registration_records_no_event(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    client = new_session(server)
    options = registration_options(client)
    refused = finish_registration(client, authenticator.create(options, origin=EVIL))
    assert_envelope(refused, 400, "invalid_credential")
    assert not [e for e in activity(client) if e["type"].startswith("passkey_")]


def test_a_passkey_sign_in_is_a_passkey_session_and_a_signed_in_event(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    register(new_session(server), authenticator)
    browser = fresh()
    response = verify(browser, authenticator.get(sign_in_options(browser)))
    assert response.status_code == 200, response.text
    assert "signed_out_others" not in response.json()
    (current,) = [s for s in browser.get("/v1/auth/sessions").json()["sessions"] if s["current"]]
    assert current["provider"] == "passkey"
    latest = activity(browser)[0]
    assert (latest["type"], latest["provider"], latest["session_id"]) == (
        "signed_in",
        "passkey",
        current["id"],
    )


def test_a_passkey_sign_in_can_sign_out_every_other_session(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    """The way back in after losing a device: the passkey signs in and ends the rest."""
    owner = new_session(server)
    register(owner, authenticator)
    other = fresh()
    assert verify(other, authenticator.get(sign_in_options(other))).status_code == 200
    browser = fresh()
    response = verify(browser, authenticator.get(sign_in_options(browser)), sign_out_others=True)
    assert response.status_code == 200, response.text
    assert response.json()["signed_out_others"] == 2
    for ended in (owner, other):
        gone = ended.get("/v1/auth/me")
        assert_envelope(gone, 401, "unauthenticated")
        assert gone.json()["reason"] == "signed_out_everywhere"
    assert browser.get("/v1/auth/me").status_code == 200


def test_sign_out_others_that_is_not_a_boolean_is_refused_and_keeps_the_challenge(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    fresh: Callable[[], httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    owner = new_session(server)
    register(owner, authenticator)
    browser = fresh()
    assertion = authenticator.get(sign_in_options(browser))
    assert_refused(verify(browser, assertion, sign_out_others="yes"), 400, "invalid_request")
    assert owner.get("/v1/auth/me").status_code == 200
    assert verify(browser, assertion).status_code == 200


def verify_at_once(clients: list[httpx.Client], assertion: dict[str, Any]) -> list[httpx.Response]:
    """The same verify from every client, released together by a barrier."""
    barrier = threading.Barrier(len(clients))

    def one(client: httpx.Client) -> httpx.Response:
        barrier.wait(10)
        return client.post("/v1/auth/passkey/verify", json={"credential": assertion})

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(one, clients))


def test_concurrent_verifies_of_one_assertion_create_exactly_one_session(
    server: ServerProcess,
    new_session: Callable[..., httpx.Client],
    authenticator: SoftAuthenticator,
) -> None:
    """Two requests race to burn each challenge (on PostgreSQL over two pool connections): one
    signs in, the other is refused."""
    owner = new_session(server)
    register(owner, authenticator)
    clients = [httpx.Client(base_url=server.base_url, timeout=15) for _ in range(2)]
    try:
        for _ in range(8):
            for client in clients:
                client.cookies.clear()  # each round: two browsers without a session
            results = verify_at_once(clients, authenticator.get(sign_in_options(owner)))
            statuses = sorted(response.status_code for response in results)
            assert statuses == [200, 400], [response.text for response in results]
            loser = next(response for response in results if response.status_code == 400)
            assert_refused(loser, 400, "invalid_challenge")
    finally:
        for client in clients:
            client.close()
    user = uuid.UUID(user_id(owner))
    count = run_sql(
        server.database_url,
        "SELECT count(*) FROM sessions WHERE provider = 'passkey' AND user_id = $1",
        str(user) if server.database_url.startswith("sqlite") else user,
    )
    assert count == [(8,)]
