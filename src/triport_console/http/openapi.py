"""The OpenAPI 3.1 document served at /openapi.json; tests keep it true to the router."""

from __future__ import annotations

from typing import Any

from ..services.api_keys import SCOPES
from .error_codes import ERRORS

_TIMESTAMP = {"type": "string", "format": "date-time"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_RAW_KEY = {
    "type": "string",
    "pattern": "^nl_live_[0-9a-f]{64}$",
    "description": "The full secret; shown in this response only",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*codes: str) -> dict[str, Any]:
    """Error responses grouped by status, each listing the codes it may carry."""
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(ERRORS[code][0], []).append(code)
    responses = {}
    for status, names in sorted(by_status.items()):
        schema = {"allOf": [_ref("Error"), {"properties": {"error": {"enum": names}}}]}
        responses[str(status)] = _json(schema, ", ".join(names))
    return responses


def body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


CSRF_HEADER = {
    "name": "X-CSRF-Token",
    "in": "header",
    "required": False,
    "description": "Must equal the nl_csrf cookie when an nl_session cookie is sent.",
    "schema": {"type": "string", "maxLength": 256},
}
HTML_PAGE = {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}
SESSION: list[dict[str, list[str]]] = [{"session": []}]
KEY_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The key's id; not a UUID → invalid_id, someone else's → not_found",
    "schema": {"type": "string", "format": "uuid"},
}
SESSION_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The session's public id; not a UUID → invalid_id, another user's → not_found",
    "schema": {"type": "string", "format": "uuid"},
}
SIGN_OUT_OTHERS = {
    "type": "boolean",
    "description": (
        "End every other live session of the user in the same transaction (a lost device); "
        "the answer then carries signed_out_others. Not a boolean → invalid_request."
    ),
}
PROVIDERS = ["email", "google", "wallet", "passkey"]
EVENT_TYPES = [
    "signed_in",
    "signed_out",
    "session_revoked",
    "signed_out_everywhere",
    "key_created",
    "key_rotated",
    "key_revoked",
    "passkey_added",
    "passkey_removed",
]
SESSION_REVOKE_ERRORS = ("unauthenticated", "csrf_missing", "csrf_invalid", "revoke_failed")
MUTATION_ERRORS = ("invalid_json", "csrf_missing", "csrf_invalid", "internal")
KEY_ACTION_ERRORS = ("csrf_missing", "csrf_invalid", "internal")  # no body to be invalid

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message", "request_id"],
        "properties": {
            "error": {"type": "string", "pattern": "^[a-z_]+$"},
            "message": {"type": "string"},
            "request_id": {"type": "string"},
            "retry_after": {"type": "integer", "minimum": 1},
            "reason": {
                "enum": [
                    "signed_out",
                    "revoked",
                    "signed_out_everywhere",
                    "replaced",
                    "admin",
                    "expired",
                ],
                "description": "On 401 unauthenticated for a known token: why it ended",
            },
        },
    },
    "Ok": {
        "type": "object",
        "required": ["ok"],
        "properties": {"ok": {"const": True}},
    },
    "User": {
        "type": "object",
        "required": ["id", "email", "display_name", "avatar_url", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "email": _NULLABLE_STRING,
            "display_name": _NULLABLE_STRING,
            "avatar_url": _NULLABLE_STRING,
            "created_at": _TIMESTAMP,
            "updated_at": _TIMESTAMP,
        },
    },
    "Key": {
        "type": "object",
        "required": [
            "id",
            "name",
            "key_prefix",
            "scopes",
            "rate_limit",
            "status",
            "created_at",
            "last_used_at",
            "is_default",
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "name": {"type": "string"},
            "key_prefix": {"type": "string", "pattern": "^nl_live_[0-9a-f]{8}$"},
            "scopes": {"type": "array", "items": {"type": "string"}},
            "rate_limit": {"type": "integer", "minimum": 0},
            "status": {"enum": ["active", "revoked"]},
            "created_at": _TIMESTAMP,
            "last_used_at": {"type": ["string", "null"], "format": "date-time"},
            "is_default": {"type": "boolean"},
            "raw": _RAW_KEY,
            "created": {"const": True},
        },
    },
    "Passkey": {
        "type": "object",
        "required": ["id", "name", "created_at", "last_used_at"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "name": {"type": "string"},
            "created_at": _TIMESTAMP,
            "last_used_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "WebAuthnOptions": {
        "type": "object",
        "required": ["options"],
        "properties": {
            "options": {
                "type": "object",
                "description": (
                    "PublicKeyCredentialCreationOptionsJSON (registration) or "
                    "PublicKeyCredentialRequestOptionsJSON (sign-in), binary fields base64url, "
                    "as PublicKeyCredential.parseCreationOptionsFromJSON / "
                    "parseRequestOptionsFromJSON read them. The challenge is single-use and "
                    "valid 5 minutes."
                ),
            }
        },
    },
    "WalletAddress": {
        "type": "object",
        "required": ["address", "chain"],
        "properties": {
            "chain": {"enum": ["evm", "solana"]},
            "address": {
                "type": "string",
                "description": "EVM: 0x + 40 hex digits, any case. Solana: base58 public key.",
            },
        },
    },
    "SignedIn": {
        "type": "object",
        "required": ["user"],
        "properties": {
            "user": _ref("User"),
            "signed_out_others": {
                "type": "integer",
                "minimum": 0,
                "description": "Only with sign_out_others: how many other sessions ended",
            },
        },
    },
    "Session": {
        "type": "object",
        "required": [
            "id",
            "current",
            "provider",
            "created_at",
            "last_seen_at",
            "expires_at",
            "ip",
            "user_agent",
            "device",
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "current": {"type": "boolean"},
            "provider": {"enum": PROVIDERS},
            "created_at": _TIMESTAMP,
            "last_seen_at": _TIMESTAMP,
            "expires_at": _TIMESTAMP,
            "ip": _NULLABLE_STRING,
            "user_agent": {"type": ["string", "null"], "maxLength": 512},
            "device": {**_NULLABLE_STRING, "description": 'e.g. "Chrome on macOS"'},
        },
    },
    "SessionList": {
        "type": "object",
        "required": ["sessions"],
        "properties": {"sessions": {"type": "array", "items": _ref("Session")}},
    },
    "Event": {
        "type": "object",
        "required": ["id", "type", "at", "ip", "user_agent", "device"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "type": {"enum": EVENT_TYPES},
            "at": _TIMESTAMP,
            "ip": _NULLABLE_STRING,
            "user_agent": {"type": ["string", "null"], "maxLength": 512},
            "device": _NULLABLE_STRING,
            "provider": {"enum": PROVIDERS},
            "session_id": {"type": "string", "format": "uuid"},
            "key_id": {"type": "string", "format": "uuid"},
            "passkey_id": {"type": "string", "format": "uuid"},
        },
    },
    "ActivityPage": {
        "type": "object",
        "required": ["events", "next"],
        "properties": {
            "events": {"type": "array", "items": _ref("Event")},
            "next": {
                "type": ["string", "null"],
                "description": "Pass as ?before= for the next (older) page; null at the end",
            },
        },
    },
    "KeyList": {
        "type": "object",
        "required": ["keys"],
        "properties": {"keys": {"type": "array", "items": _ref("Key")}},
    },
    "NewKey": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 80, "description": "Trimmed"},
            "scopes": {
                "type": "array",
                "maxItems": 32,
                "items": {"enum": sorted(SCOPES)},
                "description": 'Omitted or empty means ["*"]; duplicates are removed',
            },
            "rate_limit": {"type": "integer", "description": "Negative values are stored as 0"},
        },
    },
    "CreatedKey": {
        "type": "object",
        "required": ["raw", "key"],
        "properties": {"raw": _RAW_KEY, "key": _ref("Key")},
    },
    "RotatedKey": {
        "type": "object",
        "required": ["old_id", "new", "raw"],
        "properties": {
            "old_id": {"type": "string", "format": "uuid"},
            "new": _ref("Key"),
            "raw": _RAW_KEY,
        },
    },
    "Me": {
        "type": "object",
        "required": ["user", "provider", "default_key"],
        "properties": {
            "user": _ref("User"),
            "provider": {"enum": ["email", "google", "wallet"]},
            "default_key": _ref("Key"),
        },
    },
}

PATHS: dict[str, Any] = {
    "/v1/auth/logout": {
        "post": {
            "summary": "Revoke the caller's session and clear its cookies",
            "description": (
                "A 200 means the session row is revoked and committed; 500 logout_failed keeps "
                "the cookie and the client retries until it gets a 200."
            ),
            "security": [{"session": []}, {}],
            "parameters": [CSRF_HEADER],
            "responses": {
                "200": _json(_ref("Ok"), "Revoked (or nothing to revoke); cookies cleared"),
                **errors("csrf_missing", "csrf_invalid", "logout_failed"),
            },
        }
    },
    "/v1/auth/me": {
        "get": {
            "summary": "The signed-in user, their sign-in method and default key",
            "security": SESSION,
            "responses": {
                "200": _json(_ref("Me"), "The live session's account"),
                **errors("unauthenticated", "internal"),
            },
        }
    },
    "/v1/auth/email/start": {
        "post": {
            "summary": "Mail a 6-digit sign-in code",
            "parameters": [CSRF_HEADER],
            "requestBody": body(
                {
                    "type": "object",
                    "required": ["email"],
                    "properties": {"email": {"type": "string"}},
                }
            ),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["request_id"],
                        "properties": {"request_id": {"type": "string", "format": "uuid"}},
                    },
                    "Code sent (the same answer for known and new addresses)",
                ),
                **errors("invalid_email", "rate_limited", *MUTATION_ERRORS),
            },
        }
    },
    "/v1/auth/email/verify": {
        "post": {
            "summary": "Trade the code for a session",
            "parameters": [CSRF_HEADER],
            "requestBody": body(
                {
                    "type": "object",
                    "required": ["request_id", "code"],
                    "properties": {
                        "request_id": {"type": "string", "format": "uuid"},
                        "code": {"type": "string", "pattern": "^[0-9]{6}$"},
                        "sign_out_others": SIGN_OUT_OTHERS,
                    },
                }
            ),
            "responses": {
                "200": _json(_ref("SignedIn"), "Signed in; nl_session and nl_csrf set"),
                **errors("invalid_request", "invalid_code", "rate_limited", *MUTATION_ERRORS),
            },
        }
    },
    "/v1/auth/wallet/challenge": {
        "post": {
            "summary": "Issue a single-use message for a wallet to sign (valid 5 minutes)",
            "parameters": [CSRF_HEADER],
            "requestBody": body(_ref("WalletAddress")),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["nonce", "message"],
                        "properties": {
                            "nonce": {"type": "string", "format": "uuid"},
                            "message": {
                                "type": "string",
                                "description": "Sign these exact bytes (EIP-191 or ed25519).",
                            },
                        },
                    },
                    "The challenge",
                ),
                **errors("invalid_address", "rate_limited", *MUTATION_ERRORS),
            },
        }
    },
    "/v1/auth/wallet/verify": {
        "post": {
            "summary": "Trade a signed challenge for a session (the nonce is burned once)",
            "parameters": [CSRF_HEADER],
            "requestBody": body(
                {
                    "allOf": [
                        _ref("WalletAddress"),
                        {
                            "type": "object",
                            "required": ["nonce", "signature"],
                            "properties": {
                                "nonce": {"type": "string", "format": "uuid"},
                                "sign_out_others": SIGN_OUT_OTHERS,
                                "signature": {
                                    "type": "string",
                                    "description": (
                                        "EVM: 65-byte R||S||V hex, 0x optional, V 27/28 or 0/1. "
                                        "Solana: 64 bytes as hex, base58 or base64 (standard "
                                        "or URL-safe, padding optional)."
                                    ),
                                },
                            },
                        },
                    ]
                }
            ),
            "responses": {
                "200": _json(_ref("SignedIn"), "Signed in; nl_session and nl_csrf set"),
                **errors(
                    "invalid_nonce",
                    "address_mismatch",
                    "invalid_signature",
                    "invalid_request",
                    "rate_limited",
                    *MUTATION_ERRORS,
                ),
            },
        }
    },
    "/v1/auth/google/start": {
        "get": {
            "summary": "Begin Google (OpenID Connect, PKCE S256) sign-in",
            "description": (
                "302 to the provider with nl_google_state and nl_google_verifier cookies "
                "(HttpOnly, Path=/v1/auth/google/, 10 minutes); 302 to the console's "
                "/login?error=google_disabled (or google_exchange_failed when the provider "
                "cannot be discovered) without cookies."
            ),
            "parameters": [
                {
                    "name": "sign_out_others",
                    "in": "query",
                    "required": False,
                    "description": (
                        "1 or true: the callback's sign-in ends every other session of the user "
                        "(carried in the state)"
                    ),
                    "schema": {"type": "string"},
                }
            ],
            "responses": {"302": {"description": "To the provider, or to the console's login"}},
        }
    },
    "/v1/auth/google/callback": {
        "get": {
            "summary": "Finish Google sign-in",
            "description": (
                "Clears both flow cookies on every outcome. Success: session cookies and 302 "
                "to the console's /app/chains. Failure: 302 to /login?error=google_denied, "
                "google_state_mismatch, google_missing_verifier, google_exchange_failed or "
                "google_email_unverified."
            ),
            "parameters": [
                {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                for name in ("code", "state", "error", "iss")
            ],
            "responses": {
                "302": {"description": "To the console (signed in, or /login?error=google_…)"},
                **errors("google_disabled", "internal"),
            },
        }
    },
    "/v1/keys": {
        "get": {
            "summary": "The user's API keys, active and revoked, newest first",
            "security": SESSION,
            "responses": {
                "200": _json(_ref("KeyList"), "The keys, without secrets"),
                **errors("unauthenticated", "internal"),
            },
        },
        "post": {
            "summary": "Create an API key; the response shows its secret once",
            "security": SESSION,
            "parameters": [CSRF_HEADER],
            "requestBody": body(_ref("NewKey")),
            "responses": {
                "200": _json(_ref("CreatedKey"), "Created"),
                **errors(
                    "invalid_name",
                    "invalid_scope",
                    "too_many_scopes",
                    "invalid_rate_limit",
                    "unauthenticated",
                    "too_many_keys",
                    *MUTATION_ERRORS,
                ),
            },
        },
    },
    "/v1/keys/{id}": {
        "delete": {
            "summary": "Revoke an API key (idempotent)",
            "security": SESSION,
            "parameters": [KEY_ID, CSRF_HEADER],
            "responses": {
                "200": _json(_ref("Ok"), "Revoked, or already revoked"),
                **errors(
                    "invalid_id",
                    "unauthenticated",
                    "not_found",
                    "cannot_revoke_default",
                    *KEY_ACTION_ERRORS,
                ),
            },
        }
    },
    "/v1/keys/{id}/rotate": {
        "post": {
            "summary": "Replace a key by a new secret with the same settings, in one transaction",
            "security": SESSION,
            "parameters": [KEY_ID, CSRF_HEADER],
            "responses": {
                "200": _json(_ref("RotatedKey"), "The old key is revoked; the new one is active"),
                **errors(
                    "invalid_id", "unauthenticated", "not_found", "key_revoked", *KEY_ACTION_ERRORS
                ),
            },
        }
    },
    "/v1/auth/sessions": {
        "get": {
            "summary": "The caller's live sessions: the current one first, then newest first",
            "operationId": "listSessions",
            "tags": ["sessions"],
            "security": SESSION,
            "responses": {
                "200": _json(_ref("SessionList"), "Live sessions"),
                **errors("unauthenticated", "internal"),
            },
        }
    },
    "/v1/auth/sessions/{id}": {
        "delete": {
            "summary": "End one of the caller's sessions (idempotent)",
            "description": (
                "Committed before the 200, like logout; 500 revoke_failed changes nothing and "
                "the client retries. Ending the caller's own session also clears both cookies."
            ),
            "operationId": "revokeSession",
            "tags": ["sessions"],
            "security": SESSION,
            "parameters": [SESSION_ID, CSRF_HEADER],
            "responses": {
                "200": _json(_ref("Ok"), "Revoked, or already revoked or expired"),
                **errors("invalid_id", "not_found", *SESSION_REVOKE_ERRORS),
            },
        }
    },
    "/v1/auth/sessions/revoke-others": {
        "post": {
            "summary": "End every other live session of the caller, in one transaction",
            "operationId": "revokeOtherSessions",
            "tags": ["sessions"],
            "security": SESSION,
            "parameters": [CSRF_HEADER],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["revoked"],
                        "properties": {"revoked": {"type": "integer", "minimum": 0}},
                    },
                    "How many sessions ended",
                ),
                **errors(*SESSION_REVOKE_ERRORS),
            },
        }
    },
    "/v1/auth/activity": {
        "get": {
            "summary": "What happened on the account, newest first, kept 90 days",
            "operationId": "listActivity",
            "tags": ["activity"],
            "security": SESSION,
            "parameters": [
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
                },
                {
                    "name": "before",
                    "in": "query",
                    "required": False,
                    "description": "The previous page's next",
                    "schema": {"type": "string"},
                },
            ],
            "responses": {
                "200": _json(_ref("ActivityPage"), "One page of events"),
                **errors("invalid_request", "unauthenticated", "internal"),
            },
        }
    },
    "/v1/auth/passkeys": {
        "get": {
            "operationId": "listPasskeys",
            "tags": ["passkeys"],
            "summary": "The user's passkeys, newest first",
            "security": SESSION,
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["passkeys"],
                        "properties": {"passkeys": {"type": "array", "items": _ref("Passkey")}},
                    },
                    "The passkeys (never a credential id or public key)",
                ),
                **errors("unauthenticated", "internal"),
            },
        }
    },
    "/v1/auth/passkeys/register/options": {
        "post": {
            "operationId": "startPasskeyRegistration",
            "tags": ["passkeys"],
            "summary": "Options for navigator.credentials.create(): a resident key, UV preferred",
            "security": SESSION,
            "parameters": [CSRF_HEADER],
            "responses": {
                "200": _json(_ref("WebAuthnOptions"), "PublicKeyCredentialCreationOptionsJSON"),
                **errors("unauthenticated", *KEY_ACTION_ERRORS),
            },
        }
    },
    "/v1/auth/passkeys/register/verify": {
        "post": {
            "operationId": "finishPasskeyRegistration",
            "tags": ["passkeys"],
            "summary": "Verify the authenticator's answer and add the passkey",
            "security": SESSION,
            "parameters": [CSRF_HEADER],
            "requestBody": body(
                {
                    "type": "object",
                    "required": ["credential"],
                    "properties": {
                        "credential": {
                            "type": "object",
                            "description": "RegistrationResponseJSON (credential.toJSON())",
                        },
                        "name": {"type": ["string", "null"], "minLength": 1, "maxLength": 80},
                    },
                }
            ),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["passkey"],
                        "properties": {"passkey": _ref("Passkey")},
                    },
                    "Added",
                ),
                **errors(
                    "invalid_name",
                    "invalid_challenge",
                    "invalid_credential",
                    "unauthenticated",
                    *MUTATION_ERRORS,
                ),
            },
        }
    },
    "/v1/auth/passkeys/{id}": {
        "delete": {
            "operationId": "deletePasskey",
            "tags": ["passkeys"],
            "summary": "Remove a passkey; it can no longer sign in (idempotent)",
            "security": SESSION,
            "parameters": [
                {**KEY_ID, "description": "The passkey's id; not a UUID → invalid_id"},
                CSRF_HEADER,
            ],
            "responses": {
                "200": _json(_ref("Ok"), "Removed, or already removed"),
                **errors("invalid_id", "unauthenticated", "not_found", *KEY_ACTION_ERRORS),
            },
        }
    },
    "/v1/auth/passkey/options": {
        "post": {
            "operationId": "passkeySignInOptions",
            "summary": "Options for navigator.credentials.get() with a discoverable passkey",
            "parameters": [CSRF_HEADER],
            "responses": {
                "200": _json(_ref("WebAuthnOptions"), "PublicKeyCredentialRequestOptionsJSON"),
                **errors("rate_limited", *KEY_ACTION_ERRORS),
            },
        }
    },
    "/v1/auth/passkey/verify": {
        "post": {
            "operationId": "verifyPasskeySignIn",
            "summary": "Trade a passkey assertion for a session (the challenge is burned once)",
            "parameters": [CSRF_HEADER],
            "requestBody": body(
                {
                    "type": "object",
                    "required": ["credential"],
                    "properties": {
                        "credential": {
                            "type": "object",
                            "description": (
                                "AuthenticationResponseJSON (PublicKeyCredential.toJSON())"
                            ),
                        },
                        "sign_out_others": SIGN_OUT_OTHERS,
                    },
                }
            ),
            "responses": {
                "200": _json(_ref("SignedIn"), "Signed in; nl_session and nl_csrf set"),
                **errors(
                    "invalid_challenge",
                    "invalid_credential",
                    "invalid_request",
                    "rate_limited",
                    *MUTATION_ERRORS,
                ),
            },
        }
    },
    "/v1/console/config": {
        "get": {
            "summary": "What the console page should offer (e.g. the Google button)",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["google_enabled"],
                        "properties": {"google_enabled": {"type": "boolean"}},
                    },
                    "Console configuration",
                )
            },
        }
    },
    **{
        path: {"get": {"summary": "The console page", "responses": {"200": HTML_PAGE}}}
        for path in ("/", "/login", "/app/chains")
    },
    "/console-static/{name}": {
        "get": {
            "summary": "A file of the console page",
            "parameters": [
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {"description": "The file"},
                "404": {"description": "No such file", "content": {"text/plain": {}}},
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
        }
    },
    "/healthz": {
        "get": {
            "summary": "The process is up",
            "responses": {"200": _json(_ref("Ok"), "Up")},
        }
    },
    "/readyz": {
        "get": {
            "summary": "The database is reachable",
            "responses": {
                "200": _json({"type": "object", "properties": {"ok": {"const": True}}}, "Ready"),
                **errors("not_ready"),
            },
        }
    },
}


def document(server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Triport console auth", "version": "1.0.0"},
        "servers": [{"url": server_url}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "nl_session"},
            },
        },
    }
