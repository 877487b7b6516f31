"""Wallet and Google sign-in handlers (spec 2.5 to 2.7): thin adapters onto their services."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from ..api import types as t
from ..api.endpoints import BY_OPERATION
from ..errors import DomainError
from ..logs import JsonLog
from ..oidc import OidcError
from ..services.google_login import GoogleDisabled, GoogleLoginService
from ..services.sessions import IssuedSession
from ..services.wallet_login import WalletLoginService
from .cookies import GOOGLE_PATH, GOOGLE_STATE, GOOGLE_VERIFIER, CookiePolicy
from .error_codes import domain_error_response
from .responses import Response, redirect
from .routes_auth import session_cookies, sign_in_context
from .routing import Call, Handler

SignedIn = Callable[[Call, IssuedSession], t.SignedIn]
FLOW_COOKIE_SECONDS = 600  # spec 2.7: the state and verifier cookies live 10 minutes
POST_LOGIN_PATH = BY_OPERATION["getConsoleApp"].path
LOGIN_PATH = BY_OPERATION["getConsoleLogin"].path


class WalletRoutes:
    def __init__(self, wallet: WalletLoginService, signed_in: SignedIn, log: JsonLog) -> None:
        self._wallet = wallet
        self._signed_in = signed_in
        self._log = log

    def handlers(self) -> dict[str, Handler]:
        return {"createWalletChallenge": self.challenge, "verifyWalletSignIn": self.verify}

    async def challenge(self, call: Call) -> t.WalletChallenge:
        body: t.WalletChallengeRequest = call.body
        challenge = await self._wallet.challenge(body.address, body.chain)
        return t.WalletChallenge(nonce=challenge.nonce, message=challenge.message)

    async def verify(self, call: Call) -> t.SignedIn:
        body: t.WalletVerifyRequest = call.body
        issued = await self._wallet.verify(
            body.nonce,
            body.address,
            body.chain,
            body.signature,
            sign_in_context(call, body.sign_out_others),
        )
        self._log.info(
            "login", request_id=call.request.request_id, provider="wallet", user_id=issued.user.id
        )
        return self._signed_in(call, issued)


class GoogleRoutes:
    def __init__(
        self, google: GoogleLoginService, cookies: CookiePolicy, console_url: str, log: JsonLog
    ) -> None:
        self._google = google
        self._cookies = cookies
        self._console = console_url
        self._log = log

    def handlers(self) -> dict[str, Handler]:
        return {"startGoogleSignIn": self.start, "finishGoogleSignIn": self.callback}

    def _to_login(self, code: str) -> Response:
        return redirect(f"{self._console}{LOGIN_PATH}?error={quote(code)}")

    async def start(self, call: Call) -> Response:
        """Send the browser to the provider, keeping state and PKCE verifier in cookies.

        `?sign_out_others=1` (or `true`) is carried in the state to the callback (spec 2.9).
        """
        request = call.request
        sign_out_others = request.query.get("sign_out_others", "").lower() in {"1", "true"}
        try:
            flow = await self._google.start(sign_out_others)
        except GoogleDisabled as error:
            return self._to_login(error.code)
        except OidcError as error:  # discovery failed: the provider is unreachable or broken
            self._log.warning(
                "google_start_failed", request_id=request.request_id, error=str(error)
            )
            return self._to_login(error.redirect_code)
        response = redirect(flow.url)
        for name, value in ((GOOGLE_STATE, flow.state), (GOOGLE_VERIFIER, flow.verifier_cookie)):
            response.set_cookie(
                self._cookies.set(
                    request, name, value, FLOW_COOKIE_SECONDS, http_only=True, path=GOOGLE_PATH
                )
            )
        return response

    async def callback(self, call: Call) -> Response:
        """Finish the flow; the flow cookies are cleared on every outcome."""
        request = call.request
        try:
            issued = await self._google.callback(
                request.query,
                request.cookies.get(GOOGLE_STATE),
                request.cookies.get(GOOGLE_VERIFIER),
                sign_in_context(call),
            )
        except OidcError as error:
            request.outcome = error.redirect_code
            self._log.warning(
                "google_sign_in_failed", request_id=request.request_id, error=error.redirect_code
            )
            response = self._to_login(error.redirect_code)
        except DomainError as error:  # 503 google_disabled, or 500 internal for a store failure
            request.outcome = error.code.value
            self._log.warning(
                "google_callback_failed", request_id=request.request_id, error=type(error).__name__
            )
            response = domain_error_response(error, request.request_id)
        else:
            self._log.info(
                "login", request_id=request.request_id, provider="google", user_id=issued.user.id
            )
            response = redirect(self._console + POST_LOGIN_PATH)
            for cookie in session_cookies(self._cookies, request, issued):
                response.set_cookie(cookie)
        for name in (GOOGLE_STATE, GOOGLE_VERIFIER):
            response.set_cookie(
                self._cookies.clear(request, name, http_only=True, path=GOOGLE_PATH)
            )
        return response
