"""Wallet sign-in over HTTP (spec 2.5/2.6) with real keys, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import base58
import httpx
import pytest
from siwe import SiweMessage

from tests.support.harness import ServerProcess, past, run_sql
from tests.support.http import assert_envelope, set_cookies
from tests.support.wallet_keys import SOLANA_ENCODINGS, EvmWallet, SolanaWallet

Wallet = EvmWallet | SolanaWallet


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=15) as client:
        yield client


def csrf(http: httpx.Client) -> dict[str, str]:
    """What the console page sends: the nl_csrf cookie echoed once a session exists."""
    token = http.cookies.get("nl_csrf")
    return {"X-CSRF-Token": token} if token else {}


def challenge(http: httpx.Client, wallet: Wallet, address: str | None = None) -> dict[str, str]:
    response = http.post(
        "/v1/auth/wallet/challenge",
        json={"address": address or wallet.address, "chain": wallet.chain},
        headers=csrf(http),
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def verify(
    http: httpx.Client, nonce: object, wallet: Wallet, signature: object, **override: Any
) -> httpx.Response:
    body = {
        "nonce": nonce,
        "address": wallet.address,
        "chain": wallet.chain,
        "signature": signature,
    }
    return http.post("/v1/auth/wallet/verify", json=body | override, headers=csrf(http))


def sign_in(http: httpx.Client, wallet: Wallet) -> httpx.Response:
    issued = challenge(http, wallet)
    response = verify(http, issued["nonce"], wallet, wallet.sign(issued["message"]))
    assert response.status_code == 200, response.text
    return response


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert_envelope(response, status, code)
    assert not set_cookies(response).get("nl_session", {}).get("value"), "no session is issued"


def expire(database_url: str, nonce: str) -> None:
    """Backdate a challenge past its five-minute life, in the real database."""
    run_sql(
        database_url,
        "UPDATE wallet_challenges SET expires_at = $1 WHERE nonce = $2",
        past(database_url),
        nonce if database_url.startswith("sqlite") else uuid.UUID(nonce),
    )


# --- challenge ---------------------------------------------------------------------------


def parse_siwe(message: str) -> SiweMessage:
    """The reference EIP-4361 parser (the `siwe` package's ABNF grammar), not our own code."""
    return SiweMessage.from_message(message, abnf=True)


def message_fields(message: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in message.splitlines() if ": " in line)


def test_evm_challenge_is_an_eip_4361_message_naming_the_console(
    http: httpx.Client, server: ServerProcess
) -> None:
    """The domain a wallet checks against the asking site is the console's own host."""
    wallet = EvmWallet()
    issued = challenge(http, wallet, address=wallet.address.lower())
    parsed = parse_siwe(issued["message"])
    assert parsed.domain == urlsplit(server.base_url).netloc  # console URL = public URL here
    assert parsed.uri == server.base_url
    assert (parsed.version, parsed.chain_id) == ("1", 1)
    assert parsed.nonce == uuid.UUID(issued["nonce"]).hex
    assert parsed.address == wallet.address  # EIP-55 even when asked in lower case
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert stamp.fullmatch(parsed.issued_at) and stamp.fullmatch(parsed.expiration_time)
    issued_at, expires_at = (
        datetime.fromisoformat(value) for value in (parsed.issued_at, parsed.expiration_time)
    )
    assert expires_at - issued_at == timedelta(minutes=5)
    assert abs(issued_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_console_url_and_chain_id_come_from_configuration(
    make_server: Callable[..., ServerProcess],
) -> None:
    console = "https://console.example.com:8443/app"
    server = make_server(env={"TRIPORT_CONSOLE_URL": console, "TRIPORT_WALLET_CHAIN_ID": "137"})
    with httpx.Client(base_url=server.base_url, timeout=15) as http:
        evm, solana = EvmWallet(), SolanaWallet()
        parsed = parse_siwe(challenge(http, evm)["message"])
        assert (parsed.domain, parsed.uri, parsed.chain_id) == (
            "console.example.com:8443",
            console,
            137,
        )
        assert sign_in(http, evm).status_code == 200
        message = challenge(http, solana)["message"]
        assert message.startswith("console.example.com:8443 wants you to sign in")
        assert message_fields(message)["Chain ID"] == "mainnet"  # the EVM setting only


def test_solana_challenge_is_a_sign_in_with_solana_message(
    http: httpx.Client, server: ServerProcess
) -> None:
    wallet = SolanaWallet()
    issued = challenge(http, wallet)
    lines = issued["message"].splitlines()
    domain = urlsplit(server.base_url).netloc
    assert lines[:3] == [
        f"{domain} wants you to sign in with your Solana account:",
        wallet.address,
        "",
    ]
    assert lines[4:9] == [
        "",
        f"URI: {server.base_url}",
        "Version: 1",
        "Chain ID: mainnet",
        f"Nonce: {uuid.UUID(issued['nonce']).hex}",
    ]
    fields = message_fields(issued["message"])
    times = [datetime.fromisoformat(fields[k]) for k in ("Issued At", "Expiration Time")]
    assert times[1] - times[0] == timedelta(minutes=5)


def test_each_challenge_has_a_new_nonce(http: httpx.Client) -> None:
    wallet = EvmWallet()
    assert challenge(http, wallet)["nonce"] != challenge(http, wallet)["nonce"]


@pytest.mark.parametrize(
    "body",
    [
        {"chain": "evm", "address": "0x" + "ab" * 19},
        {"chain": "evm", "address": "ab" * 20},
        {"chain": "evm", "address": "0x" + "g" * 40},
        {"chain": "evm", "address": 42},
        {"chain": "evm"},
        {"chain": "solana", "address": base58.b58encode(b"\x01" * 31).decode()},
        {"chain": "solana", "address": base58.b58encode(b"\x01" * 33).decode()},
        {"chain": "solana", "address": "0OIl" + "1" * 40},
        {"chain": "solana", "address": "0x" + "ab" * 20},
        {"chain": "bitcoin", "address": "0x" + "ab" * 20},
        {"chain": "EVM", "address": "0x" + "ab" * 20},
        {"address": "0x" + "ab" * 20},
        {"chain": None, "address": "0x" + "ab" * 20},
    ],
)
def test_bad_address_or_unknown_chain_is_invalid_address(
    http: httpx.Client, body: dict[str, object]
) -> None:
    assert_error(http.post("/v1/auth/wallet/challenge", json=body), 400, "invalid_address")


@pytest.mark.parametrize("path", ["/v1/auth/wallet/challenge", "/v1/auth/wallet/verify"])
@pytest.mark.parametrize(
    "content", [b"{not json", b"[1, 2]", b'"text"', b'{"address": "' + b"a" * 5000 + b'"}']
)
def test_body_that_is_not_a_small_json_object_is_invalid_json(
    http: httpx.Client, path: str, content: bytes
) -> None:
    response = http.post(path, content=content, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize("path", ["/v1/auth/wallet/challenge", "/v1/auth/wallet/verify"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_not_allowed(http: httpx.Client, path: str, method: str) -> None:
    response = http.request(method, path)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("path", ["/v1/auth/wallet/challenge", "/v1/auth/wallet/verify"])
def test_foreign_origin_cannot_post_a_sign_in(http: httpx.Client, path: str) -> None:
    response = http.post(path, json={}, headers={"Origin": "https://evil.example"})
    assert_error(response, 403, "csrf_invalid")


# --- verify: success ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("v27", "prefix", "upper"),
    [(True, True, False), (False, False, False), (True, False, True), (False, True, True)],
)
def test_evm_signature_in_every_accepted_spelling_signs_in(
    http: httpx.Client, v27: bool, prefix: bool, upper: bool
) -> None:
    wallet = EvmWallet()
    issued = challenge(http, wallet)
    response = verify(
        http,
        issued["nonce"],
        wallet,
        wallet.sign(issued["message"], v27=v27, prefix=prefix, upper=upper),
    )
    assert response.status_code == 200, response.text
    assert response.json()["user"]["email"] is None
    cookies = set_cookies(response)
    assert "httponly" in cookies["nl_session"] and "httponly" not in cookies["nl_csrf"]
    me = http.get("/v1/auth/me").json()
    assert (me["provider"], me["user"]["id"]) == ("wallet", response.json()["user"]["id"])


@pytest.mark.parametrize("encoding", SOLANA_ENCODINGS)
def test_solana_signature_in_every_accepted_encoding_signs_in(
    http: httpx.Client, encoding: str
) -> None:
    wallet = SolanaWallet()
    issued = challenge(http, wallet)
    response = verify(http, issued["nonce"], wallet, wallet.sign(issued["message"], encoding))
    assert response.status_code == 200, response.text
    assert http.get("/v1/auth/me").json()["provider"] == "wallet"


def test_evm_address_case_does_not_matter_anywhere(http: httpx.Client) -> None:
    wallet = EvmWallet()
    first = sign_in(http, wallet).json()["user"]["id"]
    issued = challenge(http, wallet, address=wallet.address.upper().replace("0X", "0x"))
    again = verify(
        http,
        issued["nonce"],
        wallet,
        wallet.sign(issued["message"]),
        address=wallet.address.lower(),
    )
    assert again.status_code == 200, again.text
    assert again.json()["user"]["id"] == first


def test_the_same_wallet_signs_in_to_the_same_account_and_other_wallets_do_not(
    http: httpx.Client,
) -> None:
    solana = SolanaWallet()
    first = sign_in(http, solana).json()["user"]["id"]
    assert sign_in(http, solana).json()["user"]["id"] == first
    assert sign_in(http, SolanaWallet()).json()["user"]["id"] != first
    assert sign_in(http, EvmWallet()).json()["user"]["id"] != first


@pytest.mark.parametrize("wallet_type", [EvmWallet, SolanaWallet])
def test_logout_ends_a_wallet_session(http: httpx.Client, wallet_type: type[Wallet]) -> None:
    sign_in(http, wallet_type())
    token = http.cookies["nl_session"]
    assert http.get("/v1/auth/me").status_code == 200
    logout = http.post("/v1/auth/logout", headers={"X-CSRF-Token": http.cookies["nl_csrf"]})
    assert logout.json() == {"ok": True}
    assert set_cookies(logout)["nl_session"]["max-age"] == "0"
    with httpx.Client(base_url=http.base_url, cookies={"nl_session": token}) as replay:
        assert_error(replay.get("/v1/auth/me"), 401, "unauthenticated")


def test_a_failed_verify_does_not_burn_the_nonce(http: httpx.Client) -> None:
    wallet = EvmWallet()
    issued = challenge(http, wallet)
    assert_error(verify(http, issued["nonce"], wallet, "0x1234"), 400, "invalid_signature")
    assert verify(http, issued["nonce"], wallet, wallet.sign(issued["message"])).status_code == 200


# --- verify: errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "nonce", ["5d41402a-bc4b-4a76-b971-9d911017c592", "not-a-uuid", "", 7, None]
)
def test_unknown_or_malformed_nonce_is_invalid_nonce(http: httpx.Client, nonce: object) -> None:
    wallet = EvmWallet()
    assert_error(verify(http, nonce, wallet, "0x" + "00" * 65), 400, "invalid_nonce")


def test_used_nonce_is_invalid_nonce(http: httpx.Client) -> None:
    wallet = SolanaWallet()
    issued = challenge(http, wallet)
    signature = wallet.sign(issued["message"])
    assert verify(http, issued["nonce"], wallet, signature).status_code == 200
    assert_error(verify(http, issued["nonce"], wallet, signature), 400, "invalid_nonce")


def test_expired_nonce_is_invalid_nonce(http: httpx.Client, database_url: str) -> None:
    wallet = EvmWallet()
    issued = challenge(http, wallet)
    expire(database_url, issued["nonce"])
    response = verify(http, issued["nonce"], wallet, wallet.sign(issued["message"]))
    assert_error(response, 400, "invalid_nonce")


@pytest.mark.parametrize(
    "override",
    [
        {"address": EvmWallet().address},  # another well-formed address
        {"address": "0x1234"},  # not an address at all
        {"chain": "solana"},
        {"chain": "bitcoin"},
    ],
)
def test_address_or_chain_differing_from_the_challenge_is_address_mismatch(
    http: httpx.Client, override: dict[str, str]
) -> None:
    wallet = EvmWallet()
    issued = challenge(http, wallet)
    response = verify(http, issued["nonce"], wallet, wallet.sign(issued["message"]), **override)
    assert_error(response, 400, "address_mismatch")


def test_solana_challenge_answered_for_another_chain_is_address_mismatch(
    http: httpx.Client,
) -> None:
    wallet = SolanaWallet()
    issued = challenge(http, wallet)
    response = verify(http, issued["nonce"], wallet, wallet.sign(issued["message"]), chain="evm")
    assert_error(response, 400, "address_mismatch")


def test_evm_signature_by_another_key_is_address_mismatch(http: httpx.Client) -> None:
    wallet, intruder = EvmWallet(), EvmWallet()
    issued = challenge(http, wallet)
    response = verify(http, issued["nonce"], wallet, intruder.sign(issued["message"]))
    assert_error(response, 400, "address_mismatch")


def test_solana_signature_by_another_key_is_invalid_signature(http: httpx.Client) -> None:
    wallet, intruder = SolanaWallet(), SolanaWallet()
    issued = challenge(http, wallet)
    response = verify(http, issued["nonce"], wallet, intruder.sign(issued["message"]))
    assert_error(response, 400, "invalid_signature")


def test_signature_over_another_message_does_not_sign_in(http: httpx.Client) -> None:
    wallet = SolanaWallet()
    issued = challenge(http, wallet)
    forged = wallet.sign(issued["message"].replace("Nonce", "nonce"))
    assert_error(verify(http, issued["nonce"], wallet, forged), 400, "invalid_signature")


@pytest.mark.parametrize("wallet_type", [EvmWallet, SolanaWallet])
@pytest.mark.parametrize(
    "mangle",
    [
        lambda signature: signature[:-2],  # truncated
        lambda signature: signature[: len(signature) // 2],
        lambda _: "",
        lambda _: "not a signature at all",
        lambda _: "zz" * 65,
        lambda _: 12345,
        lambda _: ["0x00"],
    ],
)
def test_truncated_or_garbage_signature_is_invalid_signature(
    http: httpx.Client, wallet_type: type[Wallet], mangle: Callable[[str], object]
) -> None:
    wallet = wallet_type()
    issued = challenge(http, wallet)
    signature = mangle(wallet.sign(issued["message"]))
    assert_error(verify(http, issued["nonce"], wallet, signature), 400, "invalid_signature")


# --- concurrency -------------------------------------------------------------------------


def verify_at_once(
    clients: list[httpx.Client], nonce: str, wallet: Wallet, signature: str
) -> list[httpx.Response]:
    """The same verify from every client, released together by a barrier."""
    barrier = threading.Barrier(len(clients))

    def one(client: httpx.Client) -> httpx.Response:
        barrier.wait(10)
        return verify(client, nonce, wallet, signature)

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(one, clients))


def test_concurrent_verifies_of_one_nonce_create_exactly_one_session(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Two workers race to burn each nonce; one request wins, the other is invalid_nonce."""
    server = make_server(workers=2)
    rounds = 12
    with httpx.Client(base_url=server.base_url, timeout=15) as http:
        prepared = []
        for index in range(rounds):
            wallet: Wallet = EvmWallet() if index % 2 else SolanaWallet()
            issued = challenge(http, wallet)
            prepared.append((issued["nonce"], wallet, wallet.sign(issued["message"])))
    clients = [httpx.Client(base_url=server.base_url, timeout=15) for _ in range(2)]
    try:
        for nonce, wallet, signature in prepared:
            results = verify_at_once(clients, nonce, wallet, signature)
            statuses = sorted(response.status_code for response in results)
            assert statuses == [200, 400], [response.text for response in results]
            loser = next(response for response in results if response.status_code == 400)
            assert_error(loser, 400, "invalid_nonce")
            winner = next(response for response in results if response.status_code == 200)
            token = set_cookies(winner)["nl_session"]["value"]
            with httpx.Client(base_url=server.base_url, cookies={"nl_session": token}) as fresh:
                assert fresh.get("/v1/auth/me").json()["provider"] == "wallet"
    finally:
        for client in clients:
            client.close()


@pytest.mark.parametrize("wallet_type", [EvmWallet, SolanaWallet])
def test_sign_out_others_on_wallet_verify_ends_the_wallets_other_sessions(
    server: ServerProcess, wallet_type: type[Wallet]
) -> None:
    """Spec §2.9: a lost device is signed out by signing in again with the wallet."""
    wallet = wallet_type()
    with httpx.Client(base_url=server.base_url, timeout=15) as lost:
        sign_in(lost, wallet)
        lost_token = lost.cookies["nl_session"]
        assert "signed_out_others" not in sign_in(lost, wallet).json()  # replaced the first
        lost_token = lost.cookies["nl_session"]
    with httpx.Client(base_url=server.base_url, timeout=15) as recovering:
        issued = challenge(recovering, wallet)
        signature = wallet.sign(issued["message"])
        refused = verify(recovering, issued["nonce"], wallet, signature, sign_out_others="yes")
        assert_error(refused, 400, "invalid_request")
        response = verify(recovering, issued["nonce"], wallet, signature, sign_out_others=True)
        assert response.status_code == 200, response.text
        assert response.json()["signed_out_others"] == 1
        assert recovering.get("/v1/auth/me").status_code == 200
        sessions = recovering.get("/v1/auth/sessions").json()["sessions"]
        assert [(s["current"], s["provider"]) for s in sessions] == [(True, "wallet")]
    with httpx.Client(base_url=server.base_url, cookies={"nl_session": lost_token}) as replay:
        gone = replay.get("/v1/auth/me")
        assert_error(gone, 401, "unauthenticated")
        assert gone.json()["reason"] == "signed_out_everywhere"
