"""Request bodies: read at most 4096 bytes, decode into the endpoint's typed structure.

Spec 1.5: larger bodies, malformed JSON and anything but a JSON object are `invalid_json`;
unknown fields are ignored; a field of the wrong type (or a required one missing) answers the
code that field names in its metadata (api/types.py), the first such field in declaration order.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar, cast

import msgspec

from ..api.types import field_codes
from ..errors import ErrorCode, InvalidInput
from ..limits import MAX_BODY
from .request import Request

_MISSING = object()
T = TypeVar("T", bound=msgspec.Struct)


async def read_body(request: Request) -> bytes:
    """The body, refused as `invalid_json` past MAX_BODY bytes without reading further."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise InvalidInput(ErrorCode.INVALID_JSON, "declared length over the limit")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise InvalidInput(ErrorCode.INVALID_JSON, "body over the limit")
    return body


@cache
def _decoder(struct: type[msgspec.Struct]) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(struct)


@cache
def _fields(struct: type[msgspec.Struct]) -> list[tuple[str, Any, bool, ErrorCode]]:
    """(name, annotated type, required, error code) per field, in declaration order."""
    codes = field_codes(struct)
    return [
        (info.name, *codes[info.name][:1], info.required, codes[info.name][1])
        for info in msgspec.structs.fields(struct)
    ]


def decode(body: bytes, struct: type[T]) -> T:
    try:
        return cast(T, _decoder(struct).decode(body))
    except msgspec.ValidationError:  # a subclass of DecodeError: test it first
        pass
    except msgspec.DecodeError:
        raise InvalidInput(ErrorCode.INVALID_JSON, "not valid JSON") from None
    raise InvalidInput(_failing_field(body, struct), "a field has the wrong type") from None


def _failing_field(body: bytes, struct: type[msgspec.Struct]) -> ErrorCode:
    """The code of the first field (in declaration order) whose value does not decode.

    Runs only for bodies that failed, so that the code does not depend on the order of the
    keys in the JSON text.
    """
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:  # a field failed before the parser reached the malformed part
        return ErrorCode.INVALID_JSON
    if not isinstance(value, dict):
        return ErrorCode.INVALID_JSON
    for name, annotated, required, code in _fields(struct):
        given = value.get(name, _MISSING)
        if given is _MISSING:
            if required:
                return code
            continue
        try:
            msgspec.convert(given, annotated)
        except msgspec.ValidationError:
            return code
    return ErrorCode.INVALID_JSON  # not reached: some field failed
