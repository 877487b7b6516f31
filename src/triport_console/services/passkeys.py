"""Passkeys (spec §2.12): WebAuthn registration from the console, and sign-in with a passkey.

The ceremonies' options and the verification of the authenticator's answers come from
py_webauthn (`webauthn` on PyPI); nothing here decodes CBOR or COSE. What this module adds is
the contract's rules around it:

- The RP id is the console URL's host; the accepted origins are the console's origin and the
  configured console origins, so a response made for any other site (a phishing page) fails.
- Every ceremony's challenge is 32 random bytes, valid 5 minutes, single-use. Only its SHA-256
  is stored; the challenge comes back inside the signed clientDataJSON and is looked up by hash.
  A registration challenge is bound to the account that asked for it. A success burns the
  challenge in the same transaction that adds the passkey or creates the session; a failed
  verification leaves it usable (as for wallet nonces), so a stray bad request cannot cancel a
  ceremony in progress, and no challenge ever yields two successes.
- The signature counter must grow whenever the authenticator keeps one (both zero: a passkey
  provider that keeps none, as synced passkeys do); a counter that does not grow is refused as
  a sign of a cloned authenticator.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..config import Settings
from ..errors import ErrorCode, InvalidChallenge, InvalidCredential, InvalidInput, NotFound
from ..models import NO_CLIENT, ClientInfo, Passkey, PasskeyChallenge, User
from ..store import PasskeyRemoval, Store
from .api_keys import key_id, key_name
from .sessions import IssuedSession, SessionService, SignInContext, utcnow

T = TypeVar("T")
CHALLENGE_LIFETIME = timedelta(minutes=5)
RP_NAME = "Triport console"
DEFAULT_NAME = "Passkey"
_TRANSPORTS = {transport.value: transport for transport in AuthenticatorTransport}
# py_webauthn raises its own exceptions for malformed input, and a few plain ones (a bad
# base64url string, a wrong JSON type) that its parsers let through.
_REFUSED = (WebAuthnException, ValueError, TypeError, KeyError)


def console_relying_party(settings: Settings) -> tuple[str, list[str]]:
    """The RP id (the console URL's host) and the origins a response may come from."""
    console = urlsplit(settings.console_base)
    origin = f"{console.scheme}://{console.netloc}"
    return console.hostname or "", sorted({origin, *settings.allowed_origins})


def passkey_name(value: object) -> str:
    """Optional: omitted or null names the passkey "Passkey"; otherwise as a key name."""
    return DEFAULT_NAME if value is None else key_name(value)


def passkey_id(value: str) -> str:
    try:
        return key_id(value)
    except InvalidInput:
        raise InvalidInput(ErrorCode.INVALID_ID, "the passkey id must be a UUID") from None


def user_handle(user_id: str) -> bytes:
    """WebAuthn's user.id: the account's UUID bytes (opaque, no personal data)."""
    return uuid.UUID(user_id).bytes


def _challenge_of(client_data_json: bytes) -> bytes:
    return parse_client_data_json(client_data_json).challenge


class PasskeyService:
    def __init__(self, store: Store, sessions: SessionService, settings: Settings) -> None:
        self._store = store
        self._sessions = sessions
        self.rp_id, self.origins = console_relying_party(settings)

    async def _new_challenge(self, purpose: str, user_id: str | None) -> bytes:
        challenge = secrets.token_bytes(32)
        now = utcnow()
        await self._store.create_passkey_challenge(
            PasskeyChallenge(
                sha256_bytes(challenge), purpose, user_id, now, now + CHALLENGE_LIFETIME
            )
        )
        return challenge

    async def _live_challenge(
        self, client_data_json: bytes, purpose: str, user_id: str | None
    ) -> bytes:
        """The challenge the authenticator signed, if this service issued it and it is live."""
        try:
            challenge = _challenge_of(client_data_json)
        except _REFUSED:
            raise InvalidCredential("clientDataJSON is not valid") from None
        live = await self._store.passkey_challenge_live(
            sha256_bytes(challenge), purpose, user_id, utcnow()
        )
        if not live:
            raise InvalidChallenge("the challenge is unknown, expired or already used")
        return challenge

    # Registration (a signed-in user adds a passkey) -------------------------------------------
    async def registration_options(self, user: User) -> dict[str, Any]:
        existing = await self._store.list_passkeys(user.id)
        challenge = await self._new_challenge("register", user.id)
        label = user.email or user.display_name or f"Triport account {user.id[:8]}"
        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=RP_NAME,
            user_id=user_handle(user.id),
            user_name=label,
            user_display_name=user.display_name or label,
            challenge=challenge,
            timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.PREFERRED,
            ),
            exclude_credentials=[
                PublicKeyCredentialDescriptor(
                    id=passkey.credential_id,
                    transports=[_TRANSPORTS[t] for t in passkey.transports if t in _TRANSPORTS],
                )
                for passkey in existing
            ],
        )
        return options_to_json_dict(options)

    async def register(
        self,
        user: User,
        credential_value: object,
        name_value: object,
        client: ClientInfo = NO_CLIENT,
    ) -> Passkey:
        name = passkey_name(name_value)
        credential = _registration_credential(credential_value)
        challenge = await self._live_challenge(
            credential.response.client_data_json, "register", user.id
        )
        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origins,
                require_user_verification=False,
            )
        except _REFUSED as exc:
            raise InvalidCredential(f"the registration does not verify: {exc}") from None
        passkey = Passkey(
            id=str(uuid.uuid4()),
            user_id=user.id,
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=tuple(
                t.value for t in (credential.response.transports or []) if t.value in _TRANSPORTS
            ),
            name=name,
            created_at=utcnow(),
            last_used_at=None,
        )
        await self._store.add_passkey(sha256_bytes(challenge), passkey, client)
        return passkey

    async def list_passkeys(self, user: User) -> list[Passkey]:
        return await self._store.list_passkeys(user.id)

    async def remove(self, user: User, value: str, client: ClientInfo = NO_CLIENT) -> bool:
        """Remove the user's passkey; True if removed now, False if it was already removed
        (idempotent, so a retried DELETE still succeeds). Another user's is `not_found`, like
        an unknown one."""
        outcome = await self._store.remove_passkey(user.id, passkey_id(value), utcnow(), client)
        if outcome is PasskeyRemoval.NOT_FOUND:
            raise NotFound("no such passkey")
        return outcome is PasskeyRemoval.REMOVED

    # Sign-in (no session) ---------------------------------------------------------------------
    async def authentication_options(self) -> dict[str, Any]:
        """Options for a discoverable credential: no allowCredentials, the authenticator picks."""
        challenge = await self._new_challenge("sign_in", None)
        options = generate_authentication_options(
            rp_id=self.rp_id,
            challenge=challenge,
            timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
            allow_credentials=[],
            user_verification=UserVerificationRequirement.PREFERRED,
        )
        return options_to_json_dict(options)

    async def sign_in(self, credential_value: object, context: SignInContext) -> IssuedSession:
        credential = _authentication_credential(credential_value)
        challenge = await self._live_challenge(
            credential.response.client_data_json, "sign_in", None
        )
        passkey = await self._store.find_passkey(credential.raw_id)
        if passkey is None:
            raise InvalidCredential("no such passkey is registered")
        handle = credential.response.user_handle
        if handle and handle != user_handle(passkey.user_id):
            raise InvalidCredential("the passkey answered for another account")
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origins,
                credential_public_key=passkey.public_key,
                credential_current_sign_count=passkey.sign_count,
                require_user_verification=False,
            )
        except _REFUSED as exc:
            # A concurrent verify of the same assertion may have committed between the
            # challenge check above and the passkey read (its counter then looks replayed):
            # that request used the challenge, so this one is told so.
            await self._live_challenge(credential.response.client_data_json, "sign_in", None)
            raise InvalidCredential(f"the assertion does not verify: {exc}") from None
        session, token, csrf_token = self._sessions.prepare(utcnow(), "passkey", context)
        signed_in = await self._store.complete_passkey_login(
            sha256_bytes(challenge), passkey, verified.new_sign_count, session
        )
        return self._sessions.issued(
            signed_in.user, session, token, csrf_token, signed_in.signed_out_others
        )


def sha256_bytes(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


def _parsed(value: object, parse: Callable[[dict[str, Any]], T], shape: str) -> T:
    """The credential JSON parsed by py_webauthn, or `invalid_credential`."""
    if not isinstance(value, dict):
        raise InvalidCredential(f"credential must be a {shape} object")
    try:
        return parse(value)
    except _REFUSED:
        raise InvalidCredential(f"credential is not a valid {shape}") from None


def _registration_credential(value: object) -> RegistrationCredential:
    return _parsed(value, parse_registration_credential_json, "RegistrationResponseJSON")


def _authentication_credential(value: object) -> AuthenticationCredential:
    return _parsed(value, parse_authentication_credential_json, "AuthenticationResponseJSON")
