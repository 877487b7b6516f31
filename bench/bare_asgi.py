"""The bare ceiling: the least an ASGI app can do per request on the same uvicorn settings.

It answers every request with a constant JSON body and a Set-Cookie, reading nothing, so its
rate is what the HTTP server, the event loop and the load generator cost on this machine. Ours
divided by this is the share of the ceiling that our own code leaves.
"""

from asgi_types import Receive, Scope, Send, lifespan

BODY = b'{"ok":true}'
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
        (b"cache-control", b"no-store"),
        (b"set-cookie", b"nl_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
    ],
}
BODY_MESSAGE = {"type": "http.response.body", "body": BODY}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    await send(START)
    await send(BODY_MESSAGE)
