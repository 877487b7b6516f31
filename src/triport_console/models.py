"""Plain records passed between the store, the services and the edge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str | None
    display_name: str | None
    avatar_url: str | None
    provider: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    user_id: str
    name: str
    key_prefix: str
    scopes: tuple[str, ...]
    rate_limit: int
    status: str
    is_default: bool
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session row that is live now, with its user and the user's active default key."""

    token_hash: bytes
    csrf_hash: bytes
    user: User
    created_at: datetime
    expires_at: datetime
    default_key: ApiKey | None


@dataclass(frozen=True, slots=True)
class Identity:
    """Who signed in: (provider, subject) is unique; email links providers to one account."""

    provider: str  # "email" | "google" | "wallet"
    subject: str  # the address, the OpenID `sub`, or "chain:canonical-address"
    email: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None


@dataclass(frozen=True, slots=True)
class NewSession:
    token_hash: bytes
    csrf_hash: bytes
    created_at: datetime
    expires_at: datetime
    replaces: bytes | None = None  # token hash of the cookie the browser sent, revoked on login


@dataclass(frozen=True, slots=True)
class NewApiKey:
    id: str
    name: str
    key_prefix: str
    key_hash: bytes
    scopes: tuple[str, ...]
    rate_limit: int
    is_default: bool
    created_at: datetime

    def issued_to(self, user_id: str) -> ApiKey:
        """The row as it stands right after its insert: active, never used."""
        return ApiKey(
            id=self.id,
            user_id=user_id,
            name=self.name,
            key_prefix=self.key_prefix,
            scopes=self.scopes,
            rate_limit=self.rate_limit,
            status="active",
            is_default=self.is_default,
            created_at=self.created_at,
            last_used_at=None,
        )


@dataclass(frozen=True, slots=True)
class LoginCode:
    request_id: str
    email: str
    code_mac: bytes
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class WalletChallenge:
    """A sign-in message issued to one (chain, canonical address); the nonce is single-use."""

    nonce: str
    chain: str
    address: str
    message: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Passkey:
    """A WebAuthn credential registered to a user (spec §2.12)."""

    id: str
    user_id: str
    credential_id: bytes
    public_key: bytes  # COSE_Key bytes, as the authenticator sent them at registration
    sign_count: int  # the highest signature counter seen; 0 while the authenticator keeps none
    transports: tuple[str, ...]
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class PasskeyChallenge:
    """A single-use WebAuthn challenge, kept as its SHA-256 only."""

    challenge_hash: bytes
    purpose: str  # "register" (bound to `user_id`) | "sign_in" (user_id None)
    user_id: str | None
    created_at: datetime
    expires_at: datetime
