"""API key handlers (spec 2.8): list, create, revoke, rotate. The edge has checked the session."""

from __future__ import annotations

from ..api import types as t
from ..logs import JsonLog
from ..services.api_keys import ApiKeyService
from .routing import Call, Handler
from .views import key_view


class KeyRoutes:
    def __init__(self, keys: ApiKeyService, log: JsonLog) -> None:
        self._keys = keys
        self._log = log

    def handlers(self) -> dict[str, Handler]:
        return {
            "listKeys": self.list_keys,
            "createKey": self.create,
            "revokeKey": self.revoke,
            "rotateKey": self.rotate,
        }

    async def list_keys(self, call: Call) -> t.KeyList:
        keys = await self._keys.list_keys(call.live.user.id)
        return t.KeyList([key_view(key) for key in keys])

    async def create(self, call: Call) -> t.CreatedKey:
        body: t.CreateKeyRequest = call.body
        issued = await self._keys.create(
            call.live.user.id, body.name, body.scopes, body.rate_limit, call.client()
        )
        self._logged(call, "key_created", issued.key.id)
        assert issued.raw is not None
        return t.CreatedKey(raw=issued.raw, key=key_view(issued.key))

    async def revoke(self, call: Call) -> t.Ok:
        key_id = call.params["id"]
        revoked = await self._keys.revoke(call.live.user.id, key_id, call.client())
        self._logged(call, "key_revoked" if revoked else "key_already_revoked", key_id)
        return t.Ok()

    async def rotate(self, call: Call) -> t.RotatedKey:
        issued = await self._keys.rotate(call.live.user.id, call.params["id"], call.client())
        self._logged(call, "key_rotated", issued.key.id)
        assert issued.raw is not None and issued.replaces is not None
        return t.RotatedKey(old_id=issued.replaces, new=key_view(issued.key), raw=issued.raw)

    def _logged(self, call: Call, event: str, key_id: str) -> None:
        """Ids only: the secret never reaches a log line."""
        self._log.info(
            event, request_id=call.request.request_id, user_id=call.live.user.id, key_id=key_id
        )
