"""The OpenAPI 3.1 document served at /openapi.json, generated from the endpoint table.

Schemas come from the typed structures (msgspec's JSON Schema output), error responses from the
error table, security from each endpoint's guard. Every error response references the one
`Error` schema and names its codes as examples, so generated clients get one error model.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..api.endpoints import (
    ENDPOINTS,
    MUTATING,
    TAG_DESCRIPTIONS,
    Endpoint,
    Guard,
    Response,
)
from ..errors import ErrorCode
from .cookies import CSRF, SESSION

CSRF_HEADER = "X-CSRF-Token"
_COMPONENTS = "#/components/"
_SESSION_ONLY: dict[str, list[str]] = {"session": []}
_SESSION_AND_CSRF: dict[str, list[str]] = {"session": [], "csrf": []}
_ANONYMOUS: dict[str, list[str]] = {}


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"{_COMPONENTS}{kind}/{name}"}


HEADERS: dict[str, Any] = {
    "X-Request-Id": {
        "description": "The request's id, also in the error envelope and the server's log line",
        "schema": {"type": "string"},
    },
    "Set-Cookie": {
        "description": (
            f"{SESSION} (HttpOnly) and {CSRF} (readable by the page, to be copied into the "
            f"{CSRF_HEADER} header): set by a sign-in or a /me refresh, cleared (Max-Age=0) by "
            "logout and by a 401 unauthenticated. Path=/, SameSite=Lax, Secure over HTTPS."
        ),
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds until the limit's window ends (also retry_after in the body)",
        "schema": {"type": "integer", "minimum": 1},
    },
    "Allow": {"description": "The methods this path accepts", "schema": {"type": "string"}},
    "Location": {"description": "Where the browser goes next", "schema": {"type": "string"}},
}
SECURITY_SCHEMES = {
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION,
        "description": "The session cookie a sign-in sets",
    },
    "csrf": {
        "type": "apiKey",
        "in": "header",
        "name": CSRF_HEADER,
        "description": (
            f"On POST, PUT, PATCH and DELETE with a {SESSION} cookie: the value of the {CSRF} "
            "cookie, which is bound to that session"
        ),
    },
}
# Not tied to one operation: any path can be unknown, any path asked with another method.
GENERIC = (ErrorCode.ROUTE_NOT_FOUND, ErrorCode.METHOD_NOT_ALLOWED)


def _header_refs(*names: str) -> dict[str, Any]:
    return {name: _ref("headers", name) for name in names}


def error_response(codes: list[ErrorCode]) -> dict[str, Any]:
    """One status's error answer: the shared Error schema, one example per code."""
    headers = ["X-Request-Id"]
    if ErrorCode.RATE_LIMITED in codes:
        headers.append("Retry-After")
    if ErrorCode.METHOD_NOT_ALLOWED in codes:
        headers.append("Allow")
    if ErrorCode.UNAUTHENTICATED in codes:
        headers.append("Set-Cookie")
    examples = {}
    for code in codes:
        value: dict[str, Any] = {
            "error": code.value,
            "message": code.message,
            "request_id": "req_0123456789abcdef",
        }
        if code is ErrorCode.RATE_LIMITED:
            value["retry_after"] = 60
        examples[code.value] = {"summary": code.message, "value": value}
    return {
        "description": ", ".join(code.value for code in codes),
        "headers": _header_refs(*headers),
        "content": {"application/json": {"schema": _ref("schemas", "Error"), "examples": examples}},
    }


def _security(endpoint: Endpoint) -> list[dict[str, list[str]]]:
    mutating = endpoint.method in MUTATING
    if endpoint.guard is Guard.SESSION:
        return [_SESSION_AND_CSRF if mutating else _SESSION_ONLY]
    if mutating:  # a session cookie, if sent, must come with its CSRF token
        return [_ANONYMOUS, _SESSION_AND_CSRF]
    return [_ANONYMOUS]


def _success(endpoint: Endpoint) -> tuple[str, dict[str, Any]]:
    headers = ["X-Request-Id"]
    if endpoint.sets_session:
        headers.append("Set-Cookie")
    answer = endpoint.response
    if isinstance(answer, Response):
        if answer.status == 302:
            headers.append("Location")
        body: dict[str, Any] = {"description": answer.description}
        if answer.content_type is not None:
            body["content"] = {answer.content_type: {"schema": {"type": "string"}}}
            if answer.content_type == "application/json":
                body["content"] = {answer.content_type: {"schema": {"type": "object"}}}
        body["headers"] = _header_refs(*headers)
        return str(answer.status), body
    return "200", {
        "description": (answer.__doc__ or answer.__name__).strip().splitlines()[0],
        "headers": _header_refs(*headers),
        "content": {"application/json": {"schema": _ref("schemas", answer.__name__)}},
    }


def operation(endpoint: Endpoint) -> dict[str, Any]:
    status, success = _success(endpoint)
    responses: dict[str, Any] = {status: success}
    by_status: dict[int, list[ErrorCode]] = {}
    for code in endpoint.codes:
        by_status.setdefault(code.status, []).append(code)
    for code in GENERIC:
        if code.status not in by_status:
            responses[str(code.status)] = _ref("responses", code.name.title().replace("_", ""))
    for error_status, codes in by_status.items():
        responses[str(error_status)] = error_response(codes)
    result: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "tags": [endpoint.tag.value],
        "summary": endpoint.summary,
    }
    if endpoint.description:
        result["description"] = endpoint.description
    if endpoint.sdk is not None:
        result["x-sdk-method"] = endpoint.sdk
    result["security"] = _security(endpoint)
    parameters = [
        {
            "name": param.name,
            "in": "path",
            "required": True,
            "description": param.description,
            "schema": {"type": "string", **({"format": param.format} if param.format else {})},
        }
        for param in endpoint.params
    ] + [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in endpoint.query
    ]
    if parameters:
        result["parameters"] = parameters
    if endpoint.request is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref("schemas", endpoint.request.__name__)}},
        }
    result["responses"] = dict(sorted(responses.items()))
    return result


def _schemas() -> dict[str, Any]:
    from ..api.types import Error

    types: list[Any] = [Error]
    for endpoint in ENDPOINTS:
        types += [endpoint.request] if endpoint.request is not None else []
        if not isinstance(endpoint.response, Response):
            types.append(endpoint.response)
    _, components = msgspec.json.schema_components(
        types, ref_template=_COMPONENTS + "schemas/{name}"
    )
    return dict(sorted(components.items()))


def paths() -> dict[str, Any]:
    result: dict[str, dict[str, Any]] = {}
    for endpoint in ENDPOINTS:
        result.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation(endpoint)
    return result


PATHS = paths()


def document(server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Triport console auth",
            "version": "1.0.0",
            "description": "Sign-in, cookie sessions, logout and API keys of the Triport console.",
        },
        "servers": [{"url": server_url}],
        "tags": [
            {"name": tag.value, "description": text} for tag, text in TAG_DESCRIPTIONS.items()
        ],
        "paths": PATHS,
        "components": {
            "schemas": _schemas(),
            "responses": {
                code.name.title().replace("_", ""): error_response([code]) for code in GENERIC
            },
            "headers": HEADERS,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
