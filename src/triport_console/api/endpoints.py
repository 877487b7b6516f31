"""Every endpoint of the service, described once.

The router (http/routing.py), body decoding (http/decoding.py), the OpenAPI document
(http/openapi.py), docs/api.md and the SDK parity test all read this table. Adding an endpoint
is an entry here, a handler in http/handlers_*.py registered under its operation id, and the
service method it calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from msgspec import Struct

from ..errors import ErrorCode as E
from . import types as t

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
MUTATING: frozenset[str] = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Guard(Enum):
    """What the edge checks before the handler runs (spec 1.3).

    Every mutating request that carries `nl_session` must pass the CSRF check, whatever its
    guard; the guard adds to that.
    """

    PUBLIC = "public"  # no session needed
    SIGN_IN = "sign_in"  # no session needed; the Origin rule holds even without a cookie
    SESSION = "session"  # a live session (and on mutations its bound CSRF token) is required


class Tag(Enum):
    AUTH = "auth"
    KEYS = "keys"
    SESSIONS = "sessions"
    PASSKEYS = "passkeys"
    ACTIVITY = "activity"
    OPERATIONS = "operations"
    CONSOLE = "console"


TAG_DESCRIPTIONS = {
    Tag.AUTH: "Sign-in, the current session and logout",
    Tag.KEYS: "API keys of the signed-in user",
    Tag.SESSIONS: "Where the user is signed in, and ending those sessions",
    Tag.PASSKEYS: "WebAuthn passkeys of the signed-in user",
    Tag.ACTIVITY: "What happened on the account, kept 90 days",
    Tag.OPERATIONS: "Health, readiness, metrics and this document",
    Tag.CONSOLE: "The console page and its configuration",
}


class Feature(Enum):
    """Endpoints served only when their feature is on."""

    CONSOLE_PAGE = "console_page"  # TRIPORT_CONSOLE_ENABLED
    METRICS = "metrics"  # TRIPORT_METRICS_TOKEN


@dataclass(frozen=True)
class Response:
    """A success answer that is not a JSON structure (HTML, a redirect, a file)."""

    status: int
    description: str
    content_type: str | None = None


@dataclass(frozen=True)
class Endpoint:
    operation_id: str
    method: Method
    path: str
    tag: Tag
    summary: str
    guard: Guard = Guard.PUBLIC
    request: type[Struct] | None = None
    response: type[Struct] | Response = t.Ok
    errors: tuple[E, ...] = ()
    # Per-client-address abuse-limit bucket (config.RATE_LIMIT_VARIABLES), counted before the
    # handler runs; None for endpoints without one.
    limit: str | None = None
    sdk: str | None = None  # the SDKs' method (Python spelling), None for browser-only routes
    description: str = ""
    sets_session: bool = False  # answers Set-Cookie for nl_session / nl_csrf
    params: tuple[PathParam, ...] = ()
    query: tuple[str, ...] = ()
    feature: Feature | None = None
    # Whose outcomes this endpoint's answers count in (metrics.py): "logout", or the provider
    # of a sign-in ("email", "wallet", "google"); None for the rest.
    outcomes: str | None = None
    # The code a store failure anywhere in the request (its guard included) answers instead of
    # `internal`: the session revokes' `revoke_failed`, which tells the client to retry.
    store_failure: E | None = None

    @property
    def codes(self) -> tuple[E, ...]:
        """Every code this endpoint can answer, including those its guard adds."""
        added: list[E] = []
        if self.method in MUTATING:
            added += [E.CSRF_MISSING, E.CSRF_INVALID]
        if self.request is not None:
            added.append(E.INVALID_JSON)
        if self.guard is Guard.SESSION:
            added.append(E.UNAUTHENTICATED)
        if self.limit is not None:
            added.append(E.RATE_LIMITED)
        added.append(E.INTERNAL)  # any endpoint: the store or a bug failed the request
        unique = dict.fromkeys([*self.errors, *added])
        return tuple(sorted(unique, key=lambda code: code.status))


@dataclass(frozen=True)
class PathParam:
    name: str
    description: str
    format: str | None = None


SESSION_ID = PathParam(
    "id", "The session's id: not a UUID → invalid_id; someone else's → not_found", "uuid"
)
KEY_ID = PathParam(
    "id", "The key's id: not a UUID → invalid_id; someone else's → not_found", "uuid"
)
PASSKEY_ID = PathParam(
    "id", "The passkey's id: not a UUID → invalid_id; someone else's → not_found", "uuid"
)
_STORE = (E.INTERNAL,)
_PAGE = Response(200, "The console page", "text/html; charset=utf-8")

ENDPOINTS: tuple[Endpoint, ...] = (
    # auth ----------------------------------------------------------------------------------
    Endpoint(
        "logout",
        "POST",
        "/v1/auth/logout",
        Tag.AUTH,
        "Revoke the caller's session and clear its cookies",
        description=(
            "A 200 means the session row is revoked and committed (or there was nothing to "
            "revoke); both cookies are cleared. 500 logout_failed leaves the cookies alone: "
            "retry until the answer is 200. A body is ignored."
        ),
        errors=(E.LOGOUT_FAILED,),
        sdk="auth.logout",
        sets_session=True,
        outcomes="logout",
    ),
    Endpoint(
        "getMe",
        "GET",
        "/v1/auth/me",
        Tag.AUTH,
        "The signed-in user, their sign-in method and default key",
        guard=Guard.SESSION,
        response=t.Me,
        description=(
            "Creates the default key on first need; that one response carries its secret in "
            "default_key.raw. Past half its lifetime the session is extended and both cookies "
            "are re-issued."
        ),
        errors=_STORE,
        sdk="auth.me",
        sets_session=True,
    ),
    Endpoint(
        "startEmailSignIn",
        "POST",
        "/v1/auth/email/start",
        Tag.AUTH,
        "Mail a 6-digit sign-in code",
        guard=Guard.SIGN_IN,
        request=t.EmailStartRequest,
        response=t.EmailStarted,
        description="The answer is the same whether or not an account uses the address.",
        errors=(E.INVALID_EMAIL, E.INTERNAL),
        limit="email_start",
        sdk="auth.email_start",
    ),
    Endpoint(
        "verifyEmailSignIn",
        "POST",
        "/v1/auth/email/verify",
        Tag.AUTH,
        "Trade the emailed code for a session",
        guard=Guard.SIGN_IN,
        request=t.EmailVerifyRequest,
        response=t.SignedIn,
        description=(
            "The code is single-use; five wrong codes lock the request. With "
            '"sign_out_others": true every other live session of the user ends in the same '
            "transaction and the answer adds signed_out_others."
        ),
        errors=(E.INVALID_REQUEST, E.INVALID_CODE, E.INTERNAL),
        limit="email_verify",
        sdk="auth.email_verify",
        sets_session=True,
        outcomes="email",
    ),
    Endpoint(
        "createWalletChallenge",
        "POST",
        "/v1/auth/wallet/challenge",
        Tag.AUTH,
        "Issue a single-use message for a wallet to sign (valid 5 minutes)",
        guard=Guard.SIGN_IN,
        request=t.WalletChallengeRequest,
        response=t.WalletChallenge,
        errors=(E.INVALID_ADDRESS, E.INTERNAL),
        limit="wallet_challenge",
        sdk="auth.wallet_challenge",
    ),
    Endpoint(
        "verifyWalletSignIn",
        "POST",
        "/v1/auth/wallet/verify",
        Tag.AUTH,
        "Trade a signed challenge for a session (the nonce is burned once)",
        guard=Guard.SIGN_IN,
        request=t.WalletVerifyRequest,
        response=t.SignedIn,
        description=(
            'With "sign_out_others": true every other live session of the user ends in the '
            "same transaction and the answer adds signed_out_others."
        ),
        errors=(
            E.INVALID_NONCE,
            E.ADDRESS_MISMATCH,
            E.INVALID_SIGNATURE,
            E.INVALID_REQUEST,
            E.INTERNAL,
        ),
        limit="wallet_verify",
        sdk="auth.wallet_verify",
        sets_session=True,
        outcomes="wallet",
    ),
    Endpoint(
        "startGoogleSignIn",
        "GET",
        "/v1/auth/google/start",
        Tag.AUTH,
        "Begin Google (OpenID Connect, PKCE S256) sign-in",
        response=Response(302, "To the provider, or to the console's /login?error=…"),
        description=(
            "A browser navigation. Sets nl_google_state and nl_google_verifier (HttpOnly, "
            "Path=/v1/auth/google/, 10 minutes) and redirects to the provider. Without Google "
            "configured, or when the provider cannot be discovered, redirects to the console's "
            "/login?error=google_disabled (or google_exchange_failed) without cookies. "
            "?sign_out_others=1 (or true) is carried in the state: the callback's sign-in ends "
            "every other session of the user."
        ),
        query=("sign_out_others",),
        sdk="auth.google_start_url",
    ),
    Endpoint(
        "finishGoogleSignIn",
        "GET",
        "/v1/auth/google/callback",
        Tag.AUTH,
        "Finish Google sign-in (the provider's redirect target)",
        response=Response(302, "To the console: signed in, or /login?error=google_…"),
        description=(
            "Clears both flow cookies on every outcome. Success: session cookies and a redirect "
            "to the console's /app/chains. Failure: a redirect to /login?error=google_denied, "
            "google_state_mismatch, google_missing_verifier, google_exchange_failed or "
            "google_email_unverified."
        ),
        errors=(E.GOOGLE_DISABLED, E.INTERNAL),
        query=("code", "state", "error", "iss"),
        sets_session=True,
        outcomes="google",
    ),
    Endpoint(
        "passkeySignInOptions",
        "POST",
        "/v1/auth/passkey/options",
        Tag.AUTH,
        "Options for navigator.credentials.get() with a discoverable passkey",
        guard=Guard.SIGN_IN,
        response=t.PasskeyOptions,
        description=(
            "Discoverable: allowCredentials is empty and the authenticator picks the passkey. "
            "The challenge is single-use and valid 5 minutes. A body is ignored."
        ),
        errors=_STORE,
        limit="passkey_options",
        sdk="auth.passkey_options",
    ),
    Endpoint(
        "verifyPasskeySignIn",
        "POST",
        "/v1/auth/passkey/verify",
        Tag.AUTH,
        "Trade a passkey assertion for a session (the challenge is burned once)",
        guard=Guard.SIGN_IN,
        request=t.PasskeySignInRequest,
        response=t.SignedIn,
        description=(
            "invalid_challenge: the challenge is unknown, expired or used. invalid_credential: "
            "an unknown or removed passkey, a bad signature, another origin or RP id, or a "
            'counter that went backwards. With "sign_out_others": true every other live '
            "session of the user ends in the same transaction and the answer adds "
            "signed_out_others."
        ),
        errors=(E.INVALID_CHALLENGE, E.INVALID_CREDENTIAL, E.INVALID_REQUEST, E.INTERNAL),
        limit="passkey_verify",
        sdk="auth.passkey_verify",
        sets_session=True,
    ),
    # keys ----------------------------------------------------------------------------------
    Endpoint(
        "listKeys",
        "GET",
        "/v1/keys",
        Tag.KEYS,
        "The user's API keys, active and revoked, newest first",
        guard=Guard.SESSION,
        response=t.KeyList,
        errors=_STORE,
        sdk="keys.list",
    ),
    Endpoint(
        "createKey",
        "POST",
        "/v1/keys",
        Tag.KEYS,
        "Create an API key; the response shows its secret once",
        guard=Guard.SESSION,
        request=t.CreateKeyRequest,
        response=t.CreatedKey,
        errors=(
            E.INVALID_NAME,
            E.INVALID_SCOPE,
            E.TOO_MANY_SCOPES,
            E.INVALID_RATE_LIMIT,
            E.TOO_MANY_KEYS,
            E.INTERNAL,
        ),
        sdk="keys.create",
    ),
    Endpoint(
        "revokeKey",
        "DELETE",
        "/v1/keys/{id}",
        Tag.KEYS,
        "Revoke an API key (idempotent)",
        guard=Guard.SESSION,
        errors=(E.INVALID_ID, E.NOT_FOUND, E.CANNOT_REVOKE_DEFAULT, E.INTERNAL),
        params=(KEY_ID,),
        sdk="keys.revoke",
    ),
    Endpoint(
        "rotateKey",
        "POST",
        "/v1/keys/{id}/rotate",
        Tag.KEYS,
        "Replace a key by a new secret with the same settings, in one transaction",
        guard=Guard.SESSION,
        response=t.RotatedKey,
        errors=(E.INVALID_ID, E.NOT_FOUND, E.KEY_REVOKED, E.INTERNAL),
        params=(KEY_ID,),
        sdk="keys.rotate",
    ),
    # sessions ------------------------------------------------------------------------------
    Endpoint(
        "listSessions",
        "GET",
        "/v1/auth/sessions",
        Tag.SESSIONS,
        "The caller's live sessions: the current one first, then newest first",
        guard=Guard.SESSION,
        response=t.SessionList,
        errors=_STORE,
        sdk="sessions.list",
    ),
    Endpoint(
        "revokeSession",
        "DELETE",
        "/v1/auth/sessions/{id}",
        Tag.SESSIONS,
        "End one of the caller's sessions (idempotent)",
        guard=Guard.SESSION,
        description=(
            "Committed before the 200, like logout: 500 revoke_failed changes nothing and the "
            "client retries. 200 also when the session is already revoked or expired. Ending "
            "the caller's own session also clears both cookies."
        ),
        errors=(E.INVALID_ID, E.NOT_FOUND, E.REVOKE_FAILED),
        params=(SESSION_ID,),
        sdk="sessions.revoke",
        sets_session=True,
        store_failure=E.REVOKE_FAILED,
    ),
    Endpoint(
        "revokeOtherSessions",
        "POST",
        "/v1/auth/sessions/revoke-others",
        Tag.SESSIONS,
        "End every other live session of the caller, in one transaction",
        guard=Guard.SESSION,
        response=t.Revoked,
        description="500 revoke_failed changes nothing; retry.",
        errors=(E.REVOKE_FAILED,),
        sdk="sessions.revoke_others",
        store_failure=E.REVOKE_FAILED,
    ),
    # passkeys ------------------------------------------------------------------------------
    Endpoint(
        "listPasskeys",
        "GET",
        "/v1/auth/passkeys",
        Tag.PASSKEYS,
        "The user's passkeys, newest first",
        guard=Guard.SESSION,
        response=t.PasskeyList,
        errors=_STORE,
        sdk="passkeys.list",
    ),
    Endpoint(
        "startPasskeyRegistration",
        "POST",
        "/v1/auth/passkeys/register/options",
        Tag.PASSKEYS,
        "Options for navigator.credentials.create(): a resident key, UV preferred",
        guard=Guard.SESSION,
        response=t.PasskeyOptions,
        description=(
            "The user's passkeys are listed in excludeCredentials. The challenge is single-use, "
            "valid 5 minutes and bound to the user. A body is ignored."
        ),
        errors=_STORE,
        sdk="passkeys.register_options",
    ),
    Endpoint(
        "finishPasskeyRegistration",
        "POST",
        "/v1/auth/passkeys/register/verify",
        Tag.PASSKEYS,
        "Verify the authenticator's answer and add the passkey",
        guard=Guard.SESSION,
        request=t.PasskeyRegisterRequest,
        response=t.AddedPasskey,
        description=(
            "invalid_challenge: the challenge is unknown, expired, used or another user's. "
            "invalid_credential: the response does not verify for this site, or the "
            "credential is already registered."
        ),
        errors=(E.INVALID_NAME, E.INVALID_CHALLENGE, E.INVALID_CREDENTIAL, E.INTERNAL),
        sdk="passkeys.register_verify",
    ),
    Endpoint(
        "deletePasskey",
        "DELETE",
        "/v1/auth/passkeys/{id}",
        Tag.PASSKEYS,
        "Remove a passkey; it can no longer sign in (idempotent)",
        guard=Guard.SESSION,
        errors=(E.INVALID_ID, E.NOT_FOUND, E.INTERNAL),
        params=(PASSKEY_ID,),
        sdk="passkeys.remove",
    ),
    # activity ------------------------------------------------------------------------------
    Endpoint(
        "listActivity",
        "GET",
        "/v1/auth/activity",
        Tag.ACTIVITY,
        "What happened on the account, newest first",
        guard=Guard.SESSION,
        response=t.ActivityPage,
        description=(
            "?limit= 1 to 100 (default 50); ?before= the previous page's next. A bad limit or "
            "before → invalid_request. Each event is written in the transaction of its change."
        ),
        errors=(E.INVALID_REQUEST, E.INTERNAL),
        query=("limit", "before"),
        sdk="activity.list",
    ),
    # operations ----------------------------------------------------------------------------
    Endpoint("getHealth", "GET", "/healthz", Tag.OPERATIONS, "The process is up"),
    Endpoint(
        "getReadiness",
        "GET",
        "/readyz",
        Tag.OPERATIONS,
        "The database is reachable",
        response=t.Readiness,
        errors=(E.NOT_READY,),
    ),
    Endpoint(
        "getMetrics",
        "GET",
        "/metrics",
        Tag.OPERATIONS,
        "Prometheus metrics of every worker process (text format 0.0.4)",
        response=Response(
            200, "Prometheus text format", "text/plain; version=0.0.4; charset=utf-8"
        ),
        description=(
            "Served only when TRIPORT_METRICS_TOKEN is set, and only to a request carrying "
            "`Authorization: Bearer <that token>` (compared in constant time). Any other request, "
            "whatever its method, gets 404 route_not_found, exactly as a path that does not exist."
        ),
        errors=(E.ROUTE_NOT_FOUND,),
        feature=Feature.METRICS,
    ),
    Endpoint(
        "getOpenApi",
        "GET",
        "/openapi.json",
        Tag.OPERATIONS,
        "This document (OpenAPI 3.1)",
        response=Response(200, "The OpenAPI document", "application/json"),
    ),
    # console -------------------------------------------------------------------------------
    Endpoint(
        "getConsoleConfig",
        "GET",
        "/v1/console/config",
        Tag.CONSOLE,
        "What the console page should offer (e.g. the Google button)",
        response=t.ConsoleConfig,
        feature=Feature.CONSOLE_PAGE,
    ),
    Endpoint(
        "getConsoleRoot",
        "GET",
        "/",
        Tag.CONSOLE,
        "The console page",
        response=_PAGE,
        feature=Feature.CONSOLE_PAGE,
    ),
    Endpoint(
        "getConsoleLogin",
        "GET",
        "/login",
        Tag.CONSOLE,
        "The console page (sign-in screen)",
        response=_PAGE,
        feature=Feature.CONSOLE_PAGE,
    ),
    Endpoint(
        "getConsoleApp",
        "GET",
        "/app/chains",
        Tag.CONSOLE,
        "The console page (signed-in screen)",
        response=_PAGE,
        feature=Feature.CONSOLE_PAGE,
    ),
    Endpoint(
        "getConsoleAsset",
        "GET",
        "/console-static/{name}",
        Tag.CONSOLE,
        "A file of the console page",
        response=Response(200, "The file"),
        errors=(E.ROUTE_NOT_FOUND,),
        params=(PathParam("name", "The file name"),),
        feature=Feature.CONSOLE_PAGE,
    ),
)

BY_OPERATION = {endpoint.operation_id: endpoint for endpoint in ENDPOINTS}
