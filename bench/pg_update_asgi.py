"""The PostgreSQL reference: one asyncpg UPDATE per logout, as raw ASGI on the same uvicorn.

This is the least a PostgreSQL-backed logout can cost: read the cookie, hash it, run the revoke
UPDATE through a pool (asyncpg prepares and caches the statement), commit (autocommit, durable:
`synchronous_commit` is left at its default), answer. No CSRF check, no logging, no routing, and
one round trip per request: the pool's default release would send a second one (`RESET ALL`,
`UNLISTEN *`, ...) that nothing here needs, so it is replaced by a no-op (asyncpg >= 0.30).
Configured by BENCH_PG_DSN and BENCH_PG_POOL (pool size per worker, default 10 as ours).
"""

import hashlib
import os

import asyncpg
from asgi_common import BODY_MESSAGE, START, Receive, Scope, Send, lifespan

REVOKE = "UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL"
_pool: list[asyncpg.Pool] = []


def session_token(scope: Scope) -> str:
    """The nl_session cookie value, or "" when the request has none."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, token = part.strip().partition("=")
                if key == "nl_session":
                    return token
    return ""


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Pool release hook: the session holds no state worth a reset round trip."""


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        size = int(os.environ.get("BENCH_PG_POOL", "10"))
        _pool.append(
            await asyncpg.create_pool(
                os.environ["BENCH_PG_DSN"], min_size=size, max_size=size, reset=_keep_session
            )
        )
        await lifespan(receive, send)
        await _pool[0].close()
        return
    token = session_token(scope)
    if token:
        await _pool[0].execute(REVOKE, hashlib.sha256(token.encode()).digest())
    await send(START)
    await send(BODY_MESSAGE)
