"""Wallet and Google sign-in routes (spec 2.5 to 2.7): thin adapters onto their services."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from ..errors import DomainError
from ..logs import JsonLog
from ..oidc import OidcError
from ..services.google_login import CALLBACK_PATH, GoogleDisabled, GoogleLoginService
from ..services.sessions import IssuedSession
from ..services.wallet_login import WalletLoginService
from .cookies import GOOGLE_PATH, GOOGLE_STATE, GOOGLE_VERIFIER, CookiePolicy
from .error_codes import domain_error_response
from .request import Request
from .responses import Response, json_response, redirect
from .routes_auth import ClientOf, body_sign_in_context, session_cookies, sign_in_context
from .routing import Guard, Route

SignedIn = Callable[[Request, IssuedSession], Response]
FLOW_COOKIE_SECONDS = 600  # spec 2.7: the state and verifier cookies live 10 minutes
POST_LOGIN_PATH = "/app/chains"


class WalletRoutes:
    def __init__(
        self, wallet: WalletLoginService, signed_in: SignedIn, client_of: ClientOf, log: JsonLog
    ) -> None:
        self._wallet = wallet
        self._signed_in = signed_in
        self._client_of = client_of
        self._log = log

    def routes(self) -> list[Route]:
        return [
            Route(
                "/v1/auth/wallet/challenge",
                {"POST": self.challenge},
                Guard.SIGN_IN,
                "wallet_challenge",
            ),
            Route("/v1/auth/wallet/verify", {"POST": self.verify}, Guard.SIGN_IN, "wallet_verify"),
        ]

    async def challenge(self, request: Request, _: dict[str, str]) -> Response:
        body = await request.json_object()
        challenge = await self._wallet.challenge(body.get("address"), body.get("chain"))
        return json_response(200, {"nonce": challenge.nonce, "message": challenge.message})

    async def verify(self, request: Request, _: dict[str, str]) -> Response:
        body = await request.json_object()
        issued = await self._wallet.verify(
            body.get("nonce"),
            body.get("address"),
            body.get("chain"),
            body.get("signature"),
            body_sign_in_context(request, body, self._client_of),
        )
        self._log.info(
            "login", request_id=request.request_id, provider="wallet", user_id=issued.user.id
        )
        return self._signed_in(request, issued)


class GoogleRoutes:
    def __init__(
        self,
        google: GoogleLoginService,
        cookies: CookiePolicy,
        console_url: str,
        client_of: ClientOf,
        log: JsonLog,
    ) -> None:
        self._google = google
        self._cookies = cookies
        self._console = console_url
        self._client_of = client_of
        self._log = log

    def routes(self) -> list[Route]:
        return [
            Route(GOOGLE_PATH + "start", {"GET": self.start}),
            Route(CALLBACK_PATH, {"GET": self.callback}),
        ]

    def _to_login(self, code: str) -> Response:
        return redirect(f"{self._console}/login?error={quote(code)}")

    async def start(self, request: Request, _: dict[str, str]) -> Response:
        """Send the browser to the provider, keeping state and PKCE verifier in cookies.

        `?sign_out_others=1` (or `true`) is carried in the state to the callback (spec §2.9).
        """
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

    async def callback(self, request: Request, _: dict[str, str]) -> Response:
        """Finish the flow; the flow cookies are cleared on every outcome."""
        try:
            issued = await self._google.callback(
                request.query,
                request.cookies.get(GOOGLE_STATE),
                request.cookies.get(GOOGLE_VERIFIER),
                sign_in_context(request, self._client_of),
            )
        except OidcError as error:
            self._log.warning(
                "google_sign_in_failed", request_id=request.request_id, error=error.redirect_code
            )
            response = self._to_login(error.redirect_code)
        except DomainError as error:  # 503 google_disabled, or 500 internal for a store failure
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
