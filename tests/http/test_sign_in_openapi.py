"""The served OpenAPI document describes the wallet and Google routes with their codes."""

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
    # and the route really answers that method (no 405 / 404)
    answered = httpx.request(method.upper(), f"{server.base_url}{path}", json={})
    assert answered.status_code not in (404, 405)
