"""The served OpenAPI document lists the spec's error codes for the wallet and Google routes."""

from __future__ import annotations

import httpx
import pytest

from tests.support.harness import ServerProcess


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
    documented = {
        code
        for response in operation["responses"].values()
        for part in response.get("content", {})
        .get("application/json", {})
        .get("schema", {})
        .get("allOf", [])
        for code in part.get("properties", {}).get("error", {}).get("enum", [])
    }
    assert codes <= documented
