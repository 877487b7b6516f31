"""What the reference apps share: the few ASGI types, the lifespan reply, and their answer.

Kept apart from the project so that the references depend on nothing but the HTTP server.
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# {"ok":true} with a Set-Cookie: the shape of a logout answer, at the least cost to produce.
BODY = b'{"ok":true}'
START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
        (b"cache-control", b"no-store"),
        (b"set-cookie", b"nl_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
    ],
}
BODY_MESSAGE: Message = {"type": "http.response.body", "body": BODY}


async def lifespan(receive: Receive, send: Send) -> None:
    """Answer uvicorn's lifespan protocol without doing anything at start or stop."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
