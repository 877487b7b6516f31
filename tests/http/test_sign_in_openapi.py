"""The served OpenAPI document lists the spec's error codes for the wallet and Google routes."""

from __future__ import annotations

import httpx
import pytest

from tests.support.harness import ServerProcess
from tests.support.openapi import error_codes


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/v1/auth/wallet/challenge", "post", {"invalid_json", "invalid_address", "internal"}),
        (
            "/v1/auth/wallet/verify",
            "post",
            {"invalid_json", "invalid_nonce", "address_mismatch", "invalid_signature", "internal"},
        ),
        ("/v1/auth/google/start", "get", set()),
        ("/v1/auth/google/callback", "get", {"google_disabled"}),
    ],
)
def test_openapi_lists_each_sign_in_route_and_its_error_codes(
    server: ServerProcess, path: str, method: str, codes: set[str]
) -> None:
    document = httpx.get(f"{server.base_url}/openapi.json").json()
    operation = document["paths"][path][method]
    documented = set(error_codes(operation))
    assert codes <= documented
