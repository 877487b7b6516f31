"""Session routes: logout (the seed), /me, email sign-in, health."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import StoreUnavailable
from ..logs import JsonLog
from ..models import ClientInfo, LiveSession
from ..services.api_keys import ApiKeyService
from ..services.email_login import EmailLoginService
from ..services.sessions import (
    IssuedSession,
    SessionService,
    SignInContext,
    csrf_bound,
    parse_sign_out_others,
    utcnow,
)
from ..store import Store
from .cookies import CSRF, SESSION, CookiePolicy
from .error_codes import error_response
from .request import Request
from .responses import Response, json_response, ok
from .routing import Guard, Route
from .views import key_json, user_json

# How the edge describes a request's client (address and user agent) for sessions and events.
ClientOf = Callable[[Request], ClientInfo]


async def request_session(
    sessions: SessionService, request: Request, client_of: ClientOf
) -> LiveSession:
    """The live session a request's cookie names; its use is recorded (`last_seen_at`)."""
    return await sessions.authenticate(
        request.cookies.get(SESSION), client=lambda: client_of(request)
    )


async def mutation_session(
    sessions: SessionService, request: Request, client_of: ClientOf
) -> LiveSession:
    """For POST/DELETE: the edge has checked cookie == header and Origin; this checks the
    session binding (the header's hash is the one on the row)."""
    return await sessions.authenticate_mutation(
        request.cookies.get(SESSION),
        request.headers.get("x-csrf-token", ""),
        lambda: client_of(request),
    )


def sign_in_context(
    request: Request, client_of: ClientOf, sign_out_others: bool = False
) -> SignInContext:
    """What every sign-in takes from its request: the client, the cookie it may replace, and
    whether to sign out the user's other sessions."""
    return SignInContext(client_of(request), request.cookies.get(SESSION), sign_out_others)


def body_sign_in_context(
    request: Request, body: dict[str, Any], client_of: ClientOf
) -> SignInContext:
    """The context of a JSON sign-in (`email/verify`, `wallet/verify`, `passkey/verify`)."""
    return sign_in_context(request, client_of, parse_sign_out_others(body.get("sign_out_others")))


class AuthRoutes:
    def __init__(
        self,
        sessions: SessionService,
        email_login: EmailLoginService,
        keys: ApiKeyService,
        store: Store,
        cookies: CookiePolicy,
        client_of: ClientOf,
        log: JsonLog,
    ) -> None:
        self._sessions = sessions
        self._email = email_login
        self._keys = keys
        self._store = store
        self._cookies = cookies
        self._client_of = client_of
        self._log = log

    def routes(self) -> list[Route]:
        return [
            Route("/v1/auth/logout", {"POST": self.logout}),
            Route("/v1/auth/me", {"GET": self.me}),
            Route("/v1/auth/email/start", {"POST": self.email_start}, Guard.SIGN_IN, "email_start"),
            Route(
                "/v1/auth/email/verify", {"POST": self.email_verify}, Guard.SIGN_IN, "email_verify"
            ),
            Route("/healthz", {"GET": self.healthz}),
            Route("/readyz", {"GET": self.readyz}),
        ]

    async def logout(self, request: Request, _: dict[str, str]) -> Response:
        """Spec §2.1: the CSRF guard has run; revoke, and clear cookies only after the commit."""
        if SESSION in request.cookie_conflicts:
            tokens = [token for token in request.cookie_values(SESSION) if token]
        else:
            token = request.cookies.get(SESSION)
            tokens = [token] if token else []
        if tokens:
            try:
                revoked = await self._sessions.logout(
                    tokens, request.headers["x-csrf-token"], self._client_of(request)
                )
            except StoreUnavailable:
                # The retry rule: no Set-Cookie at all, so the browser keeps its cookie and the
                # client retries until a 200 says the row is revoked.
                self._log.error("logout_failed", request_id=request.request_id)
                return error_response("logout_failed", request.request_id)
            self._log.info("logout", request_id=request.request_id, revoked=revoked)
        response = ok()
        for cookie in self._cookies.clear_session_pair(request):
            response.set_cookie(cookie)
        return response

    async def me(self, request: Request, _: dict[str, str]) -> Response:
        now = utcnow()
        token = request.cookies.get(SESSION)
        client = lambda: self._client_of(request)  # noqa: E731 - built only if something is written
        session = await self._sessions.authenticate(token, now, client)
        refreshed_until = await self._sessions.slide(session, now)
        issued = await self._keys.ensure_default(session.user.id, session.default_key, now, client)
        default_key = key_json(issued.key)
        if issued.raw is not None:
            default_key["raw"] = issued.raw
            default_key["created"] = True
        response = json_response(
            200,
            {
                "user": user_json(session.user),
                "provider": session.user.provider,
                "default_key": default_key,
            },
        )
        if refreshed_until is not None and token is not None:
            # Same values, new lifetime; the CSRF cookie is re-issued only if it is the one bound.
            csrf = request.cookies.get(CSRF)
            if csrf and not csrf_bound(session, csrf):
                csrf = None
            max_age = round((refreshed_until - now).total_seconds())
            for cookie in self._cookies.session_pair(request, token, csrf, max_age):
                response.set_cookie(cookie)
        return response

    async def email_start(self, request: Request, _: dict[str, str]) -> Response:
        body = await request.json_object()
        request_id = await self._email.start(body.get("email"))
        return json_response(200, {"request_id": request_id})

    async def email_verify(self, request: Request, _: dict[str, str]) -> Response:
        body = await request.json_object()
        issued = await self._email.verify(
            body.get("request_id"),
            body.get("code"),
            body_sign_in_context(request, body, self._client_of),
        )
        self._log.info(
            "login", request_id=request.request_id, provider="email", user_id=issued.user.id
        )
        return self.signed_in(request, issued)

    def signed_in(self, request: Request, issued: IssuedSession) -> Response:
        """The `{"user": …}` answer of every sign-in, with both fresh cookies (and, when the
        sign-in asked for it, how many other sessions it ended)."""
        body: dict[str, Any] = {"user": user_json(issued.user)}
        if issued.signed_out_others is not None:
            body["signed_out_others"] = issued.signed_out_others
        response = json_response(200, body)
        for cookie in session_cookies(self._cookies, request, issued):
            response.set_cookie(cookie)
        return response

    async def healthz(self, request: Request, _: dict[str, str]) -> Response:
        return ok()

    async def readyz(self, request: Request, _: dict[str, str]) -> Response:
        try:
            await self._store.ping()
        except StoreUnavailable:
            return error_response("not_ready", request.request_id)
        return json_response(200, {"ok": True, "database": "up"})


def session_cookies(cookies: CookiePolicy, request: Request, issued: IssuedSession) -> list[bytes]:
    """nl_session and nl_csrf for a sign-in that has just created its session row."""
    max_age = round((issued.expires_at - utcnow()).total_seconds())
    return cookies.session_pair(request, issued.token, issued.csrf_token, max_age)
