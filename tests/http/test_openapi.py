"""The served OpenAPI document describes exactly the routes the server answers."""

from __future__ import annotations

import httpx

from tests.support.openapi import error_codes
from triport_console.http.error_codes import ERRORS

VERBS = {"get", "post", "put", "patch", "delete"}


def test_document_and_router_agree(server):
    document = httpx.get(server.base_url + "/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    for path, operations in document["paths"].items():
        concrete = path.replace("{id}", "00000000-0000-4000-8000-000000000000").replace(
            "{name}", "app.js"
        )
        for verb in VERBS:
            response = httpx.request(verb.upper(), server.base_url + concrete)
            if verb in operations:
                assert response.status_code != 405, (verb, path)
                documented = set(operations[verb]["responses"])
                assert str(response.status_code) in documented, (verb, path, response.text)
            elif path == "/metrics":  # without its token, a path that does not exist (§2.13)
                assert response.status_code == 404, (verb, path)
            else:
                assert response.status_code == 405, (verb, path)


def test_every_documented_error_code_is_in_the_table(server):
    document = httpx.get(server.base_url + "/openapi.json").json()
    for operations in document["paths"].values():
        for operation in operations.values():
            for code, status in error_codes(operation, document).items():
                assert ERRORS[code][0] == status


def test_every_route_of_the_router_is_documented(tmp_path):
    import asyncio

    from triport_console.config import load_settings
    from triport_console.http.app import ConsoleApp
    from triport_console.http.openapi import PATHS

    settings = load_settings(
        {
            "TRIPORT_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
            "TRIPORT_SECRET_KEY": "s" * 40,
            "TRIPORT_METRICS_TOKEN": "m" * 40,  # so that /metrics is served too
        }
    )
    app = ConsoleApp(settings)

    async def routes() -> dict[str, set[str]]:
        await app.startup()
        try:
            return {r.path: {m.lower() for m in r.methods} for r in app.router.routes}
        finally:
            await app.shutdown()

    served = asyncio.run(routes())
    documented = {path: set(ops) & VERBS for path, ops in PATHS.items()}
    assert served == documented
