"""Property tests for wallet address and signature decoding (spec 2.5/2.6).

Keys are real: EVM keys are signed with eth-keys' pure-Python backend (independent of the
libsecp256k1 recovery under test), Solana keys with ``cryptography``'s ed25519.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import base58
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.wallet_keys import (
    SECP256K1_N,
    SOLANA_ENCODINGS,
    EvmWallet,
    SolanaWallet,
    encode_signature,
)
from triport_console import wallets
from triport_console.wallets import (
    AddressMismatch,
    InvalidAddress,
    InvalidSignature,
    canonical_address,
    challenge_message,
    personal_sign_hash,
    verify_signature,
)

evm_wallets = st.integers(min_value=1, max_value=SECP256K1_N - 1).map(
    lambda n: EvmWallet(n.to_bytes(32, "big"))
)
solana_wallets = st.binary(min_size=32, max_size=32).map(SolanaWallet)
messages = st.text(max_size=300)


# --- addresses ---------------------------------------------------------------------------


@given(st.binary(min_size=20, max_size=20), st.lists(st.booleans(), min_size=40, max_size=40))
def test_evm_address_in_any_case_canonicalises_to_lower_case(raw: bytes, upper: list[bool]) -> None:
    digits = "".join(c.upper() if u else c for c, u in zip(raw.hex(), upper, strict=True))
    assert canonical_address("evm", "0x" + digits) == "0x" + raw.hex()


@given(st.text(max_size=50))
def test_evm_address_must_be_0x_and_40_hex_digits(text: str) -> None:
    is_address = (
        len(text) == 42
        and text.startswith("0x")
        and all(c in "0123456789abcdefABCDEF" for c in text[2:])
    )
    if is_address:
        assert canonical_address("evm", text) == text.lower()
    else:
        with pytest.raises(InvalidAddress):
            canonical_address("evm", text)


@given(st.binary(min_size=32, max_size=32))
def test_solana_address_of_32_bytes_is_its_own_canonical_form(raw: bytes) -> None:
    address = base58.b58encode(raw).decode()
    assert canonical_address("solana", address) == address


@given(st.binary(max_size=48).filter(lambda b: len(b) != 32))
def test_solana_address_of_other_lengths_is_rejected(raw: bytes) -> None:
    with pytest.raises(InvalidAddress):
        canonical_address("solana", base58.b58encode(raw).decode())


@pytest.mark.parametrize("bad", ["0", "O", "I", "l", "+", "é"])
def test_solana_address_with_characters_outside_base58_is_rejected(bad: str) -> None:
    address = base58.b58encode(b"\x07" * 32).decode()
    with pytest.raises(InvalidAddress):
        canonical_address("solana", address[:10] + bad + address[11:])


@pytest.mark.parametrize("chain", ["bitcoin", "", "EVM", None, 1])
def test_unknown_chain_is_an_invalid_address(chain: object) -> None:
    with pytest.raises(InvalidAddress):
        canonical_address(chain, "0x" + "ab" * 20)


@pytest.mark.parametrize("address", [None, 42, ["0x" + "ab" * 20], "0x" + "ab" * 200])
def test_non_string_or_overlong_address_is_rejected(address: object) -> None:
    with pytest.raises(InvalidAddress):
        canonical_address("evm", address)


# --- EVM signatures ----------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(evm_wallets, messages, st.booleans(), st.booleans(), st.booleans())
def test_evm_signature_verifies_in_every_accepted_spelling(
    wallet: EvmWallet, message: str, v27: bool, prefix: bool, upper: bool
) -> None:
    signature = wallet.sign(message, v27=v27, prefix=prefix, upper=upper)
    verify_signature("evm", canonical_address("evm", wallet.address), message, signature)


@settings(max_examples=25, deadline=None)
@given(evm_wallets, evm_wallets, messages)
def test_evm_signature_by_another_key_is_an_address_mismatch(
    signer: EvmWallet, claimed: EvmWallet, message: str
) -> None:
    if claimed.address == signer.address:
        return
    with pytest.raises(AddressMismatch):
        verify_signature("evm", claimed.address.lower(), message, signer.sign(message))


@settings(max_examples=25, deadline=None)
@given(evm_wallets, messages, messages)
def test_evm_signature_over_another_message_is_an_address_mismatch(
    wallet: EvmWallet, signed: str, presented: str
) -> None:
    if signed == presented:
        return
    with pytest.raises(AddressMismatch):
        verify_signature("evm", wallet.address.lower(), presented, wallet.sign(signed))


@settings(max_examples=25, deadline=None)
@given(evm_wallets, st.integers(min_value=0, max_value=131))
def test_truncated_evm_signature_is_invalid(wallet: EvmWallet, keep: int) -> None:
    with pytest.raises(InvalidSignature):
        verify_signature("evm", wallet.address.lower(), "hello", wallet.sign("hello")[:keep])


@settings(max_examples=25, deadline=None)
@given(
    evm_wallets, st.integers(min_value=0, max_value=255).filter(lambda v: v not in (0, 1, 27, 28))
)
def test_evm_signature_with_another_v_is_invalid(wallet: EvmWallet, v: int) -> None:
    raw = wallet.raw_signature("hello")[:64] + bytes([v])
    with pytest.raises(InvalidSignature):
        verify_signature("evm", wallet.address.lower(), "hello", raw.hex())


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "0x",
        "zz" * 65,
        "0x" + "00" * 65,  # r = s = 0: parses, recovers nothing
        "ff" * 64 + "1b",  # r, s above the group order
        "0x" + "ab" * 66,
        " " + "ab" * 65,
    ],
)
def test_garbage_evm_signature_is_invalid(signature: str) -> None:
    with pytest.raises(InvalidSignature):
        verify_signature("evm", "0x" + "ab" * 20, "hello", signature)


@pytest.mark.parametrize("signature", [None, 7, ["ab"], {"r": 1}])
def test_non_string_signature_is_invalid(signature: object) -> None:
    for chain, address in (("evm", "0x" + "ab" * 20), ("solana", "1" * 32)):
        with pytest.raises(InvalidSignature):
            verify_signature(chain, address, "hello", signature)


def test_personal_sign_hash_matches_the_eip_191_reference() -> None:
    # Digest of personal_sign("hello") as produced by geth / ethers.hashMessage("hello").
    assert personal_sign_hash(b"hello").hex() == (
        "50b2c43fd39106bafbba0da34fc430e1f91e3c96ea2acee2bc34119f92b37750"
    )


# --- Solana signatures -------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(solana_wallets, messages, st.sampled_from(SOLANA_ENCODINGS))
def test_solana_signature_verifies_in_every_accepted_encoding(
    wallet: SolanaWallet, message: str, encoding: str
) -> None:
    verify_signature("solana", wallet.address, message, wallet.sign(message, encoding))


@given(st.binary(min_size=64, max_size=64))
def test_every_encoding_of_64_bytes_decodes_back_to_them(raw: bytes) -> None:
    for encoding in SOLANA_ENCODINGS:
        assert raw in wallets.solana_signature_candidates(encode_signature(raw, encoding))


@settings(max_examples=25, deadline=None)
@given(solana_wallets, solana_wallets, messages)
def test_solana_signature_by_another_key_is_invalid(
    signer: SolanaWallet, claimed: SolanaWallet, message: str
) -> None:
    if claimed.address == signer.address:
        return
    with pytest.raises(InvalidSignature):
        verify_signature("solana", claimed.address, message, signer.sign(message, "hex"))


@settings(max_examples=25, deadline=None)
@given(solana_wallets, st.integers(min_value=1, max_value=63))
def test_truncated_solana_signature_is_invalid(wallet: SolanaWallet, keep: int) -> None:
    raw = wallet.raw_signature("hello")[:keep]
    for encoding in SOLANA_ENCODINGS:
        with pytest.raises(InvalidSignature):
            verify_signature("solana", wallet.address, "hello", encode_signature(raw, encoding))


@given(st.text(max_size=120))
def test_arbitrary_text_never_crashes_solana_verification(text: str) -> None:
    with pytest.raises(InvalidSignature):
        verify_signature("solana", SolanaWallet(b"\x01" * 32).address, "hello", text)


def test_mixed_base64_alphabets_are_not_a_signature() -> None:
    encoded = encode_signature(bytes(range(64)), "base64")
    assert "+" in encoded or "/" in encoded
    assert wallets.solana_signature_candidates(encoded.replace("A", "-", 1)) == []


# --- challenge text ----------------------------------------------------------------------


def test_challenge_message_names_domain_address_nonce_and_times_in_utc() -> None:
    issued = datetime(2026, 5, 29, 12, 14, 2, 999, tzinfo=timezone(timedelta(hours=2)))
    message = challenge_message(
        "api.triport.io",
        "evm",
        "0x" + "ab" * 20,
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        issued,
        issued + wallets.CHALLENGE_LIFETIME,
    )
    assert message.splitlines() == [
        "api.triport.io wants you to sign in with your Ethereum account:",
        "0x" + "ab" * 20,
        "",
        "Sign in to the Triport console. This request will not trigger a blockchain "
        "transaction or cost any fees.",
        "",
        "Nonce: 0f8fad5b-d9cb-469f-a165-70867728950e",
        "Issued At: 2026-05-29T10:14:02Z",
        "Expiration Time: 2026-05-29T10:19:02Z",
    ]


def test_challenge_message_for_solana_says_solana() -> None:
    now = datetime.now(UTC)
    message = challenge_message("localhost:8000", "solana", "addr", "n", now, now)
    assert message.startswith("localhost:8000 wants you to sign in with your Solana account:\n")


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError):
        wallets.rfc3339(datetime(2026, 1, 1))


_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@settings(max_examples=25, deadline=None)
@given(evm_wallets, messages)
def test_evm_high_s_twin_of_a_valid_signature_is_refused(wallet: EvmWallet, message: str) -> None:
    """Issue 12: (r, n - s, v ^ 1) recovers the same key. Real wallets sign low-S (EIP-2), so
    the malleable high-S spelling is refused and each signature has one accepted form."""
    raw = wallet.raw_signature(message)
    s = int.from_bytes(raw[32:64], "big")
    assert s <= _N // 2  # what a real signer produces
    twin = raw[:32] + (_N - s).to_bytes(32, "big") + bytes([(raw[64] ^ 1) + 27])
    with pytest.raises(InvalidSignature):
        verify_signature("evm", wallet.address.lower(), message, "0x" + twin.hex())
    verify_signature("evm", wallet.address.lower(), message, wallet.sign(message))
