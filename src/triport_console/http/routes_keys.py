"""API key routes (spec §2.8): list, create, revoke, rotate. A console session is required."""

from __future__ import annotations

from ..logs import JsonLog
from ..models import LiveSession
from ..services.api_keys import ApiKeyService
from ..services.sessions import SessionService
from .request import Request
from .responses import Response, json_response, ok
from .routes_auth import ClientOf, mutation_session, request_session
from .routing import Route
from .views import key_json


class KeyRoutes:
    def __init__(
        self, sessions: SessionService, keys: ApiKeyService, client_of: ClientOf, log: JsonLog
    ) -> None:
        self._sessions = sessions
        self._keys = keys
        self._client_of = client_of
        self._log = log

    def routes(self) -> list[Route]:
        return [
            Route("/v1/keys", {"GET": self.list_keys, "POST": self.create}),
            Route("/v1/keys/{id}", {"DELETE": self.revoke}),
            Route("/v1/keys/{id}/rotate", {"POST": self.rotate}),
        ]

    async def _mutation_session(self, request: Request) -> LiveSession:
        return await mutation_session(self._sessions, request, self._client_of)

    async def list_keys(self, request: Request, _: dict[str, str]) -> Response:
        session = await request_session(self._sessions, request, self._client_of)
        keys = await self._keys.list_keys(session.user.id)
        return json_response(200, {"keys": [key_json(key) for key in keys]})

    async def create(self, request: Request, _: dict[str, str]) -> Response:
        session = await self._mutation_session(request)
        body = await request.json_object()
        issued = await self._keys.create(
            session.user.id,
            body.get("name"),
            body.get("scopes"),
            body.get("rate_limit"),
            self._client_of(request),
        )
        self._logged(request, "key_created", session, issued.key.id)
        return json_response(200, {"raw": issued.raw, "key": key_json(issued.key)})

    async def revoke(self, request: Request, params: dict[str, str]) -> Response:
        session = await self._mutation_session(request)
        revoked = await self._keys.revoke(session.user.id, params["id"], self._client_of(request))
        self._logged(
            request, "key_revoked" if revoked else "key_already_revoked", session, params["id"]
        )
        return ok()

    async def rotate(self, request: Request, params: dict[str, str]) -> Response:
        session = await self._mutation_session(request)
        issued = await self._keys.rotate(session.user.id, params["id"], self._client_of(request))
        self._logged(request, "key_rotated", session, issued.key.id)
        return json_response(
            200, {"old_id": issued.replaces, "new": key_json(issued.key), "raw": issued.raw}
        )

    def _logged(self, request: Request, event: str, session: LiveSession, key_id: str) -> None:
        """Ids only: the secret never reaches a log line."""
        self._log.info(event, request_id=request.request_id, user_id=session.user.id, key_id=key_id)
