"""Sessions the user can see and end (spec 2.9) and account activity (spec 2.11).

The edge has checked the session (and on mutations its CSRF binding). A store failure anywhere
in the revoke routes answers `500 revoke_failed` (their table entries' `store_failure`), which
changes nothing and clears no cookie: the client retries, as for logout.
"""

from __future__ import annotations

from ..api import types as t
from ..logs import JsonLog
from ..services.activity import ActivityService
from ..services.sessions import SessionService
from .cookies import CookiePolicy
from .routing import Call, Handler
from .views import event_view, session_view


class SessionRoutes:
    def __init__(
        self,
        sessions: SessionService,
        activity: ActivityService,
        cookies: CookiePolicy,
        log: JsonLog,
    ) -> None:
        self._sessions = sessions
        self._activity = activity
        self._cookies = cookies
        self._log = log

    def handlers(self) -> dict[str, Handler]:
        return {
            "listSessions": self.list_sessions,
            "revokeSession": self.revoke,
            "revokeOtherSessions": self.revoke_others,
            "listActivity": self.activity,
        }

    async def list_sessions(self, call: Call) -> t.SessionList:
        current = call.live
        sessions = await self._sessions.list_sessions(current)
        return t.SessionList([session_view(session, current.id) for session in sessions])

    async def revoke(self, call: Call) -> t.Ok:
        """Logout's rule: 200 only once the revoke is committed."""
        current = call.live
        session_id = call.params["id"]
        own = await self._sessions.revoke(current, session_id, call.client())
        self._log.info(
            "session_revoked",
            request_id=call.request.request_id,
            user_id=current.user.id,
            session_id=session_id.lower(),
            own=own,
        )
        if own:
            call.cookies += self._cookies.clear_session_pair(call.request)
        return t.Ok()

    async def revoke_others(self, call: Call) -> t.Revoked:
        current = call.live
        revoked = await self._sessions.revoke_others(current, call.client())
        self._log.info(
            "sessions_revoked_others",
            request_id=call.request.request_id,
            user_id=current.user.id,
            revoked=revoked,
        )
        return t.Revoked(revoked)

    async def activity(self, call: Call) -> t.ActivityPage:
        query = call.request.query
        page = await self._activity.page(call.live.user.id, query.get("limit"), query.get("before"))
        return t.ActivityPage([event_view(event) for event in page.events], page.next)
