"""The served OpenAPI document as tools read it: a valid 3.1 document whose operations carry the
agreed operationIds, tags and SDK method names, whose limits are the server's, and from which
openapi-python-client generates a clean client (one module per operation, one Error model)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from tests.support.harness import ServerProcess
from tests.support.openapi import resolve

# operationId → (tag, SDK method); the SDK parity test reads the same names from the document.
OPERATIONS: dict[str, tuple[str, str | None]] = {
    "logout": ("auth", "auth.logout"),
    "getMe": ("auth", "auth.me"),
    "startEmailSignIn": ("auth", "auth.email_start"),
    "verifyEmailSignIn": ("auth", "auth.email_verify"),
    "createWalletChallenge": ("auth", "auth.wallet_challenge"),
    "verifyWalletSignIn": ("auth", "auth.wallet_verify"),
    "startGoogleSignIn": ("auth", "auth.google_start_url"),
    "finishGoogleSignIn": ("auth", None),
    "listKeys": ("keys", "keys.list"),
    "createKey": ("keys", "keys.create"),
    "revokeKey": ("keys", "keys.revoke"),
    "rotateKey": ("keys", "keys.rotate"),
    "listSessions": ("sessions", "sessions.list"),
    "revokeSession": ("sessions", "sessions.revoke"),
    "revokeOtherSessions": ("sessions", "sessions.revoke_others"),
    "listActivity": ("activity", "activity.list"),
    "startPasskeyRegistration": ("passkeys", "passkeys.register_options"),
    "finishPasskeyRegistration": ("passkeys", "passkeys.register_verify"),
    "listPasskeys": ("passkeys", "passkeys.list"),
    "deletePasskey": ("passkeys", "passkeys.remove"),
    "passkeySignInOptions": ("auth", "auth.passkey_options"),
    "verifyPasskeySignIn": ("auth", "auth.passkey_verify"),
    "getHealth": ("operations", None),
    "getReadiness": ("operations", None),
    "getOpenApi": ("operations", None),
    "getMetrics": ("operations", None),
    "getConsoleConfig": ("console", None),
}
SIGN_INS = {
    "verifyEmailSignIn",
    "verifyWalletSignIn",
    "verifyPasskeySignIn",
    "finishGoogleSignIn",
    "logout",
    "getMe",
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}


@pytest.fixture
def document(server: ServerProcess) -> dict[str, Any]:
    served: dict[str, Any] = httpx.get(server.base_url + "/openapi.json").json()
    return served


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for path, verbs in document["paths"].items():
        for verb, operation in verbs.items():
            found[operation["operationId"]] = operation | {"_path": path, "_verb": verb}
    return found


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_operation_ids_tags_and_sdk_methods(document: dict[str, Any]) -> None:
    found = operations(document)
    for operation_id, (tag, sdk) in OPERATIONS.items():
        operation = found[operation_id]
        assert operation["tags"] == [tag], operation_id
        assert operation.get("x-sdk-method") == sdk, operation_id
    for operation_id, operation in found.items():
        assert len(operation["tags"]) == 1 and operation["summary"], operation_id
        if operation_id not in OPERATIONS:  # the page routes
            assert operation["tags"] == ["console"] and "x-sdk-method" not in operation
    declared = {tag["name"] for tag in document["tags"]}
    assert {operation["tags"][0] for operation in found.values()} <= declared


def test_the_session_revokes_document_revoke_failed(document: dict[str, Any]) -> None:
    found = operations(document)
    for operation_id in ("revokeSession", "revokeOtherSessions"):
        failure = resolve(document, found[operation_id]["responses"]["500"])
        assert "revoke_failed" in failure["content"]["application/json"]["examples"], operation_id
    verify = found["verifyEmailSignIn"]["requestBody"]["content"]["application/json"]["schema"]
    body = resolve(document, verify)
    assert body["properties"]["sign_out_others"]["anyOf"][0]["type"] == "boolean"


def test_every_error_response_references_the_one_error_schema(document: dict[str, Any]) -> None:
    for operation_id, operation in operations(document).items():
        for status, response in operation["responses"].items():
            response = resolve(document, response)
            if int(status) < 400:
                continue
            content = response["content"]["application/json"]
            assert content["schema"] == ERROR_REF, (operation_id, status)
            for code, example in content["examples"].items():
                assert example["value"]["error"] == code
        assert {"404", "405"} <= set(operation["responses"]), operation_id


def test_headers_and_security_schemes(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["session"] == schemes["session"] | {
        "type": "apiKey",
        "in": "cookie",
        "name": "nl_session",
    }
    assert schemes["csrf"] == schemes["csrf"] | {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
    }
    found = operations(document)
    for operation_id in SIGN_INS:
        success = next(r for s, r in found[operation_id]["responses"].items() if int(s) < 400)
        assert "Set-Cookie" in success["headers"], operation_id
    for operation_id, operation in found.items():
        if "429" in operation["responses"]:
            assert "Retry-After" in operation["responses"]["429"]["headers"], operation_id
        assert "parameters" not in operation or all(
            p["in"] != "header" for p in operation["parameters"]
        ), "the CSRF header is a security scheme, not a parameter"
    assert found["createKey"]["security"] == [{"session": [], "csrf": []}]
    assert found["listKeys"]["security"] == [{"session": []}]
    assert (
        {} in found["logout"]["security"]
        and {"session": [], "csrf": []} in found["logout"]["security"]
    )
    allow = resolve(document, found["getMe"]["responses"]["405"])
    assert "Allow" in allow["headers"]


def test_schemas_carry_the_servers_limits(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    new_key = schemas["CreateKeyRequest"]["properties"]
    assert (new_key["name"]["minLength"], new_key["name"]["maxLength"]) == (1, 80)
    assert new_key["scopes"]["maxItems"] == 32
    scopes = next(s for s in new_key["scopes"]["anyOf"] if s.get("type") == "array")
    assert set(scopes["items"]["enum"]) == {
        "*",
        "solana:rpc",
        "eth:rpc",
        "polygon:rpc",
        "op:rpc",
        "bsc:rpc",
    }
    assert schemas["EmailStartRequest"]["properties"]["email"]["format"] == "email"
    assert schemas["EmailVerifyRequest"]["properties"]["request_id"]["format"] == "uuid"
    assert schemas["EmailVerifyRequest"]["properties"]["code"]["pattern"] == "^[0-9]{6}$"
    assert schemas["User"]["properties"]["id"]["format"] == "uuid"
    assert schemas["CreatedKey"]["properties"]["raw"]["pattern"] == "^nl_live_[0-9a-f]{64}$"
    assert schemas["Key"]["properties"]["key_prefix"]["pattern"] == "^nl_live_[0-9a-f]{8}$"
    key_id = next(p for p in operations(document)["revokeKey"]["parameters"] if p["in"] == "path")
    assert key_id["schema"]["format"] == "uuid"


def test_generated_python_client_is_clean_and_imports(
    document: dict[str, Any], tmp_path: Path
) -> None:
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(document))
    output = tmp_path / "client"
    bin_dir = Path(sys.executable).parent
    generated = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(source),
            "--output-path",
            str(output),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"PATH": f"{bin_dir}:{os.environ['PATH']}"},
        check=False,
    )
    report = generated.stdout + generated.stderr
    assert generated.returncode == 0, report
    assert "Warning" not in report and "Unable" not in report, report
    for operation_id, operation in operations(document).items():
        module = "".join("_" + c.lower() if c.isupper() else c for c in operation_id)
        assert (output / "api" / operation["tags"][0] / f"{module}.py").is_file(), operation_id
    models = {path.stem for path in (output / "models").glob("*.py")}
    assert "error" in models and "me" in models and "key" in models
    assert not [m for m in models if "response_4" in m or "response_5" in m], models
    sys.path.insert(0, str(tmp_path))
    try:
        logout = importlib.import_module("client.api.auth.logout")
        me = importlib.import_module("client.models.me")
        assert callable(logout.sync_detailed) and me.Me.__name__ == "Me"
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "client" or n.startswith("client.")]:
            del sys.modules[name]
