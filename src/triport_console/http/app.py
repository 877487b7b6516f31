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
from collections.abc import Awaitable, Callable
from typing import Any

from ..api.endpoints import ENDPOINTS, MUTATING, Feature, Guard
from ..api.types import ENCODER
from ..composition import Services, open_services
from ..config import Settings, load_settings
from ..errors import DomainError, ErrorCode, SessionNotLive, StoreUnavailable
from ..logs import JsonLog
from ..metrics import UNMATCHED, Metrics, PrometheusMetrics, install
from ..models import ClientInfo
from ..services.clients import client_info
from ..services.secret_check import check_secret
from .client_address import client_address
from .cookies import SESSION, SESSION_PAIR, CookiePolicy
from .cors import Cors
from .csrf import OriginPolicy, check_request
from .decoding import decode, read_body
from .error_codes import domain_error_response, error_response, unauthenticated_response
from .request import Request, Scope
from .responses import JSON, Response
from .routes_auth import AuthRoutes
from .routes_console import ConsoleRoutes
from .routes_keys import KeyRoutes
from .routes_ops import METRICS_PATH, MetricsRoutes
from .routes_passkeys import PasskeyRoutes
from .routes_sessions import SessionRoutes
from .routes_sign_in import GoogleRoutes, WalletRoutes
from .routing import Call, Operation, Router

OpenServices = Callable[[Settings, JsonLog], Awaitable[Services]]
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
_NO_STORE = (b"cache-control", b"no-store")
_API_HEADERS = [*_SECURITY_HEADERS, _NO_STORE]  # every /v1/ answer ends with these
_WARNED = frozenset({ErrorCode.CSRF_MISSING, ErrorCode.CSRF_INVALID, ErrorCode.RATE_LIMITED})


def new_request_id() -> str:
    # Ids need to be unique, not secret: the Mersenne Twister saves a syscall per request.
    return f"req_{random.getrandbits(64):016x}"


class ConsoleApp:
    """The edge. It receives its services from the composition root (`open_services`, called
    in each worker's startup) and builds the router from the endpoint table."""

    def __init__(
        self,
        settings: Settings,
        log: JsonLog | None = None,
        services: OpenServices = open_services,
    ) -> None:
        self.settings = settings
        self.log = log or JsonLog(settings.log_level)
        self.cookies = CookiePolicy(settings)
        self.origins = OriginPolicy(settings, self.cookies)
        self.cors = Cors(settings.allowed_origins)
        self._open_services = services
        self.services: Services | None = None
        self.router = Router([])
        self.metrics = Metrics()  # recording nothing until startup enables it
        self._metrics_routes: MetricsRoutes | None = None
        self._housekeeping: asyncio.Task[None] | None = None

    # Lifespan ---------------------------------------------------------------------------------
    async def startup(self) -> None:
        settings = self.settings
        self.log.write_per_turn(asyncio.get_running_loop())  # while serving: see logs.py
        self.services = services = await self._open_services(settings, self.log)
        await check_secret(services.store, settings.secret_key)
        auth = AuthRoutes(
            services.sessions,
            services.email_login,
            services.keys,
            services.store,
            self.cookies,
            self.log,
        )
        console = ConsoleRoutes(
            settings.public_url,
            google_enabled=settings.google_enabled,
            page_enabled=settings.console_enabled,
        )
        handlers = {
            **auth.handlers(),
            **WalletRoutes(services.wallet_login, auth.signed_in, self.log).handlers(),
            **GoogleRoutes(
                services.google_login, self.cookies, settings.console_base, self.log
            ).handlers(),
            **KeyRoutes(services.keys, self.log).handlers(),
            **PasskeyRoutes(services.passkeys, auth.signed_in, self.log).handlers(),
            **SessionRoutes(
                services.sessions, services.activity, self.cookies, self.log
            ).handlers(),
            **console.handlers(),
        }
        features = {Feature.CONSOLE_PAGE} if console.page_available else set()
        if settings.metrics_token:
            self.metrics = install(PrometheusMetrics())
            self._metrics_routes = MetricsRoutes(settings.metrics_token, self.metrics)
            handlers.update(self._metrics_routes.handlers())
            features.add(Feature.METRICS)
        self.router = Router.build(ENDPOINTS, handlers, frozenset(features))
        if settings.purge_interval > 0:
            self._housekeeping = asyncio.create_task(services.housekeeping.run_periodically())

    async def shutdown(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
        if self.services is not None:
            await self.services.close()
        self.metrics.close()
        self.log.write_per_turn(None)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    self.log.write_per_turn(None)  # the process may end before the turn does
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
        code: ErrorCode | None = None  # the domain error that decided the answer, if any
        try:
            response = await self._dispatch(request)
        except SessionNotLive as error:
            code = ErrorCode.UNAUTHENTICATED
            response = unauthenticated_response(request.request_id, error.reason)
            if not request.cookie_conflicts & SESSION_PAIR:
                # With tossed cookies the one we would clear may be the live one: leave both.
                for cookie in self.cookies.clear_session_pair(request):
                    response.set_cookie(cookie)
        except DomainError as error:
            code = error.code
            response = domain_error_response(error, request.request_id)
            if error.code is ErrorCode.INTERNAL:
                self.log.error(
                    "store_failure",
                    request_id=request.request_id,
                    path=request.path,
                    error=type(error).__name__,
                )
            elif error.code in _WARNED:
                self.log.warning(error.code, request_id=request.request_id, path=request.path)
        except Exception as exc:  # a bug: answer in the envelope, log the type, never the data
            self.log.error(
                "unhandled_exception",
                request_id=request.request_id,
                path=request.path,
                error=type(exc).__name__,
            )
            code = ErrorCode.INTERNAL
            response = error_response(code, request.request_id)
        headers = response.headers
        headers.append((b"content-length", b"%d" % len(response.body)))
        headers.append((b"x-request-id", request.request_id.encode()))
        headers.extend(_API_HEADERS if request.path.startswith("/v1/") else _SECURITY_HEADERS)
        if "origin" in request.headers:
            headers.extend(self.cors.headers(request))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        # HEAD: the GET answer's status and headers (its Content-Length too), and no body.
        body = b"" if request.method == "HEAD" else response.body
        await send({"type": "http.response.body", "body": body})
        seconds = time.perf_counter() - started
        if self.metrics.enabled:
            self._count(request, response.status, code, seconds)
        if self.log.info_enabled:
            self.log.request(
                request.request_id,
                request.method,
                request.path,
                response.status,
                round(seconds * 1000, 3),
                self.client_address(request),
                request.outcome,
            )

    def _count(self, request: Request, status: int, code: ErrorCode | None, seconds: float) -> None:
        route = request.route
        self.metrics.request(route.path if route else UNMATCHED, request.method, status, seconds)
        operation = route.operation(request.method) if route else None
        outcomes = operation.endpoint.outcomes if operation else None
        if outcomes is None:
            return
        outcome = request.outcome or (code.value if code else None)
        if outcomes == "logout":
            if outcome is None:
                return
            if outcome.startswith("csrf_"):
                outcome = "csrf_refused"
            elif outcome not in ("revoked", "nothing_live"):
                outcome = "failed"
            self.metrics.logout(outcome)
        elif outcome is not None or status < 400:
            self.metrics.sign_in(outcomes, outcome or "success")

    async def _dispatch(self, request: Request) -> Response:
        if Cors.is_preflight(request):
            return self.cors.preflight(request)
        matched = self.router.match(request.path)
        if matched is None:
            return error_response(ErrorCode.ROUTE_NOT_FOUND, request.request_id)
        route, params = matched
        request.route = route
        if route.path == METRICS_PATH and not (
            self._metrics_routes and self._metrics_routes.authorized(request)
        ):
            # Without the token, /metrics is answered for every method as a path that does
            # not exist (spec §2.13): neither its presence nor its methods are revealed.
            request.route = None
            return error_response(ErrorCode.ROUTE_NOT_FOUND, request.request_id)
        operation = route.operation(request.method)
        if operation is None:
            return error_response(
                ErrorCode.METHOD_NOT_ALLOWED, request.request_id, [(b"allow", route.allow)]
            )
        endpoint = operation.endpoint
        if endpoint.store_failure is None:
            return await self._run(request, operation, params)
        try:
            return await self._run(request, operation, params)
        except StoreUnavailable as error:
            # The revoke routes' retry rule (spec 2.9): nothing changed, no cookie is touched.
            code = endpoint.store_failure
            self.log.error(
                code, request_id=request.request_id, path=request.path, error=type(error).__name__
            )
            return error_response(code, request.request_id)

    async def _run(
        self, request: Request, operation: Operation, params: dict[str, str]
    ) -> Response:
        """The endpoint's guard, its body decoding and its handler."""
        endpoint = operation.endpoint
        services = self.services
        assert services is not None
        mutating = request.method in MUTATING
        if mutating:
            token = check_request(request, self.origins, sign_in=endpoint.guard is Guard.SIGN_IN)
            if token is not None and endpoint.guard is Guard.SIGN_IN:
                await services.sessions.check_binding(token, request.headers["x-csrf-token"])
        if endpoint.limit is not None:
            await services.limiter.hit(endpoint.limit, self.client_address(request))
        call = Call(request, params, client=lambda: self.client(request))
        if endpoint.guard is Guard.SESSION:
            # The session's use is recorded (last_seen_at, ip) with the client's description,
            # built only when something is written.
            token = request.cookies.get(SESSION)
            call.session = await (
                services.sessions.authenticate_mutation(
                    token, request.headers.get("x-csrf-token", ""), call.client
                )
                if mutating
                else services.sessions.authenticate(token, client=call.client)
            )
        if endpoint.request is not None:
            call.body = decode(await read_body(request), endpoint.request)
        result = await operation.handler(call)
        if isinstance(result, Response):
            response = result
        else:
            response = Response(200, ENCODER.encode(result), [JSON])
        for cookie in call.cookies:
            response.set_cookie(cookie)
        return response

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
