"""Session handlers: logout (the seed), /me, email sign-in, health and readiness."""

from __future__ import annotations

from typing import cast

from ..api import types as t
from ..errors import ErrorCode, StoreUnavailable
from ..limits import Provider
from ..logs import JsonLog
from ..services.api_keys import ApiKeyService
from ..services.email_login import EmailLoginService
from ..services.sessions import (
    IssuedSession,
    SessionService,
    SignInContext,
    csrf_bound,
    utcnow,
)
from ..store import Store
from .cookies import CSRF, SESSION, CookiePolicy
from .error_codes import error_response
from .request import Request
from .responses import Response
from .routing import Call, Handler
from .views import key_view, user_view

OK = t.Ok()


class AuthRoutes:
    def __init__(
        self,
        sessions: SessionService,
        email_login: EmailLoginService,
        keys: ApiKeyService,
        store: Store,
        cookies: CookiePolicy,
        log: JsonLog,
    ) -> None:
        self._sessions = sessions
        self._email = email_login
        self._keys = keys
        self._store = store
        self._cookies = cookies
        self._log = log

    def handlers(self) -> dict[str, Handler]:
        return {
            "logout": self.logout,
            "getMe": self.me,
            "startEmailSignIn": self.email_start,
            "verifyEmailSignIn": self.email_verify,
            "getHealth": self.healthz,
            "getReadiness": self.readyz,
        }

    async def logout(self, call: Call) -> t.Ok | Response:
        """Spec 2.1: the CSRF guard has run; revoke, and clear cookies only after the commit."""
        request = call.request
        if SESSION in request.cookie_conflicts:
            tokens = [token for token in request.cookie_values(SESSION) if token]
        else:
            token = request.cookies.get(SESSION)
            tokens = [token] if token else []
        outcome = "nothing_live"  # recorded only once the revoke has answered (not on a raise)
        if tokens:
            try:
                revoked = await self._sessions.logout(
                    tokens, request.headers["x-csrf-token"], call.client()
                )
            except StoreUnavailable:
                # The retry rule: no Set-Cookie at all, so the browser keeps its cookie and the
                # client retries until a 200 says the row is revoked.
                request.outcome = "failed"
                self._log.error(ErrorCode.LOGOUT_FAILED, request_id=request.request_id)
                return error_response(ErrorCode.LOGOUT_FAILED, request.request_id)
            if revoked:
                outcome = "revoked"
        request.outcome = outcome  # for the metrics and the request's log line
        call.cookies += self._cookies.clear_session_pair(request)
        return OK

    async def me(self, call: Call) -> t.Me:
        now = utcnow()
        session = call.live
        refreshed_until = await self._sessions.slide(session, now)
        issued = await self._keys.ensure_default(
            session.user.id, session.default_key, now, call.client
        )
        default_key = key_view(issued.key, t.DefaultKey)
        if issued.raw is not None:
            default_key.raw = issued.raw
            default_key.created = True
        token = call.request.cookies.get(SESSION)
        if refreshed_until is not None and token is not None:
            # Same values, new lifetime; the CSRF cookie is re-issued only if it is the one bound.
            csrf = call.request.cookies.get(CSRF)
            if csrf and not csrf_bound(session, csrf):
                csrf = None
            max_age = round((refreshed_until - now).total_seconds())
            call.cookies += self._cookies.session_pair(call.request, token, csrf, max_age)
        return t.Me(
            user=user_view(session.user),
            provider=cast(Provider, session.user.provider),
            default_key=default_key,
        )

    async def email_start(self, call: Call) -> t.EmailStarted:
        body: t.EmailStartRequest = call.body
        return t.EmailStarted(await self._email.start(body.email))

    async def email_verify(self, call: Call) -> t.SignedIn:
        body: t.EmailVerifyRequest = call.body
        issued = await self._email.verify(
            body.request_id, body.code, sign_in_context(call, body.sign_out_others)
        )
        self._log.info(
            "login", request_id=call.request.request_id, provider="email", user_id=issued.user.id
        )
        return self.signed_in(call, issued)

    def signed_in(self, call: Call, issued: IssuedSession) -> t.SignedIn:
        """The `{"user": …}` answer of every sign-in, with both fresh cookies (and, when the
        sign-in asked for it, how many other sessions it ended)."""
        call.cookies += session_cookies(self._cookies, call.request, issued)
        answer = t.SignedIn(user_view(issued.user))
        if issued.signed_out_others is not None:
            answer.signed_out_others = issued.signed_out_others
        return answer

    async def healthz(self, call: Call) -> t.Ok:
        return OK

    async def readyz(self, call: Call) -> t.Readiness | Response:
        try:
            await self._store.ping()
        except StoreUnavailable:
            return error_response(ErrorCode.NOT_READY, call.request.request_id)
        return t.Readiness(ok=True, database="up")


def sign_in_context(call: Call, sign_out_others: bool | None = False) -> SignInContext:
    """What every sign-in takes from its request: the client, the cookie it may replace, and
    whether to sign out the user's other sessions (`null` in a body means no)."""
    return SignInContext(call.client(), call.request.cookies.get(SESSION), bool(sign_out_others))


def session_cookies(cookies: CookiePolicy, request: Request, issued: IssuedSession) -> list[bytes]:
    """nl_session and nl_csrf for a sign-in that has just created its session row."""
    max_age = round((issued.expires_at - utcnow()).total_seconds())
    return cookies.session_pair(request, issued.token, issued.csrf_token, max_age)
