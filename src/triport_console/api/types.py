"""Typed request and response bodies of the contract (msgspec Structs).

Request bodies are decoded into these structures at the edge: msgspec checks that each field
has its JSON type (and that required fields are present), ignores unknown fields, and the edge
answers a failure with the error code the field names in its metadata (`invalid_email`, …).
Rules that apply after normalising a value (trimming a key name, lower-casing an address) stay
in the services, which read the same limits from `limits.py`; the `extra_json_schema` here only
publishes those limits in the OpenAPI document.

Response bodies are built as these structures and encoded by msgspec.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_type_hints

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from ..errors import ErrorCode
from ..limits import (
    LOGIN_CODE_PATTERN,
    MAX_EMAIL,
    MAX_KEY_NAME,
    MAX_SCOPES,
    SCOPES,
    Chain,
    Provider,
)
from ..models import EventType
from ..tokens import API_KEY_PATTERN, API_KEY_PREFIX_PATTERN


def field(code: ErrorCode, description: str, **schema: Any) -> Meta:
    """A request field: the code a bad value answers with, and its documented limits."""
    return Meta(extra={"error": code}, description=description, extra_json_schema=schema)


def field_codes(struct: type[Struct]) -> dict[str, tuple[Any, ErrorCode]]:
    """name → (annotated type, error code) for each field of a request body, in order."""
    fields = {}
    for name, annotated in get_type_hints(struct, include_extras=True).items():
        codes = [
            meta.extra["error"]
            for meta in getattr(annotated, "__metadata__", ())
            if isinstance(meta, Meta) and meta.extra and "error" in meta.extra
        ]
        if len(codes) != 1:
            raise TypeError(f"{struct.__name__}.{name} must name exactly one error code")
        fields[name] = (annotated, codes[0])
    return fields


def doc(description: str, **schema: Any) -> Meta:
    return Meta(description=description, extra_json_schema=schema)


Uuid = Annotated[str, Meta(extra_json_schema={"format": "uuid"})]
# Always true when present (`{"ok": true}`); `const` rather than a one-value enum, which
# generated clients handle better.
AlwaysTrue = Annotated[bool, Meta(extra_json_schema={"const": True})]
Timestamp = Annotated[str, doc("RFC 3339 UTC with Z", format="date-time")]
RawKey = Annotated[
    str, doc("The full key secret; shown in this response only", pattern=f"^{API_KEY_PATTERN}$")
]


# Request bodies ------------------------------------------------------------------------------
# Every sign-in's optional flag; `null` means no.
SignOutOthers = Annotated[
    bool | None,
    field(
        ErrorCode.INVALID_REQUEST,
        "true: end every other live session of the user in the same transaction (spec 2.9)",
    ),
]


class EmailStartRequest(Struct):
    email: Annotated[
        str,
        field(
            ErrorCode.INVALID_EMAIL,
            "One plain mailbox local@domain; trimmed and lower-cased before it is checked",
            format="email",
            maxLength=MAX_EMAIL,
        ),
    ]


class EmailVerifyRequest(Struct):
    request_id: Annotated[
        str, field(ErrorCode.INVALID_REQUEST, "The id email/start returned", format="uuid")
    ]
    code: Annotated[
        str,
        field(
            ErrorCode.INVALID_CODE, "The 6 digits from the email", pattern=f"^{LOGIN_CODE_PATTERN}$"
        ),
    ]
    sign_out_others: SignOutOthers = None


_ADDRESS = "EVM: 0x + 40 hex digits, any case. Solana: a base58 public key (32 bytes)"


class WalletChallengeRequest(Struct):
    address: Annotated[str, field(ErrorCode.INVALID_ADDRESS, _ADDRESS)]
    chain: Annotated[Chain, field(ErrorCode.INVALID_ADDRESS, "The address's chain")]


class WalletVerifyRequest(Struct):
    nonce: Annotated[str, field(ErrorCode.INVALID_NONCE, "The challenge's nonce", format="uuid")]
    address: Annotated[str, field(ErrorCode.ADDRESS_MISMATCH, _ADDRESS)]
    chain: Annotated[Chain, field(ErrorCode.ADDRESS_MISMATCH, "The address's chain")]
    signature: Annotated[
        str,
        field(
            ErrorCode.INVALID_SIGNATURE,
            "EVM: 65-byte R||S||V hex, 0x optional, V 27/28 or 0/1, over the EIP-191 "
            "personal_sign hash of the message. Solana: 64-byte ed25519 signature of the "
            "message bytes as hex, base58 or base64 (standard or URL-safe, padding optional)",
        ),
    ]
    sign_out_others: SignOutOthers = None


ScopeName = Annotated[str, Meta(extra_json_schema={"enum": sorted(SCOPES)})]


class CreateKeyRequest(Struct):
    name: Annotated[
        str,
        field(
            ErrorCode.INVALID_NAME,
            "Trimmed; one line of text",
            minLength=1,
            maxLength=MAX_KEY_NAME,
        ),
    ]
    scopes: Annotated[
        list[ScopeName] | None,
        field(
            ErrorCode.INVALID_SCOPE,
            'Omitted, null or empty means ["*"]; duplicates are removed',
            maxItems=MAX_SCOPES,
        ),
    ] = None
    rate_limit: Annotated[
        int | None, field(ErrorCode.INVALID_RATE_LIMIT, "Negative values are stored as 0")
    ] = None


class PasskeyRegisterRequest(Struct):
    # `Any`, not a dict: a credential of another JSON type is the service's `invalid_credential`
    # (py_webauthn parses it), the same code as one that does not verify.
    credential: Annotated[
        Any,
        field(
            ErrorCode.INVALID_CREDENTIAL,
            "RegistrationResponseJSON (PublicKeyCredential.toJSON())",
            type="object",
        ),
    ]
    name: Annotated[
        str | None,
        field(
            ErrorCode.INVALID_NAME,
            'A label for the passkey; trimmed; omitted or null → "Passkey"',
            minLength=1,
            maxLength=MAX_KEY_NAME,
        ),
    ] = None


class PasskeySignInRequest(Struct):
    credential: Annotated[
        Any,
        field(
            ErrorCode.INVALID_CREDENTIAL,
            "AuthenticationResponseJSON (PublicKeyCredential.toJSON())",
            type="object",
        ),
    ]
    sign_out_others: SignOutOthers = None


# Response bodies -----------------------------------------------------------------------------
class Ok(Struct):
    """Done."""

    ok: AlwaysTrue = True


class User(Struct):
    """A user account."""

    id: Uuid
    email: str | None
    display_name: str | None
    avatar_url: str | None
    created_at: Timestamp
    updated_at: Timestamp


KeyStatus = Literal["active", "revoked"]


class Key(Struct):
    """An API key, without its secret."""

    id: Uuid
    name: str
    key_prefix: Annotated[str, Meta(extra_json_schema={"pattern": f"^{API_KEY_PREFIX_PATTERN}$"})]
    scopes: list[ScopeName]
    rate_limit: Annotated[int, Meta(ge=0)]
    status: KeyStatus
    created_at: Timestamp
    last_used_at: Annotated[str | None, doc("RFC 3339 UTC with Z; null until first used")]
    is_default: bool


class DefaultKey(Key):
    """The default key as /me shows it: `raw` and `created` only in the response that made it."""

    raw: RawKey | UnsetType = UNSET
    created: AlwaysTrue | UnsetType = UNSET


class Me(Struct):
    """The live session's account, its sign-in method and its default key."""

    user: User
    provider: Provider
    default_key: DefaultKey


class SignedIn(Struct):
    """Signed in: nl_session and nl_csrf are set."""

    user: User
    signed_out_others: (
        Annotated[int, doc("Only with sign_out_others: how many other sessions ended", ge=0)]
        | UnsetType
    ) = UNSET


class EmailStarted(Struct):
    """The code is on its way (the same answer for known and new addresses)."""

    request_id: Uuid


class WalletChallenge(Struct):
    """The message to sign, valid 5 minutes."""

    nonce: Uuid
    message: Annotated[str, doc("Sign these exact bytes (EIP-4361 / Sign-In-With-Solana text)")]


class KeyList(Struct):
    """The keys, newest first, without secrets."""

    keys: list[Key]


class CreatedKey(Struct):
    """The new key and, this once, its secret."""

    raw: RawKey
    key: Key


class RotatedKey(Struct):
    """The old key is revoked; the new one, shown with its secret this once, is active."""

    old_id: Uuid
    new: Key
    raw: RawKey


class Passkey(Struct):
    """A WebAuthn passkey of the user (never its credential id or public key)."""

    id: Uuid
    name: str
    created_at: Timestamp
    last_used_at: Annotated[str | None, doc("RFC 3339 UTC with Z; null until first used")]


class PasskeyList(Struct):
    """The passkeys, newest first."""

    passkeys: list[Passkey]


class AddedPasskey(Struct):
    """The passkey just added."""

    passkey: Passkey


class PasskeyOptions(Struct):
    """WebAuthn options for the browser (binary fields base64url); the challenge is
    single-use and valid 5 minutes."""

    options: Annotated[
        dict[str, Any],
        doc(
            "PublicKeyCredentialCreationOptionsJSON (registration) or "
            "PublicKeyCredentialRequestOptionsJSON (sign-in)"
        ),
    ]


class Session(Struct):
    """One of the user's live sessions (spec 2.9)."""

    id: Annotated[str, doc("The row's public id (never the token)", format="uuid")]
    current: Annotated[bool, doc("The session making this request")]
    provider: Provider
    created_at: Timestamp
    last_seen_at: Annotated[str, doc("Updated at most every 5 minutes", format="date-time")]
    expires_at: Timestamp
    ip: Annotated[str | None, doc("The client address at sign-in or the latest last_seen_at")]
    user_agent: Annotated[str | None, doc("At most 512 characters")]
    device: Annotated[str | None, doc('A short label such as "Chrome on macOS"')]


class SessionList(Struct):
    """The live sessions: the current one first, then newest first."""

    sessions: list[Session]


class Revoked(Struct):
    """How many other sessions were ended."""

    revoked: Annotated[int, Meta(ge=0)]


class Event(Struct):
    """An account activity event; the references appear only when the event has them."""

    id: Uuid
    type: EventType
    at: Timestamp
    ip: str | None
    user_agent: str | None
    device: str | None
    provider: Provider | UnsetType = UNSET
    session_id: Uuid | UnsetType = UNSET
    key_id: Uuid | UnsetType = UNSET
    passkey_id: Uuid | UnsetType = UNSET


class ActivityPage(Struct):
    """A page of events, newest first."""

    events: list[Event]
    next: Annotated[str | None, doc("The cursor for ?before= of the next page; null at the end")]


class Readiness(Struct):
    """The database answers."""

    ok: AlwaysTrue
    database: Literal["up"]


class ConsoleConfig(Struct):
    """What the console page should offer."""

    google_enabled: bool


class Error(Struct):
    """The error envelope of spec 1.1."""

    error: Annotated[str, doc("Stable machine code (see the error table)", pattern="^[a-z_]+$")]
    message: Annotated[str, doc("Human text from the error table; safe to show and log")]
    request_id: Annotated[str, doc("Also in the X-Request-Id header and the server log")]
    retry_after: Annotated[int, Meta(ge=1, description="Seconds; only with rate_limited")] | (
        UnsetType
    ) = UNSET
    reason: (
        Annotated[
            Literal[
                "signed_out", "revoked", "signed_out_everywhere", "replaced", "admin", "expired"
            ],
            doc("Only with unauthenticated, for a known token that is no longer live (spec 2.10)"),
        ]
        | UnsetType
    ) = UNSET


ENCODER = msgspec.json.Encoder()
