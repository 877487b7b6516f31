"""Reading the served OpenAPI document: which error codes an operation's responses name.

Every error response references the shared `Error` schema and lists its codes as named examples
(one per code); the operation-independent 404/405 answers are `$ref`s to components/responses.
"""

from __future__ import annotations

from typing import Any


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def error_codes(
    operation: dict[str, Any], document: dict[str, Any] | None = None
) -> dict[str, int]:
    """code → status for the operation's error responses; shared ones only with `document`."""
    codes: dict[str, int] = {}
    for status, response in operation["responses"].items():
        if "$ref" in response:
            if document is None:
                continue
            response = resolve(document, response)
        content = response.get("content", {}).get("application/json")
        if content is None or content.get("schema") != {"$ref": "#/components/schemas/Error"}:
            continue
        for code in content["examples"]:
            codes[code] = int(status)
    return codes
