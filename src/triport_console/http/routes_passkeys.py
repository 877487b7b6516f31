"""Passkey routes (spec §2.12): registering needs a session and CSRF; signing in needs neither."""

from __future__ import annotations

from ..logs import JsonLog
from ..models import LiveSession, Passkey
from ..services.passkeys import PasskeyService
from ..services.sessions import SessionService
from .request import Request
from .responses import Response, json_response, ok
from .routes_auth import ClientOf, body_sign_in_context, mutation_session, request_session
from .routes_sign_in import SignedIn
from .routing import Guard, Route
from .views import timestamp


def passkey_json(passkey: Passkey) -> dict[str, object]:
    """What a client sees of a passkey: never the credential id or the public key."""
    return {
        "id": passkey.id,
        "name": passkey.name,
        "created_at": timestamp(passkey.created_at),
        "last_used_at": timestamp(passkey.last_used_at) if passkey.last_used_at else None,
    }


class PasskeyRoutes:
    def __init__(
        self,
        passkeys: PasskeyService,
        sessions: SessionService,
        signed_in: SignedIn,
        client_of: ClientOf,
        log: JsonLog,
    ) -> None:
        self._passkeys = passkeys
        self._sessions = sessions
        self._signed_in = signed_in
        self._client_of = client_of
        self._log = log

    def routes(self) -> list[Route]:
        return [
            Route("/v1/auth/passkeys", {"GET": self.list_passkeys}),
            Route("/v1/auth/passkeys/register/options", {"POST": self.register_options}),
            Route("/v1/auth/passkeys/register/verify", {"POST": self.register_verify}),
            Route("/v1/auth/passkeys/{id}", {"DELETE": self.remove}),
            Route(
                "/v1/auth/passkey/options",
                {"POST": self.sign_in_options},
                Guard.SIGN_IN,
                "passkey_options",
            ),
            Route(
                "/v1/auth/passkey/verify",
                {"POST": self.sign_in_verify},
                Guard.SIGN_IN,
                "passkey_verify",
            ),
        ]

    async def _mutation_session(self, request: Request) -> LiveSession:
        return await mutation_session(self._sessions, request, self._client_of)

    async def list_passkeys(self, request: Request, _: dict[str, str]) -> Response:
        session = await request_session(self._sessions, request, self._client_of)
        passkeys = await self._passkeys.list_passkeys(session.user)
        return json_response(200, {"passkeys": [passkey_json(p) for p in passkeys]})

    async def register_options(self, request: Request, _: dict[str, str]) -> Response:
        session = await self._mutation_session(request)
        options = await self._passkeys.registration_options(session.user)
        return json_response(200, {"options": options})

    async def register_verify(self, request: Request, _: dict[str, str]) -> Response:
        session = await self._mutation_session(request)
        body = await request.json_object()
        passkey = await self._passkeys.register(
            session.user, body.get("credential"), body.get("name"), self._client_of(request)
        )
        self._log.info(
            "passkey_added",
            request_id=request.request_id,
            user_id=session.user.id,
            passkey_id=passkey.id,
        )
        return json_response(200, {"passkey": passkey_json(passkey)})

    async def remove(self, request: Request, params: dict[str, str]) -> Response:
        session = await self._mutation_session(request)
        removed = await self._passkeys.remove(session.user, params["id"], self._client_of(request))
        self._log.info(
            "passkey_removed" if removed else "passkey_already_removed",
            request_id=request.request_id,
            user_id=session.user.id,
            passkey_id=params["id"],
        )
        return ok()

    async def sign_in_options(self, request: Request, _: dict[str, str]) -> Response:
        return json_response(200, {"options": await self._passkeys.authentication_options()})

    async def sign_in_verify(self, request: Request, _: dict[str, str]) -> Response:
        body = await request.json_object()
        issued = await self._passkeys.sign_in(
            body.get("credential"), body_sign_in_context(request, body, self._client_of)
        )
        self._log.info(
            "login", request_id=request.request_id, provider="passkey", user_id=issued.user.id
        )
        return self._signed_in(request, issued)
