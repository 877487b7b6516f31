"""A software WebAuthn authenticator for tests: it answers the server's options the way a
browser plus a passkey provider would, as RegistrationResponseJSON / AuthenticationResponseJSON.

Test code only (the server never decodes CBOR or COSE itself; py_webauthn does). It builds
"none" attestations and ES256 assertions with `cbor2` and `cryptography`, and lets a test lie
where an attacker would: another origin (a phishing page), another RP id, an old counter.
The maintained `soft-webauthn` package targets fido2 < 1.0 and was last released in 2022, so
this small class stands in for it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


class SoftAuthenticator:
    """A platform authenticator holding discoverable ES256 credentials.

    `keep_counter=False` behaves like synced passkeys (the counter stays 0); otherwise every
    assertion increases it by one.
    """

    def __init__(self, origin: str, *, keep_counter: bool = True) -> None:
        self.origin = origin
        self.keep_counter = keep_counter
        self.credentials: list[SoftCredential] = []

    # navigator.credentials.create() -----------------------------------------------------------
    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        credential_id: bytes | None = None,
    ) -> dict[str, Any]:
        """A RegistrationResponseJSON for PublicKeyCredentialCreationOptionsJSON `options`."""
        rp = rp_id or options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        credential = SoftCredential(
            credential_id=credential_id or secrets.token_bytes(32),
            private_key=key,
            rp_id=rp,
            user_handle=from_b64url(options["user"]["id"]),
        )
        numbers = key.public_key().public_numbers()
        cose_key = cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        attested = (
            bytes(16)  # AAGUID: none
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + cose_key
        )
        auth_data = self._auth_data(rp, UP | UV | AT, 0) + attested
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        self.credentials.append(credential)
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    # navigator.credentials.get() --------------------------------------------------------------
    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        credential: SoftCredential | None = None,
        sign_count: int | None = None,
    ) -> dict[str, Any]:
        """An AuthenticationResponseJSON: the newest discoverable credential for the RP unless
        `credential` names one; `sign_count` overrides the counter (a cloned authenticator)."""
        if credential is None:
            matching = [c for c in self.credentials if c.rp_id == options["rpId"]]
            if not matching:
                raise LookupError(f"no credential for RP {options['rpId']!r}")
            credential = matching[-1]
        if sign_count is None:
            if self.keep_counter:
                credential.sign_count += 1
            sign_count = credential.sign_count
        auth_data = self._auth_data(rp_id or credential.rp_id, UP | UV, sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = credential.private_key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(credential.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            },
            separators=(",", ":"),
        ).encode()

    @staticmethod
    def _auth_data(rp_id: str, flags: int, sign_count: int) -> bytes:
        return (
            hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)
        )
