"""The OpenAPI 3.1 document served at /openapi.json; tests keep it true to the router."""

from __future__ import annotations

from typing import Any

from .error_codes import ERRORS

_TIMESTAMP = {"type": "string", "format": "date-time"}
_NULLABLE_STRING = {"type": ["string", "null"]}


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
MUTATION_ERRORS = ("invalid_json", "csrf_missing", "csrf_invalid", "internal")

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message", "request_id"],
        "properties": {
            "error": {"type": "string", "pattern": "^[a-z_]+$"},
            "message": {"type": "string"},
            "request_id": {"type": "string"},
            "retry_after": {"type": "integer", "minimum": 1},
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
            "raw": {"type": "string", "pattern": "^nl_live_[0-9a-f]{64}$"},
            "created": {"const": True},
        },
    },
    "SignedIn": {
        "type": "object",
        "required": ["user"],
        "properties": {"user": _ref("User")},
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
                    },
                }
            ),
            "responses": {
                "200": _json(_ref("SignedIn"), "Signed in; nl_session and nl_csrf set"),
                **errors("invalid_request", "invalid_code", "rate_limited", *MUTATION_ERRORS),
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
