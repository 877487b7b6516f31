"""ID tokens with several audiences (OpenID Connect Core 3.1.3.7, steps 3 to 5), issue 12.

The loopback provider (oidc-provider) never issues a multi-audience ID token, so these tests
serve a minimal provider of their own on loopback: discovery, a token endpoint and a JWKS, with
ID tokens signed by a fresh RSA key. The client under test runs its real flow against it: state
check, code exchange over HTTP, JWKS fetch, signature and claims validation.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from triport_console.oidc import ExchangeFailed, OidcClient

CLIENT_ID = "triport-console"
REDIRECT_URI = "http://127.0.0.1:9/v1/auth/google/callback"


class MiniProvider:
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.claims: dict[str, Any] = {}
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _json(self, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    self._json(
                        {
                            "issuer": provider.issuer,
                            "authorization_endpoint": provider.issuer + "/auth",
                            "token_endpoint": provider.issuer + "/token",
                            "jwks_uri": provider.issuer + "/jwks",
                            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                        }
                    )
                else:
                    self._json({"keys": [provider.key.as_dict(private=False)]})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                token = jwt.encode({"alg": "RS256", "kid": "k1"}, provider.claims, provider.key)
                self._json({"id_token": token, "access_token": "at", "token_type": "Bearer"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def id_token_claims(self, nonce: str, **extra: Any) -> None:
        now = int(time.time())
        self.claims = {
            "iss": self.issuer,
            "sub": "subject-1",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": "grace@example.com",
            "email_verified": True,
            **extra,
        }


@pytest.fixture(scope="module")
def mini() -> Iterator[MiniProvider]:
    provider = MiniProvider()
    yield provider
    provider.server.shutdown()


def complete(mini: MiniProvider, **claims: Any) -> str:
    client = OidcClient(mini.issuer, CLIENT_ID, "secret", timeout=5)
    request = asyncio.run(client.authorization_request(REDIRECT_URI))
    mini.id_token_claims(request.nonce, **claims)
    params = {"state": request.state, "code": "the-code"}
    profile = asyncio.run(
        client.complete(params, request.state, request.verifier_cookie, REDIRECT_URI)
    )
    return profile.email


def test_several_audiences_without_azp_are_refused(mini: MiniProvider) -> None:
    with pytest.raises(ExchangeFailed, match="azp"):
        complete(mini, aud=[CLIENT_ID, "another-client"])


def test_several_audiences_with_our_azp_are_accepted(mini: MiniProvider) -> None:
    assert complete(mini, aud=[CLIENT_ID, "another-client"], azp=CLIENT_ID) == "grace@example.com"


def test_several_audiences_with_another_azp_are_refused(mini: MiniProvider) -> None:
    with pytest.raises(ExchangeFailed):
        complete(mini, aud=[CLIENT_ID, "another-client"], azp="another-client")


@pytest.mark.parametrize("audience", [CLIENT_ID, [CLIENT_ID]])
def test_one_audience_needs_no_azp(mini: MiniProvider, audience: object) -> None:
    assert complete(mini, aud=audience) == "grace@example.com"
