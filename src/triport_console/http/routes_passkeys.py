"""Passkey handlers (spec §2.12): registering needs a session and CSRF (the edge checks both,
Guard.SESSION); signing in needs neither (Guard.SIGN_IN) and answers like every sign-in."""

from __future__ import annotations

from ..api import types as t
from ..logs import JsonLog
from ..services.passkeys import PasskeyService
from .routes_auth import sign_in_context
from .routes_sign_in import SignedIn
from .routing import Call, Handler
from .views import passkey_view


class PasskeyRoutes:
    def __init__(self, passkeys: PasskeyService, signed_in: SignedIn, log: JsonLog) -> None:
        self._passkeys = passkeys
        self._signed_in = signed_in
        self._log = log

    def handlers(self) -> dict[str, Handler]:
        return {
            "startPasskeyRegistration": self.register_options,
            "finishPasskeyRegistration": self.register_verify,
            "listPasskeys": self.list_passkeys,
            "deletePasskey": self.remove,
            "passkeySignInOptions": self.sign_in_options,
            "verifyPasskeySignIn": self.sign_in_verify,
        }

    async def list_passkeys(self, call: Call) -> t.PasskeyList:
        passkeys = await self._passkeys.list_passkeys(call.live.user)
        return t.PasskeyList([passkey_view(passkey) for passkey in passkeys])

    async def register_options(self, call: Call) -> t.PasskeyOptions:
        return t.PasskeyOptions(await self._passkeys.registration_options(call.live.user))

    async def register_verify(self, call: Call) -> t.AddedPasskey:
        body: t.PasskeyRegisterRequest = call.body
        session = call.live
        passkey = await self._passkeys.register(
            session.user, body.credential, body.name, call.client()
        )
        self._log.info(
            "passkey_added",
            request_id=call.request.request_id,
            user_id=session.user.id,
            passkey_id=passkey.id,
        )
        return t.AddedPasskey(passkey_view(passkey))

    async def remove(self, call: Call) -> t.Ok:
        session = call.live
        passkey_id = call.params["id"]
        removed = await self._passkeys.remove(session.user, passkey_id, call.client())
        self._log.info(
            "passkey_removed" if removed else "passkey_already_removed",
            request_id=call.request.request_id,
            user_id=session.user.id,
            passkey_id=passkey_id.lower(),
        )
        return t.Ok()

    async def sign_in_options(self, call: Call) -> t.PasskeyOptions:
        return t.PasskeyOptions(await self._passkeys.authentication_options())

    async def sign_in_verify(self, call: Call) -> t.SignedIn:
        body: t.PasskeySignInRequest = call.body
        issued = await self._passkeys.sign_in(
            body.credential, sign_in_context(call, body.sign_out_others)
        )
        self._log.info(
            "login", request_id=call.request.request_id, provider="passkey", user_id=issued.user.id
        )
        return self._signed_in(call, issued)
