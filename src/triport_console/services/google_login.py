"""Google sign-in (spec 2.7): OpenID Connect code flow with PKCE, then the shared sign-in.

Account linking rule: a Google identity whose email the provider has verified joins the
account that already uses that email (an email-code account, say), so both methods reach one
account. The OpenID adapter refuses unverified emails before this service sees them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ..config import Settings
from ..errors import DomainError, ErrorCode
from ..models import Identity
from ..oidc import AuthorizationRequest, OidcClient
from ..store import Store
from .sessions import IssuedSession, SessionService, SignInContext, utcnow

# `google/start?sign_out_others=1` marks the flow's state with this prefix (the state's random
# part is base64url, which has no "."), so the choice survives the trip to the provider.
SIGN_OUT_OTHERS_STATE = "o."


class GoogleDisabled(DomainError):
    """No client id is configured (TRIPORT_GOOGLE_CLIENT_ID)."""

    code = ErrorCode.GOOGLE_DISABLED


class GoogleLoginService:
    def __init__(
        self, store: Store, sessions: SessionService, settings: Settings, callback_path: str
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._redirect_uri = settings.public_url + callback_path
        self._oidc = (
            OidcClient(
                settings.google_issuer, settings.google_client_id, settings.google_client_secret
            )
            if settings.google_enabled
            else None
        )

    def _client(self) -> OidcClient:
        if self._oidc is None:
            raise GoogleDisabled("Google sign-in is not configured")
        return self._oidc

    async def start(self, sign_out_others: bool = False) -> AuthorizationRequest:
        prefix = SIGN_OUT_OTHERS_STATE if sign_out_others else ""
        return await self._client().authorization_request(self._redirect_uri, prefix)

    async def callback(
        self,
        params: Mapping[str, str],
        state_cookie: str | None,
        verifier_cookie: str | None,
        context: SignInContext,
    ) -> IssuedSession:
        profile = await self._client().complete(
            params, state_cookie, verifier_cookie, self._redirect_uri
        )
        # The state matched the cookie, so its flag is the one `start` set.
        assert state_cookie is not None
        context = dataclasses.replace(
            context, sign_out_others=state_cookie.startswith(SIGN_OUT_OTHERS_STATE)
        )
        identity = Identity(
            "google",
            profile.subject,
            email=profile.email.strip().lower(),
            display_name=profile.name,
            avatar_url=profile.picture,
        )
        session, token, csrf_token = self._sessions.prepare(utcnow(), "google", context)
        signed_in = await self._store.sign_in(identity, session)
        return self._sessions.issued(
            signed_in.user, session, token, csrf_token, signed_in.signed_out_others
        )
