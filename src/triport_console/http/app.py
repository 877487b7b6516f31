"""The ASGI application: request ids, routing, CSRF guard, CORS, error mapping, request log.

Hand-written rather than built on a framework: the whole edge is this file and a few small
modules beside it, and on the hot paths (`/me`, logout) a framework's per-request layers would
cost more than the database work. Everything here is plain ASGI, served by uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from typing import Any

from ..config import Settings, load_settings
from ..errors import DomainError, SessionNotLive
from ..logs import JsonLog
from ..mail import make_mailer
from ..models import ClientInfo
from ..services.activity import ActivityService
from ..services.api_keys import ApiKeyService
from ..services.clients import client_info
from ..services.email_login import EmailLoginService
from ..services.google_login import GoogleLoginService
from ..services.housekeeping import Housekeeping
from ..services.passkeys import PasskeyService
from ..services.rate_limits import RateLimiter
from ..services.sessions import SessionService
from ..services.wallet_login import WalletLoginService
from ..store import Store, open_store
from .client_address import client_address
from .cookies import SESSION_PAIR, CookiePolicy
from .cors import Cors
from .csrf import MUTATING, OriginPolicy, check_request
from .error_codes import domain_error_response, error_response
from .request import Request, Scope
from .responses import Response
from .routes_auth import AuthRoutes
from .routes_console import ConsoleRoutes
from .routes_keys import KeyRoutes
from .routes_passkeys import PasskeyRoutes
from .routes_sessions import SessionRoutes
from .routes_sign_in import GoogleRoutes, WalletRoutes
from .routing import Guard, Router

_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
_NO_STORE = (b"cache-control", b"no-store")


def new_request_id() -> str:
    # Ids need to be unique, not secret: the Mersenne Twister saves a syscall per request.
    return f"req_{random.getrandbits(64):016x}"


class ConsoleApp:
    def __init__(self, settings: Settings, log: JsonLog | None = None) -> None:
        self.settings = settings
        self.log = log or JsonLog(settings.log_level)
        self.cookies = CookiePolicy(settings)
        self.origins = OriginPolicy(settings, self.cookies)
        self.cors = Cors(settings.allowed_origins)
        self.store: Store | None = None
        self.sessions: SessionService | None = None
        self.limiter: RateLimiter | None = None
        self.router = Router([])
        self._housekeeping: asyncio.Task[None] | None = None

    # Lifespan ---------------------------------------------------------------------------------
    async def startup(self) -> None:
        settings = self.settings
        store = open_store(settings.database_url, settings.db_timeout)
        await store.open()
        self.store = store
        self.sessions = sessions = SessionService(store, settings)
        keys = ApiKeyService(store, settings.max_active_keys)
        email_login = EmailLoginService(
            store, make_mailer(settings.mail_url, settings.mail_from), sessions, settings
        )
        client_of = self.client
        auth = AuthRoutes(sessions, email_login, keys, store, self.cookies, client_of, self.log)
        wallet = WalletRoutes(
            WalletLoginService(store, sessions, settings), auth.signed_in, client_of, self.log
        )
        google = GoogleRoutes(
            GoogleLoginService(store, sessions, settings),
            self.cookies,
            settings.console_base,
            client_of,
            self.log,
        )
        console = ConsoleRoutes(
            settings.public_url,
            google_enabled=settings.google_enabled,
            page_enabled=settings.console_enabled,
        )
        key_routes = KeyRoutes(sessions, keys, client_of, self.log)
        session_routes = SessionRoutes(
            sessions, ActivityService(store), self.cookies, client_of, self.log
        )
        passkeys = PasskeyRoutes(
            PasskeyService(store, sessions, settings),
            sessions,
            auth.signed_in,
            client_of,
            self.log,
        )
        self.router = Router(
            auth.routes()
            + wallet.routes()
            + google.routes()
            + key_routes.routes()
            + session_routes.routes()
            + passkeys.routes()
            + console.routes()
        )
        self.limiter = RateLimiter(store, settings.rate_limits)
        if settings.purge_interval > 0:
            housekeeping = Housekeeping(store, settings, self.log)
            self._housekeeping = asyncio.create_task(housekeeping.run_periodically())

    async def shutdown(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
        if self.store is not None:
            await self.store.close()

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    self.log.error("startup_failed", error=str(exc))
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # Requests ---------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        request = Request(scope, receive, "")
        offered = request.headers.get("x-request-id")
        request.request_id = (
            offered if offered and _CLIENT_REQUEST_ID.fullmatch(offered) else new_request_id()
        )
        try:
            response = await self._dispatch(request)
        except SessionNotLive as error:
            # Spec §2.10: a known token that is no longer live says why; others say nothing.
            extra: dict[str, object] | None = {"reason": error.reason} if error.reason else None
            response = error_response("unauthenticated", request.request_id, extra=extra)
            if not request.cookie_conflicts & SESSION_PAIR:
                # With tossed cookies the one we would clear may be the live one: leave both.
                for cookie in self.cookies.clear_session_pair(request):
                    response.set_cookie(cookie)
        except DomainError as error:
            response = domain_error_response(error, request.request_id)
            if error.code == "internal":
                self.log.error(
                    "store_failure",
                    request_id=request.request_id,
                    path=request.path,
                    error=type(error).__name__,
                )
            elif error.code.startswith(("csrf_", "rate_")):
                self.log.warning(error.code, request_id=request.request_id, path=request.path)
        except Exception as exc:  # a bug: answer in the envelope, log the type, never the data
            self.log.error(
                "unhandled_exception",
                request_id=request.request_id,
                path=request.path,
                error=type(exc).__name__,
            )
            response = error_response("internal", request.request_id)
        headers = response.headers
        headers.append((b"content-length", str(len(response.body)).encode()))
        headers.append((b"x-request-id", request.request_id.encode()))
        headers.extend(_SECURITY_HEADERS)
        if request.path.startswith("/v1/"):
            headers.append(_NO_STORE)
        headers.extend(self.cors.headers(request))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        # HEAD: the GET answer's status and headers (its Content-Length too), and no body.
        body = b"" if request.method == "HEAD" else response.body
        await send({"type": "http.response.body", "body": body})
        if not self.log.enabled("info"):
            return
        self.log.info(
            "request",
            request_id=request.request_id,
            method=request.method,
            path=request.path,
            status=response.status,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            client=self.client_address(request),
        )

    async def _dispatch(self, request: Request) -> Response:
        if Cors.is_preflight(request):
            return self.cors.preflight(request)
        matched = self.router.match(request.path)
        if matched is None:
            return error_response("route_not_found", request.request_id)
        route, params = matched
        handler = route.handler(request.method)
        if handler is None:
            return error_response(
                "method_not_allowed", request.request_id, headers=[(b"allow", route.allow)]
            )
        if request.method in MUTATING:
            token = check_request(request, self.origins, sign_in=route.guard is Guard.SIGN_IN)
            if token is not None and route.guard is Guard.SIGN_IN:
                assert self.sessions is not None
                await self.sessions.check_binding(token, request.headers["x-csrf-token"])
        if route.limit is not None:
            assert self.limiter is not None
            await self.limiter.hit(route.limit, self.client_address(request))
        return await handler(request, params)

    def client(self, request: Request) -> ClientInfo:
        """The request's client as sessions and activity events record it."""
        return client_info(self.client_address(request), request.headers.get("user-agent"))

    def client_address(self, request: Request) -> str | None:
        """The peer address, or with TRIPORT_TRUST_PROXY the one our proxies saw (see module)."""
        return client_address(
            request,
            trust_proxy=self.settings.trust_proxy,
            hops=self.settings.trusted_proxy_hops,
        )


def create_app() -> ConsoleApp:
    """Factory for uvicorn (`--factory`), reading settings from the environment."""
    return ConsoleApp(load_settings())
