"""Wallet sign-in (spec 2.5/2.6): a signed challenge is traded once for a session."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from ..config import Settings
from ..models import Identity, WalletChallenge
from ..store import Store
from ..wallets import (
    CHALLENGE_LIFETIME,
    SOLANA_CHAIN_ID,
    AddressMismatch,
    InvalidAddress,
    InvalidNonce,
    SignInRequest,
    canonical_address,
    challenge_message,
    parse_chain,
    verify_signature,
)
from .sessions import IssuedSession, SessionService, SignInContext, utcnow


def parse_nonce(value: object) -> str:
    if not isinstance(value, str) or len(value) != 36:
        raise InvalidNonce("nonce must be a UUID")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidNonce("nonce must be a UUID") from None


class WalletLoginService:
    def __init__(self, store: Store, sessions: SessionService, settings: Settings) -> None:
        self._store = store
        self._sessions = sessions
        # Spec 2.5: the message names the console (where the user signs), not the API.
        self._uri = settings.console_base
        self._domain = urlsplit(self._uri).netloc
        self._chain_ids = {"evm": str(settings.wallet_chain_id), "solana": SOLANA_CHAIN_ID}

    async def challenge(self, address_value: object, chain_value: object) -> WalletChallenge:
        """Issue a five-minute, single-use standard sign-in message naming the console."""
        chain = parse_chain(chain_value)
        address = canonical_address(chain, address_value)
        now = utcnow()
        nonce = str(uuid.uuid4())
        expires_at = now + CHALLENGE_LIFETIME
        challenge = WalletChallenge(
            nonce=nonce,
            chain=chain,
            address=address,
            message=challenge_message(
                chain,
                address,
                SignInRequest(
                    domain=self._domain,
                    uri=self._uri,
                    chain_id=self._chain_ids[chain],
                    nonce=nonce.replace("-", ""),
                    issued_at=now,
                    expires_at=expires_at,
                ),
            ),
            issued_at=now,
            expires_at=expires_at,
        )
        await self._store.create_wallet_challenge(challenge)
        return challenge

    async def verify(
        self,
        nonce_value: object,
        address_value: object,
        chain_value: object,
        signature_value: object,
        context: SignInContext,
    ) -> IssuedSession:
        """Check the signature over the stored message, then burn the nonce and sign in.

        A failed check leaves the nonce usable (only a success burns it); the burn and the
        session insert are one transaction, so a nonce yields at most one session.
        """
        nonce = parse_nonce(nonce_value)
        challenge = await self._store.find_wallet_challenge(nonce, utcnow())
        if challenge is None:
            raise InvalidNonce("unknown, expired or used nonce")
        try:
            address = canonical_address(chain_value, address_value)
        except InvalidAddress:
            raise AddressMismatch("address or chain differ from the challenge's") from None
        if (chain_value, address) != (challenge.chain, challenge.address):
            raise AddressMismatch("address or chain differ from the challenge's")
        verify_signature(challenge.chain, challenge.address, challenge.message, signature_value)
        session, token, csrf_token = self._sessions.prepare(utcnow(), "wallet", context)
        identity = Identity("wallet", f"{challenge.chain}:{challenge.address}")
        signed_in = await self._store.complete_wallet_login(nonce, identity, session)
        if signed_in is None:
            raise InvalidNonce("the nonce was used or expired meanwhile")
        return self._sessions.issued(
            signed_in.user, session, token, csrf_token, signed_in.signed_out_others
        )
