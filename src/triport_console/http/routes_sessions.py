"""Sessions the user can see and end (spec §2.9) and account activity (spec §2.11)."""

from __future__ import annotations

from ..errors import StoreUnavailable
from ..logs import JsonLog
from ..models import LiveSession
from ..services.activity import ActivityService
from ..services.sessions import SessionService
from .cookies import CookiePolicy
from .error_codes import error_response
from .request import Request
from .responses import Response, json_response, ok
from .routes_auth import ClientOf, mutation_session, request_session
from .routing import Route
from .views import event_json, session_json


class SessionRoutes:
    def __init__(
        self,
        sessions: SessionService,
        activity: ActivityService,
        cookies: CookiePolicy,
        client_of: ClientOf,
        log: JsonLog,
    ) -> None:
        self._sessions = sessions
        self._activity = activity
        self._cookies = cookies
        self._client_of = client_of
        self._log = log

    def routes(self) -> list[Route]:
        return [
            Route("/v1/auth/sessions", {"GET": self.list_sessions}),
            Route("/v1/auth/sessions/revoke-others", {"POST": self.revoke_others}),
            Route("/v1/auth/sessions/{id}", {"DELETE": self.revoke}),
            Route("/v1/auth/activity", {"GET": self.activity}),
        ]

    async def _session(self, request: Request) -> LiveSession:
        return await request_session(self._sessions, request, self._client_of)

    async def _mutation_session(self, request: Request) -> LiveSession:
        return await mutation_session(self._sessions, request, self._client_of)

    async def list_sessions(self, request: Request, _: dict[str, str]) -> Response:
        current = await self._session(request)
        sessions = await self._sessions.list_sessions(current)
        return json_response(
            200, {"sessions": [session_json(session, current.id) for session in sessions]}
        )

    async def revoke(self, request: Request, params: dict[str, str]) -> Response:
        """Logout's rule: 200 only once the revoke is committed; a store failure changes nothing
        and clears no cookie, and the client retries."""
        try:
            current = await self._mutation_session(request)
            own = await self._sessions.revoke(current, params["id"], self._client_of(request))
        except StoreUnavailable:
            return self._failed(request)
        self._log.info(
            "session_revoked",
            request_id=request.request_id,
            user_id=current.user.id,
            session_id=params["id"].lower(),
            own=own,
        )
        response = ok()
        if own:
            for cookie in self._cookies.clear_session_pair(request):
                response.set_cookie(cookie)
        return response

    async def revoke_others(self, request: Request, _: dict[str, str]) -> Response:
        try:
            current = await self._mutation_session(request)
            revoked = await self._sessions.revoke_others(current, self._client_of(request))
        except StoreUnavailable:
            return self._failed(request)
        self._log.info(
            "sessions_revoked_others",
            request_id=request.request_id,
            user_id=current.user.id,
            revoked=revoked,
        )
        return json_response(200, {"revoked": revoked})

    def _failed(self, request: Request) -> Response:
        self._log.error("revoke_failed", request_id=request.request_id, path=request.path)
        return error_response("revoke_failed", request.request_id)

    async def activity(self, request: Request, _: dict[str, str]) -> Response:
        current = await self._session(request)
        query = request.query
        page = await self._activity.page(current.user.id, query.get("limit"), query.get("before"))
        return json_response(
            200, {"events": [event_json(event) for event in page.events], "next": page.next}
        )
