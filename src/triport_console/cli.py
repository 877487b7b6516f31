"""`triport-console`: serve, migrate, revoke-sessions, purge."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys

from .composition import services
from .config import ConfigError, Settings, load_settings
from .errors import MigrationRefused, StoreUnavailable
from .logs import JsonLog, uvicorn_log_config
from .metrics import prepare_multiprocess_dir, remove_private_dir
from .services.secret_check import check_secret
from .store.base import MIGRATE_THROUGH_POOLER


async def _migrate(settings: Settings) -> None:
    if settings.db_pooler != "none":
        raise MigrationRefused(MIGRATE_THROUGH_POOLER)
    await _prepare(settings)


async def _prepare(settings: Settings) -> None:
    """Open the store once: applies pending migrations on a direct connection, and through a
    transaction pooler only checks that none are pending (migrate refuses to run there)."""
    async with services(settings, JsonLog(settings.log_level)):
        pass


async def _revoke_sessions(settings: Settings, email: str) -> int:
    async with services(settings, JsonLog(settings.log_level)) as built:
        return await built.sessions.revoke_all(email)


async def _purge(settings: Settings) -> dict[str, int]:
    async with services(settings, JsonLog(settings.log_level)) as built:
        return await built.housekeeping.purge()


async def _prepare_to_serve(settings: Settings) -> None:
    """Before any worker starts: what `_prepare` does, then check (or, on the first start,
    record) the secret's fingerprint. `migrate` records none: it may run from a deploy host."""
    async with services(settings, JsonLog(settings.log_level)) as built:
        await check_secret(built.store, settings.secret_key)


def bind_url(host: str, port: int) -> str:
    """`http://host:port` for a bind address: the public URL when TRIPORT_PUBLIC_URL is unset.

    A wildcard bind (0.0.0.0, ::) names no address a browser could use; it stands for this
    machine's loopback address there, and deployments reached by another name set the variable.
    """
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _listen(host: str, port: int) -> socket.socket:
    """Bind and listen before any worker exists, so a taken port fails here, in one line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        sys.exit(f"triport-console: cannot listen on {host}:{port}: {reason.lower()}")
    sock.set_inheritable(True)
    return sock


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    metrics_dir = prepare_multiprocess_dir() if settings.metrics_token else None
    try:
        asyncio.run(_prepare_to_serve(settings))  # once, before any worker starts
        sock = _listen(host, port)
        log = JsonLog(settings.log_level)
        log.info("listening", url=settings.public_url, bind=f"{host}:{port}", workers=workers)
        # For the person at the terminal, on stderr; printed only now that the socket listens.
        print(
            f"Triport console on {settings.public_url}/ (database: "
            f"{settings.database_url.split('@')[-1]}, mail: {settings.mail_url.split('@')[-1]})",
            file=sys.stderr,
            flush=True,
        )
        config = uvicorn.Config(
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
            proxy_headers=False,  # X-Forwarded-* are read by the app, with TRIPORT_TRUST_PROXY
            log_config=uvicorn_log_config(settings.log_level),
            timeout_graceful_shutdown=10,
        )
        if workers > 1:
            Multiprocess(config, sockets=[sock]).run()
        else:
            server = uvicorn.Server(config)
            with contextlib.suppress(KeyboardInterrupt):
                server.run(sockets=[sock])
            if not server.started:
                sys.exit(3)  # uvicorn's STARTUP_FAILURE; the reason is in the JSON log
    finally:
        if metrics_dir is not None:
            remove_private_dir(metrics_dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="triport-console", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="serve the API (applies migrations first; through a pooler, only checks them)"
    )
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
        if args.command == "serve" and not os.environ.get("TRIPORT_PUBLIC_URL"):
            # Spec §2.13: the public URL is the bound address unless configured. Set here, before
            # any worker starts, so every worker's settings (read from the environment) agree.
            os.environ["TRIPORT_PUBLIC_URL"] = bind_url(args.host, args.port)
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
    except MigrationRefused as exc:
        sys.exit(f"triport-console: {exc}")
    except StoreUnavailable as exc:
        sys.exit(f"triport-console: database unavailable: {exc}")
