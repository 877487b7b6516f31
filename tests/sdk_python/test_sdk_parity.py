"""Both SDKs offer every operation the server describes, under the name the server gives it.

The served OpenAPI document names each operation's SDK method in ``x-sdk-method``
(``auth.email_start``: snake_case for Python; the TypeScript SDK uses the camelCase of each
part, ``auth.emailStart``). This test reads that document from a real server, then looks the
names up on the Python clients (both of them) and on the TypeScript SDK, compiled from its
sources and loaded by Node.js. It fails when an SDK lacks an operation, and also when an SDK
offers a method that the server describes nowhere (an operation the contract does not have).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import shutil
import subprocess
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
import pytest
from triport import AsyncConsoleClient, ConsoleClient

REPO = Path(__file__).resolve().parents[2]
TS_SDK = REPO / "sdk" / "typescript"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# Conveniences built only on a described operation (not operations of their own): each is
# allowed, and required in both SDKs, when the server describes the operation it builds on.
HELPERS = {"activity.iterate": "activity.list"}
# Conveniences only a browser SDK can offer (they drive navigator.credentials): allowed, and
# required, in the TypeScript SDK alone, when the server describes the operation they finish.
BROWSER_HELPERS = {"passkeys.register": "passkeys.register_verify"}

# Loads the compiled SDK and prints every resource's public methods: {"auth": ["me", ...], ...}.
LIST_TS_METHODS = """
const sdk = require(process.argv[1]);
const client = new sdk.TriportConsole({ baseUrl: "http://127.0.0.1:9" });
const resources = {};
for (const [name, value] of Object.entries(client)) {
  if (value === null || typeof value !== "object") continue;
  if (!value.constructor.name.endsWith("Api")) continue;
  const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(value));
  resources[name] = methods.filter((m) => m !== "constructor" && !m.startsWith("_")).sort();
}
console.log(JSON.stringify(resources));
"""


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


def sdk_methods(document: dict[str, Any]) -> dict[str, str]:
    """``x-sdk-method`` → ``"METHOD /path"`` of every operation that names one."""
    found: dict[str, str] = {}
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict) and "x-sdk-method" in operation:
                name = operation["x-sdk-method"]
                assert name not in found, f"{name} names two operations"
                found[name] = f"{method.upper()} {path}"
    return found


def helpers_of(described: dict[str, str], table: dict[str, str] = HELPERS) -> set[str]:
    return {helper for helper, base in table.items() if base in described}


def python_methods(client: ConsoleClient | AsyncConsoleClient) -> set[str]:
    """``resource.method`` for every public method of every resource of ``client``."""
    names: set[str] = set()
    for resource_name, attribute in inspect.getmembers(type(client)):
        if resource_name.startswith("_") or not isinstance(attribute, cached_property):
            continue
        resource = getattr(client, resource_name)
        names.update(
            f"{resource_name}.{name}"
            for name, member in inspect.getmembers(resource, inspect.ismethod)
            if not name.startswith("_")
        )
    return names


def typescript_methods(out_dir: Path) -> set[str]:
    """``resource.method`` of the TypeScript SDK, compiled from ``src`` into ``out_dir``."""
    node = shutil.which("node")
    tsc = TS_SDK / "node_modules" / "typescript" / "bin" / "tsc"
    assert node, "Node.js is needed to inspect the TypeScript SDK"
    assert tsc.exists(), "run `npm ci` in sdk/typescript first (./scripts/test does)"
    compile_args = ["-p", os.fspath(TS_SDK / "tsconfig.cjs.json"), "--outDir", os.fspath(out_dir)]
    no_extras = ["--declaration", "false", "--declarationMap", "false", "--sourceMap", "false"]
    subprocess.run(
        [node, os.fspath(tsc), *compile_args, *no_extras],
        check=True,
        capture_output=True,
        timeout=300,
    )
    listed = subprocess.run(
        [node, "-e", LIST_TS_METHODS, os.fspath(out_dir / "index.js")],
        # The compiled files live outside the package: resolve its dependencies from it.
        env={**os.environ, "NODE_PATH": os.fspath(TS_SDK / "node_modules")},
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    resources: dict[str, list[str]] = json.loads(listed.stdout)
    return {f"{resource}.{method}" for resource, methods in resources.items() for method in methods}


@pytest.fixture(scope="module")
def described(sdk_server: Any) -> dict[str, str]:
    response = httpx.get(f"{sdk_server.base_url}/openapi.json", timeout=10)
    assert response.status_code == 200
    return sdk_methods(response.json())


def test_the_python_clients_offer_exactly_the_described_operations(
    described: dict[str, str],
) -> None:
    assert described, "the served OpenAPI document names no SDK method (x-sdk-method)"
    with ConsoleClient(base_url="http://127.0.0.1:9") as blocking:
        offered = python_methods(blocking)

    async def async_methods() -> set[str]:
        async with AsyncConsoleClient(base_url="http://127.0.0.1:9") as client:
            return python_methods(client)

    offered_async = asyncio.run(async_methods())
    helpers = helpers_of(described)
    missing = {name: where for name, where in described.items() if name not in offered}
    assert not missing, f"ConsoleClient lacks {missing}"
    assert helpers <= offered, f"ConsoleClient lacks the helpers {helpers - offered}"
    assert offered_async == offered, "AsyncConsoleClient and ConsoleClient differ"
    assert not offered - set(described) - helpers, (
        f"methods no operation describes: {offered - set(described) - helpers}"
    )


def test_the_typescript_sdk_offers_exactly_the_described_operations(
    described: dict[str, str], tmp_path: Path
) -> None:
    assert described, "the served OpenAPI document names no SDK method (x-sdk-method)"
    offered = typescript_methods(tmp_path / "sdk")
    expected = {".".join(camel(part) for part in name.split(".")): name for name in described}
    missing = {ts: described[py] for ts, py in expected.items() if ts not in offered}
    assert not missing, f"the TypeScript SDK lacks {missing}"
    helpers = {
        ".".join(camel(part) for part in name.split("."))
        for name in helpers_of(described) | helpers_of(described, BROWSER_HELPERS)
    }
    assert helpers <= offered, f"the TypeScript SDK lacks the helpers {helpers - offered}"
    expected.update({helper: helper for helper in helpers})
    extra = offered - set(expected)
    assert not extra, f"methods no operation describes: {extra}"
