"""/v1/keys (spec §2.8) on both stores, through a real server and real email sign-ins."""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from typing import Any

import httpx
import pytest

from tests.support.harness import ServerProcess, run_sql
from tests.support.http import assert_envelope, session_headers

RAW = re.compile(r"nl_live_[0-9a-f]{64}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
KEY_FIELDS = {
    "id", "name", "key_prefix", "scopes", "rate_limit", "status", "created_at", "last_used_at",
    "is_default",
}  # fmt: skip
ALIASES = ["*", "solana:rpc", "eth:rpc", "polygon:rpc", "op:rpc", "bsc:rpc"]


def send(client: httpx.Client, method: str, path: str, **options: Any) -> httpx.Response:
    """A console call with the CSRF header the page would copy from the nl_csrf cookie."""
    headers = {"X-CSRF-Token": client.cookies["nl_csrf"]}
    return client.request(method, path, headers=headers, **options)


def session_cookie_headers(client: httpx.Client) -> dict[str, str | bytes]:
    """The signed-in client's cookies and CSRF header, for requests from other connections."""
    csrf = client.cookies["nl_csrf"]
    return session_headers(client.cookies["nl_session"], csrf, csrf)


def create(client: httpx.Client, **body: Any) -> httpx.Response:
    return send(client, "POST", "/v1/keys", json={"name": "test key", **body})


def created_key(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = create(client, **body)
    assert response.status_code == 200, response.text
    return response.json()


def listed(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("/v1/keys")
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"keys"}
    return response.json()["keys"]


def by_id(client: httpx.Client, key_id: object) -> dict[str, Any]:
    return next(key for key in listed(client) if key["id"] == key_id)


def assert_key_shape(key: dict[str, Any]) -> None:
    assert set(key) == KEY_FIELDS
    assert str(uuid.UUID(str(key["id"]))) == key["id"]
    assert re.fullmatch(r"nl_live_[0-9a-f]{8}", str(key["key_prefix"]))
    assert key["status"] in ("active", "revoked")
    assert TIMESTAMP.fullmatch(str(key["created_at"]))
    assert key["last_used_at"] is None or TIMESTAMP.fullmatch(str(key["last_used_at"]))
    assert isinstance(key["rate_limit"], int) and key["rate_limit"] >= 0
    assert isinstance(key["is_default"], bool)


# Shared rules ------------------------------------------------------------------------------
SOME_ID = "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"
ROUTES = [
    ("GET", "/v1/keys"),
    ("POST", "/v1/keys"),
    ("DELETE", f"/v1/keys/{SOME_ID}"),
    ("POST", f"/v1/keys/{SOME_ID}/rotate"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_a_session(server: ServerProcess, method: str, path: str) -> None:
    response = httpx.request(method, server.base_url + path, json={"name": "x"})
    assert_envelope(response, 401, "unauthenticated")


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_logged_out_session_is_401(server, new_session, method, path) -> None:
    client = new_session(server)
    headers = session_cookie_headers(client)
    assert send(client, "POST", "/v1/auth/logout").status_code == 200
    response = httpx.request(method, server.base_url + path, headers=headers, json={"name": "x"})
    assert_envelope(response, 401, "unauthenticated")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/keys", "GET, HEAD, POST"),
        ("DELETE", "/v1/keys", "GET, HEAD, POST"),
        ("GET", f"/v1/keys/{SOME_ID}", "DELETE"),
        ("POST", f"/v1/keys/{SOME_ID}", "DELETE"),
        ("PATCH", f"/v1/keys/{SOME_ID}", "DELETE"),
        ("GET", f"/v1/keys/{SOME_ID}/rotate", "POST"),
        ("DELETE", f"/v1/keys/{SOME_ID}/rotate", "POST"),
    ],
)
def test_wrong_verbs_are_405_with_allow(server, new_session, method, path, allow) -> None:
    response = send(new_session(server), method, path)
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow


# CSRF on the mutating routes: each case leaves the account's keys untouched.
def mutations(client: httpx.Client) -> list[tuple[str, str, dict[str, Any]]]:
    target = created_key(client)["key"]["id"]
    return [
        ("POST", "/v1/keys", {"json": {"name": "csrf"}}),
        ("DELETE", f"/v1/keys/{target}", {}),
        ("POST", f"/v1/keys/{target}/rotate", {}),
    ]


def test_csrf_cookie_missing_is_403_csrf_missing(server, new_session) -> None:
    client = new_session(server)
    for method, path, options in mutations(client):
        before = listed(client)
        headers = session_headers(client.cookies["nl_session"], None, client.cookies["nl_csrf"])
        response = httpx.request(method, server.base_url + path, headers=headers, **options)
        assert_envelope(response, 403, "csrf_missing")
        assert listed(client) == before


@pytest.mark.parametrize("header", [None, "", "not-the-cookie"])
def test_csrf_header_absent_or_different_is_403_csrf_invalid(server, new_session, header) -> None:
    client = new_session(server)
    for method, path, options in mutations(client):
        before = listed(client)
        headers = {} if header is None else {"X-CSRF-Token": header}
        response = client.request(method, path, headers=headers, **options)
        assert_envelope(response, 403, "csrf_invalid")
        assert listed(client) == before


def test_csrf_token_of_another_session_is_403_csrf_invalid(server, new_session) -> None:
    """Cookie and header agree, but the token is bound to someone else's session."""
    client, other = new_session(server), new_session(server)
    foreign = other.cookies["nl_csrf"]
    for method, path, options in mutations(client):
        before = listed(client)
        headers = session_headers(client.cookies["nl_session"], foreign, foreign)
        response = httpx.request(method, server.base_url + path, headers=headers, **options)
        assert_envelope(response, 403, "csrf_invalid")
        assert listed(client) == before


def test_foreign_origin_is_403_csrf_invalid(server, new_session) -> None:
    client = new_session(server)
    for method, path, options in mutations(client):
        before = listed(client)
        headers = {"X-CSRF-Token": client.cookies["nl_csrf"], "Origin": "https://evil.example"}
        response = client.request(method, path, headers=headers, **options)
        assert_envelope(response, 403, "csrf_invalid")
        assert listed(client) == before


# GET and POST /v1/keys ---------------------------------------------------------------------
def test_create_returns_the_secret_once_and_the_key(server, new_session) -> None:
    client = new_session(server)
    response = create(client, name="Indexer", scopes=["eth:rpc", "bsc:rpc"], rate_limit=250)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"raw", "key"}
    assert RAW.fullmatch(body["raw"])
    key = body["key"]
    assert_key_shape(key)
    assert key["key_prefix"] == body["raw"][:16]
    assert (key["name"], key["scopes"], key["rate_limit"]) == (
        "Indexer",
        ["eth:rpc", "bsc:rpc"],
        250,
    )
    assert (key["status"], key["is_default"], key["last_used_at"]) == ("active", False, None)
    assert by_id(client, key["id"]) == key
    assert body["raw"] not in client.get("/v1/keys").text


def test_list_is_newest_first_with_revoked_keys_and_no_secrets(server, new_session) -> None:
    client = new_session(server)
    assert listed(client) == []  # /me has not bootstrapped a default key yet
    default = client.get("/v1/auth/me").json()["default_key"]
    first = created_key(client, name="first")["key"]
    second = created_key(client, name="second")["key"]
    assert send(client, "DELETE", f"/v1/keys/{first['id']}").status_code == 200
    keys = listed(client)
    assert [key["id"] for key in keys] == [second["id"], first["id"], default["id"]]
    assert [key["status"] for key in keys] == ["active", "revoked", "active"]
    for key in keys:
        assert_key_shape(key)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("  Trimmed  ", "Trimmed"),
        ("\t\n name \u3000", "name"),
        ("é" * 80, "é" * 80),
        ("e\u0301" * 40, "e\u0301" * 40),  # 80 code points (40 letters + 40 combining accents)
        ("🔑" * 80, "🔑" * 80),  # 80 code points, 160 UTF-16 units
        ("x", "x"),
    ],
)
def test_names_are_trimmed_and_up_to_80_code_points(server, new_session, given, stored) -> None:
    assert created_key(new_session(server), name=given)["key"]["name"] == stored


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "\u3000",
        "é" * 81,
        "🔑" * 81,
        "a" * 81,
        None,
        7,
        ["a"],
        "a\x00b",
        "two\nlines",
        "\x7f",
    ],
)
def test_bad_names_are_400_invalid_name(server, new_session, name) -> None:
    client = new_session(server)
    assert_envelope(create(client, name=name), 400, "invalid_name")
    assert listed(client) == []


def test_missing_name_is_400_invalid_name(server, new_session) -> None:
    client = new_session(server)
    assert_envelope(send(client, "POST", "/v1/keys", json={}), 400, "invalid_name")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (None, ["*"]),
        ([], ["*"]),
        (ALIASES, ALIASES),
        (["eth:rpc", "*", "eth:rpc", "op:rpc", "*"], ["eth:rpc", "*", "op:rpc"]),
        (["polygon:rpc"] * 32, ["polygon:rpc"]),
    ],
)
def test_scopes_default_to_all_and_duplicates_collapse(server, new_session, given, stored) -> None:
    body = {} if given is None else {"scopes": given}
    assert created_key(new_session(server), **body)["key"]["scopes"] == stored


@pytest.mark.parametrize(
    "scopes",
    [
        ["eth"],
        ["ETH:RPC"],
        ["eth:rpc", "btc:rpc"],
        [" eth:rpc"],
        [1],
        [None],
        "eth:rpc",
        {"eth:rpc": 1},
    ],
)
def test_unknown_scopes_are_400_invalid_scope(server, new_session, scopes) -> None:
    assert_envelope(create(new_session(server), scopes=scopes), 400, "invalid_scope")


def test_more_than_32_scopes_is_400_too_many_scopes(server, new_session) -> None:
    client = new_session(server)
    assert_envelope(create(client, scopes=["eth:rpc"] * 33), 400, "too_many_scopes")
    assert listed(client) == []


@pytest.mark.parametrize(
    ("given", "stored"),
    [(None, 0), (0, 0), (100, 100), (-1, 0), (-(2**62), 0), (2**31 - 1, 2**31 - 1)],
)
def test_rate_limit_is_an_integer_and_negative_clamps_to_0(
    server, new_session, given, stored
) -> None:
    body = {} if given is None else {"rate_limit": given}
    key = created_key(new_session(server), **body)["key"]
    assert key["rate_limit"] == stored


@pytest.mark.parametrize("rate_limit", [True, False, 1.5, 10.0, "10", [10], {"n": 1}, 2**31])
def test_non_integer_rate_limit_is_400_invalid_rate_limit(server, new_session, rate_limit) -> None:
    assert_envelope(create(new_session(server), rate_limit=rate_limit), 400, "invalid_rate_limit")


@pytest.mark.parametrize("content", [b"[]", b"{", b'"name"', b'{"name": "' + b"a" * 4100 + b'"}'])
def test_bad_bodies_are_400_invalid_json(server, new_session, content) -> None:
    client = new_session(server)
    response = send(client, "POST", "/v1/keys", content=content)
    assert_envelope(response, 400, "invalid_json")


def test_unknown_fields_are_ignored(server, new_session) -> None:
    key = created_key(new_session(server), is_default=True, status="revoked", id=SOME_ID)["key"]
    assert (key["is_default"], key["status"]) == (False, "active")
    assert key["id"] != SOME_ID


# DELETE /v1/keys/{id} ----------------------------------------------------------------------
def test_revoke_is_ok_and_idempotent(server, new_session) -> None:
    client = new_session(server)
    key = created_key(client)["key"]
    for _ in range(2):
        response = send(client, "DELETE", f"/v1/keys/{key['id']}")
        assert response.status_code == 200
        assert response.json() == {"ok": True}
    assert by_id(client, key["id"])["status"] == "revoked"


def test_revoke_accepts_an_upper_case_uuid(server, new_session) -> None:
    client = new_session(server)
    key = created_key(client)["key"]
    assert send(client, "DELETE", f"/v1/keys/{str(key['id']).upper()}").status_code == 200
    assert by_id(client, key["id"])["status"] == "revoked"


BAD_IDS = [
    "not-a-uuid",
    "1234",
    SOME_ID[:-1],
    SOME_ID + "0",
    "{" + SOME_ID + "}",
    SOME_ID.replace("-", ""),
]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_revoke_and_rotate_with_a_malformed_id_are_400_invalid_id(server, new_session, bad) -> None:
    client = new_session(server)
    assert_envelope(send(client, "DELETE", f"/v1/keys/{bad}"), 400, "invalid_id")
    assert_envelope(send(client, "POST", f"/v1/keys/{bad}/rotate"), 400, "invalid_id")


def test_revoke_and_rotate_of_an_unknown_key_are_404_not_found(server, new_session) -> None:
    client = new_session(server)
    unknown = str(uuid.uuid4())
    assert_envelope(send(client, "DELETE", f"/v1/keys/{unknown}"), 404, "not_found")
    assert_envelope(send(client, "POST", f"/v1/keys/{unknown}/rotate"), 404, "not_found")


# POST /v1/keys/{id}/rotate -----------------------------------------------------------------
def test_rotate_replaces_the_key_with_the_same_settings(server, new_session) -> None:
    client = new_session(server)
    old = created_key(client, name="Rotated", scopes=["solana:rpc"], rate_limit=9)
    old_key = old["key"]
    response = send(client, "POST", f"/v1/keys/{old_key['id']}/rotate")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"old_id", "new", "raw"}
    assert body["old_id"] == old_key["id"]
    new = body["new"]
    assert_key_shape(new)
    assert RAW.fullmatch(body["raw"]) and body["raw"] != old["raw"]
    assert new["key_prefix"] == body["raw"][:16]
    assert new["id"] != old_key["id"]
    inherited = ("name", "scopes", "rate_limit", "is_default")
    assert {f: new[f] for f in inherited} == {f: old_key[f] for f in inherited}
    assert (new["status"], new["last_used_at"]) == ("active", None)
    assert by_id(client, new["id"]) == new
    assert by_id(client, old_key["id"])["status"] == "revoked"


def test_rows_hold_only_the_secret_hash_and_rotation_links_old_to_new(
    server, new_session, database_url
) -> None:
    client = new_session(server)
    old = created_key(client)
    rotated = send(client, "POST", f"/v1/keys/{old['key']['id']}/rotate").json()
    rows = {
        str(row[0]): row[1:]
        for row in run_sql(
            database_url,
            "SELECT id, key_hash, replaced_by, revoked_at FROM api_keys WHERE id IN ($1, $2)",
            old["key"]["id"],
            rotated["new"]["id"],
        )
    }
    old_hash, replaced_by, revoked_at = rows[old["key"]["id"]]
    new_hash, new_replaced_by, new_revoked_at = rows[rotated["new"]["id"]]
    assert bytes(old_hash) == hashlib.sha256(old["raw"].encode()).digest()
    assert bytes(new_hash) == hashlib.sha256(rotated["raw"].encode()).digest()
    assert str(replaced_by) == rotated["new"]["id"] and revoked_at is not None
    assert new_replaced_by is None and new_revoked_at is None
    stored = repr(run_sql(database_url, "SELECT * FROM api_keys"))
    assert old["raw"][8:] not in stored and rotated["raw"][8:] not in stored
    assert old["raw"] not in server.log_text() and rotated["raw"] not in server.log_text()


def test_rotating_a_revoked_key_is_409_key_revoked(server, new_session) -> None:
    client = new_session(server)
    revoked = created_key(client)["key"]["id"]
    send(client, "DELETE", f"/v1/keys/{revoked}")
    assert_envelope(send(client, "POST", f"/v1/keys/{revoked}/rotate"), 409, "key_revoked")
    rotated = created_key(client)["key"]["id"]
    assert send(client, "POST", f"/v1/keys/{rotated}/rotate").status_code == 200
    assert_envelope(send(client, "POST", f"/v1/keys/{rotated}/rotate"), 409, "key_revoked")
    assert len([key for key in listed(client) if key["status"] == "active"]) == 1


def race(
    server: ServerProcess, count: int, method: str, path: str, **options: Any
) -> list[httpx.Response]:
    """Send one request from each of `count` threads, released together on open connections."""
    barrier = threading.Barrier(count)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def run() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            http.get("/healthz")  # connect first, so the requests leave at the same moment
            barrier.wait(timeout=10)
            response = http.request(method, path, **options)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == count
    return results


@pytest.mark.parametrize("default", [False, True])
def test_concurrent_rotations_of_one_key_make_one_successor(server, new_session, default) -> None:
    client = new_session(server)
    if default:
        target = client.get("/v1/auth/me").json()["default_key"]["id"]
    else:
        target = created_key(client)["key"]["id"]
    headers = session_cookie_headers(client)
    responses = race(server, 12, "POST", f"/v1/keys/{target}/rotate", headers=headers)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [409] * 11, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_envelope(response, 409, "key_revoked")
    winner = next(r.json() for r in responses if r.status_code == 200)
    successors = [key for key in listed(client) if key["id"] != target]
    assert [key["id"] for key in successors] == [winner["new"]["id"]]
    assert by_id(client, target)["status"] == "revoked"


# Ownership ---------------------------------------------------------------------------------
def test_users_never_see_revoke_or_rotate_each_others_keys(server, new_session) -> None:
    alice, bob = new_session(server), new_session(server)
    alice_default = alice.get("/v1/auth/me").json()["default_key"]["id"]
    bob.get("/v1/auth/me")
    alice_key = created_key(alice, name="alice's")["key"]["id"]
    bob_key = created_key(bob, name="bob's")["key"]["id"]
    for target in (alice_key, alice_default):
        assert_envelope(send(bob, "DELETE", f"/v1/keys/{target}"), 404, "not_found")
        assert_envelope(send(bob, "POST", f"/v1/keys/{target}/rotate"), 404, "not_found")
    assert_envelope(send(alice, "DELETE", f"/v1/keys/{bob_key}"), 404, "not_found")
    alice_ids = {key["id"] for key in listed(alice)}
    bob_ids = {key["id"] for key in listed(bob)}
    assert alice_ids == {alice_key, alice_default}
    assert not alice_ids & bob_ids
    assert all(key["status"] == "active" for key in listed(alice))
    # Revoked keys stay private too: a revoked key of Alice's is not Bob's to rotate (404).
    send(alice, "DELETE", f"/v1/keys/{alice_key}")
    assert_envelope(send(bob, "POST", f"/v1/keys/{alice_key}/rotate"), 404, "not_found")


# The default key ---------------------------------------------------------------------------
def test_default_key_is_bootstrapped_refused_revoke_and_replaced_by_rotate(server, new_session):
    client = new_session(server)
    first = client.get("/v1/auth/me").json()["default_key"]
    assert RAW.fullmatch(first.pop("raw")) and first.pop("created") is True
    assert by_id(client, first["id"]) == first
    assert first["is_default"] is True

    assert_envelope(send(client, "DELETE", f"/v1/keys/{first['id']}"), 409, "cannot_revoke_default")
    assert by_id(client, first["id"])["status"] == "active"

    rotated = send(client, "POST", f"/v1/keys/{first['id']}/rotate").json()
    assert rotated["new"]["is_default"] is True and rotated["new"]["name"] == "Default"
    me = client.get("/v1/auth/me").json()["default_key"]
    assert me == rotated["new"]  # no raw, no created: the rotation showed the secret once
    assert by_id(client, first["id"])["status"] == "revoked"
    assert_envelope(send(client, "DELETE", f"/v1/keys/{me['id']}"), 409, "cannot_revoke_default")
    # The revoked former default is just a revoked key now: revoking it again is fine.
    assert send(client, "DELETE", f"/v1/keys/{first['id']}").status_code == 200
    assert [key["is_default"] for key in listed(client) if key["status"] == "active"] == [True]


# The active-key limit ----------------------------------------------------------------------
def test_active_key_limit_is_409_too_many_keys(make_server, new_session) -> None:
    limited = make_server({"TRIPORT_MAX_ACTIVE_KEYS": "3"})
    client = new_session(limited)
    client.get("/v1/auth/me")  # the default key counts
    keys = [created_key(client, name=f"k{i}")["key"]["id"] for i in range(2)]
    assert_envelope(create(client), 409, "too_many_keys")
    # Rotation keeps the count, so it is allowed at the limit.
    rotated = send(client, "POST", f"/v1/keys/{keys[0]}/rotate")
    assert rotated.status_code == 200
    assert_envelope(create(client), 409, "too_many_keys")
    send(client, "DELETE", f"/v1/keys/{keys[1]}")
    assert create(client).status_code == 200
    assert len([key for key in listed(client) if key["status"] == "active"]) == 3
    # The limit is per user.
    assert create(new_session(limited)).status_code == 200


def test_concurrent_creates_stop_exactly_at_the_limit(make_server, new_session) -> None:
    limited = make_server({"TRIPORT_MAX_ACTIVE_KEYS": "3"}, workers=2)
    client = new_session(limited)
    headers = session_cookie_headers(client)
    responses = race(limited, 8, "POST", "/v1/keys", headers=headers, json={"name": "n"})
    assert sorted(r.status_code for r in responses) == [200] * 3 + [409] * 5
    assert len(listed(client)) == 3


# The OpenAPI document ----------------------------------------------------------------------
DOCUMENTED = {
    ("/v1/keys", "get"): {"unauthenticated", "internal"},
    ("/v1/keys", "post"): {
        "invalid_json", "invalid_name", "invalid_scope", "too_many_scopes", "invalid_rate_limit",
        "unauthenticated", "csrf_missing", "csrf_invalid", "too_many_keys", "internal",
    },
    ("/v1/keys/{id}", "delete"): {
        "invalid_id", "unauthenticated", "csrf_missing", "csrf_invalid",
        "not_found", "cannot_revoke_default", "internal",
    },
    ("/v1/keys/{id}/rotate", "post"): {
        "invalid_id", "unauthenticated", "csrf_missing", "csrf_invalid",
        "not_found", "key_revoked", "internal",
    },
}  # fmt: skip


def test_openapi_documents_every_key_error_code(server) -> None:
    """Each code these tests provoke is listed under its route (tests/http/test_openapi.py
    checks that routes and verbs match the router)."""
    paths = httpx.get(server.base_url + "/openapi.json").json()["paths"]
    for (path, verb), codes in DOCUMENTED.items():
        responses = paths[path][verb]["responses"]
        assert "200" in responses
        documented = {
            code
            for status, response in responses.items()
            if status != "200"
            for code in response["content"]["application/json"]["schema"]["allOf"][1]["properties"][
                "error"
            ]["enum"]
        }
        assert documented == codes, (path, verb)
