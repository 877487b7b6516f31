"""The OpenID Connect adapter against a real OpenID provider (oidc-provider on loopback)."""

from __future__ import annotations

import asyncio
import hashlib
from base64 import urlsafe_b64encode
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, REDIRECT_PATH, OidcProvider
from triport_console.oidc import (
    AuthorizationRequest,
    Denied,
    EmailUnverified,
    ExchangeFailed,
    MissingVerifier,
    OidcClient,
    Profile,
    StateMismatch,
)

# Any port is fine: the test client is a native one (RFC 8252 loopback redirect).
REDIRECT_URI = f"http://127.0.0.1:9{REDIRECT_PATH}"


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider() as running:
        yield running


@pytest.fixture(autouse=True)
def default_account(provider: OidcProvider) -> None:
    provider.configure(email="grace@example.com", email_verified=True, consent="approve")


def client_for(provider: OidcProvider, secret: str = CLIENT_SECRET) -> OidcClient:
    return OidcClient(provider.issuer, CLIENT_ID, secret, timeout=5)


def begin(
    provider: OidcProvider, client: OidcClient
) -> tuple[AuthorizationRequest, dict[str, str]]:
    """Start a flow and walk the provider's login and consent; return the callback query."""
    request = asyncio.run(client.authorization_request(REDIRECT_URI))
    with httpx.Client(timeout=10) as browser:
        callback = provider.authorize(browser, request.url)
    # Compared without the query, so that a failure never prints the authorization code.
    assert str(callback.copy_with(query=None)) == REDIRECT_URI
    return request, {k: v[0] for k, v in parse_qs(callback.query.decode()).items()}


def finish(
    client: OidcClient, params: dict[str, str], state: str | None, verifier: str | None
) -> Profile:
    return asyncio.run(client.complete(params, state, verifier, REDIRECT_URI))


def test_full_code_flow_reads_the_profile_from_userinfo(provider: OidcProvider) -> None:
    client = client_for(provider)
    request, params = begin(provider, client)
    profile = finish(client, params, request.state, request.verifier_cookie)
    assert profile == Profile(
        subject="oidc-test-user-1",
        email="grace@example.com",
        email_verified=True,
        name="Grace Hopper",
        picture="https://example.com/grace.png",
    )


def test_full_code_flow_with_claims_in_the_id_token_and_client_secret_post() -> None:
    with OidcProvider(
        claims_in_id_token=True, token_auth="client_secret_post", email="linus@example.com"
    ) as google_like:
        client = client_for(google_like)
        request, params = begin(google_like, client)
        profile = finish(client, params, request.state, request.verifier_cookie)
    assert (profile.email, profile.email_verified) == ("linus@example.com", True)


def test_authorization_url_asks_for_code_with_pkce_s256_and_an_independent_nonce(
    provider: OidcProvider,
) -> None:
    request = asyncio.run(client_for(provider).authorization_request(REDIRECT_URI))
    url = urlsplit(request.url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    challenge = urlsafe_b64encode(hashlib.sha256(request.verifier.encode()).digest())
    assert f"{url.scheme}://{url.netloc}" == provider.issuer
    assert query == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile",
        "state": request.state,
        "nonce": request.nonce,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    assert len(request.state) >= 43 and 43 <= len(request.verifier) <= 128
    # Issue 12: the nonce is its own 256-bit random value, not a function of the public state.
    assert len(request.nonce) >= 43 and request.nonce not in (request.state, request.verifier)
    assert request.verifier_cookie == f"{request.verifier}.{request.nonce}"


def test_two_flows_get_different_state_and_verifier(provider: OidcProvider) -> None:
    client = client_for(provider)
    first = asyncio.run(client.authorization_request(REDIRECT_URI))
    second = asyncio.run(client.authorization_request(REDIRECT_URI))
    assert first.state != second.state and first.verifier != second.verifier


def test_denied_consent_is_denied(provider: OidcProvider) -> None:
    provider.configure(consent="deny")
    client = client_for(provider)
    request, params = begin(provider, client)
    assert params["error"] == "access_denied"
    with pytest.raises(Denied):
        finish(client, params, request.state, request.verifier_cookie)


@pytest.mark.parametrize("cookie", [None, "", "another-state"])
def test_state_not_matching_the_cookie_is_a_state_mismatch(
    provider: OidcProvider, cookie: str | None
) -> None:
    client = client_for(provider)
    request, params = begin(provider, client)
    with pytest.raises(StateMismatch):
        finish(client, params, cookie, request.verifier)


def test_missing_verifier_cookie_is_reported(provider: OidcProvider) -> None:
    client = client_for(provider)
    request, params = begin(provider, client)
    with pytest.raises(MissingVerifier):
        finish(client, params, request.state, None)


def test_wrong_verifier_fails_the_exchange_because_the_provider_enforces_pkce(
    provider: OidcProvider,
) -> None:
    client = client_for(provider)
    request, params = begin(provider, client)
    with pytest.raises(ExchangeFailed):
        finish(client, params, request.state, request.verifier[::-1] + "." + request.nonce)


def test_code_is_single_use(provider: OidcProvider) -> None:
    client = client_for(provider)
    request, params = begin(provider, client)
    finish(client, params, request.state, request.verifier_cookie)
    with pytest.raises(ExchangeFailed):
        finish(client, params, request.state, request.verifier_cookie)


def test_wrong_client_secret_fails_the_exchange(provider: OidcProvider) -> None:
    client = client_for(provider, secret="not-the-secret")
    request, params = begin(provider, client)
    with pytest.raises(ExchangeFailed):
        finish(client, params, request.state, request.verifier_cookie)


@pytest.mark.parametrize("account", [{"email_verified": False}, {"email": ""}])
def test_unverified_or_missing_email_is_refused(
    provider: OidcProvider, account: dict[str, object]
) -> None:
    provider.configure(**account)
    client = client_for(provider)
    request, params = begin(provider, client)
    with pytest.raises(EmailUnverified):
        finish(client, params, request.state, request.verifier_cookie)


def test_stopped_provider_fails_the_exchange() -> None:
    with OidcProvider() as doomed:
        client = client_for(doomed)
        request, params = begin(doomed, client)
    with pytest.raises(ExchangeFailed):
        finish(client, params, request.state, request.verifier_cookie)


def test_discovery_of_another_issuer_is_refused(provider: OidcProvider) -> None:
    # The provider's discovery names "http://127.0.0.1:PORT", not this spelling of it.
    client = OidcClient(provider.issuer.replace("127.0.0.1", "localhost"), CLIENT_ID, "x")
    with pytest.raises(ExchangeFailed):
        asyncio.run(client.authorization_request(REDIRECT_URI))


def test_an_id_token_for_another_nonce_is_refused(provider: OidcProvider) -> None:
    """The nonce travels in the verifier cookie; an ID token minted for another flow's nonce
    does not complete this one."""
    client = client_for(provider)
    request, params = begin(provider, client)
    other = asyncio.run(client.authorization_request(REDIRECT_URI))
    with pytest.raises(ExchangeFailed):
        finish(client, params, request.state, f"{request.verifier}.{other.nonce}")
