"""The bare ceiling: the least an ASGI app can do per request on the same uvicorn settings.

It answers every request with a constant JSON body and a Set-Cookie, reading nothing, so its
rate is what the HTTP server, the event loop and the load generator cost on this machine. Ours
divided by this is the share of the ceiling that our own code leaves.
"""

from asgi_common import BODY_MESSAGE, START, Receive, Scope, Send, lifespan


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    await send(START)
    await send(BODY_MESSAGE)
