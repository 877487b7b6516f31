"""`triport-console`: serve, migrate, revoke-sessions, purge."""

from __future__ import annotations

import argparse
import asyncio
import sys

from .config import ConfigError, Settings, load_settings
from .errors import StoreUnavailable
from .logs import JsonLog
from .services.housekeeping import Housekeeping
from .services.sessions import SessionService
from .store import open_store


async def _migrate(settings: Settings) -> None:
    store = open_store(settings.database_url, settings.db_timeout)
    await store.open()  # opening applies pending migrations
    await store.close()


async def _revoke_sessions(settings: Settings, email: str) -> int:
    store = open_store(settings.database_url, settings.db_timeout)
    await store.open()
    try:
        return await SessionService(store, settings).revoke_all(email)
    finally:
        await store.close()


async def _purge(settings: Settings) -> dict[str, int]:
    store = open_store(settings.database_url, settings.db_timeout)
    await store.open()
    try:
        return await Housekeeping(store, settings, JsonLog(settings.log_level)).purge()
    finally:
        await store.close()


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    asyncio.run(_migrate(settings))  # once, before any worker starts
    print(
        f"Triport console on http://{host}:{port}/ (database: "
        f"{settings.database_url.split('@')[-1]}, mail: {settings.mail_url.split('@')[-1]})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        "triport_console.http.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        # httptools with bounded request heads (32 KB, 10 s): http/protocol.py
        http="triport_console.http.protocol:BoundedHttpToolsProtocol",
        lifespan="on",
        access_log=False,  # the app writes its own structured line per request
        server_header=False,
        proxy_headers=False,  # X-Forwarded-* are honoured by the app only with TRIPORT_TRUST_PROXY
        log_level="warning",
        timeout_graceful_shutdown=10,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="triport-console", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API (applies migrations first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1)
    commands.add_parser("migrate", help="apply pending schema migrations and exit")
    revoke = commands.add_parser("revoke-sessions", help="revoke every live session of a user")
    revoke.add_argument("--email", required=True)
    commands.add_parser(
        "purge", help="delete dead sessions, login codes, challenges, windows, old activity"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "serve":
            _serve(settings, args.host, args.port, args.workers)
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
            print("migrations applied")
        elif args.command == "purge":
            deleted = asyncio.run(_purge(settings))
            print(", ".join(f"{table}: {count}" for table, count in deleted.items()), "deleted")
        else:
            count = asyncio.run(_revoke_sessions(settings, args.email))
            print(f"revoked {count} session(s)")
    except ConfigError as exc:
        sys.exit(f"triport-console: configuration error: {exc}")
    except StoreUnavailable as exc:
        sys.exit(f"triport-console: database unavailable: {exc}")
