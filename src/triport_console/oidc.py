"""OpenID Connect client adapter: authorization-code flow with PKCE S256 (spec 2.7).

The provider is configured by issuer URL and discovered through
``/.well-known/openid-configuration``, so Google and any other compliant provider work the
same way. No web framework here: the edge hands in the callback's query parameters and the
two cookies, and gets a ``Profile`` back or an ``OidcError`` whose ``tag`` becomes
``/login?error=google_<tag>``.

The ID-token ``nonce`` is its own random value (not derived from the public ``state``), carried
next to the PKCE verifier in the verifier cookie (``<verifier>.<nonce>``), so the spec's two
cookies are enough to bind the ID token to the browser that started the flow.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote_plus, urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .errors import DomainError

SCOPES: Final = "openid email profile"
# Asymmetric algorithms only: "none" and HMAC (keyed with the client secret) are never accepted.
ID_TOKEN_ALGORITHMS: Final = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
# Clock skew tolerated on exp/iat, as provider and server clocks drift a little.
CLOCK_LEEWAY_SECONDS: Final = 60


class OidcError(DomainError):
    """A failed sign-in step; ``tag`` is the suffix of the spec's ``google_<tag>`` code.

    The edge answers these with a redirect to the console's login page, not an envelope.
    """

    tag: str = "exchange_failed"

    @property
    def redirect_code(self) -> str:
        return f"google_{self.tag}"


class Denied(OidcError):
    """The provider redirected back with an error (the user declined, typically)."""

    tag = "denied"


class StateMismatch(OidcError):
    """The callback's ``state`` is missing or differs from the state cookie (login CSRF)."""

    tag = "state_mismatch"


class MissingVerifier(OidcError):
    """The PKCE verifier cookie is gone (expired, or the flow started elsewhere)."""

    tag = "missing_verifier"


class ExchangeFailed(OidcError):
    """Discovery, the token exchange, the ID token or userinfo failed or did not validate."""

    tag = "exchange_failed"


class EmailUnverified(OidcError):
    """The account has no email, or the provider does not vouch for it."""

    tag = "email_unverified"


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and the secrets the edge keeps in its two cookies."""

    url: str
    state: str
    verifier: str
    nonce: str

    @property
    def verifier_cookie(self) -> str:
        """The value of the verifier cookie: the PKCE verifier and the ID-token nonce."""
        return f"{self.verifier}.{self.nonce}"


@dataclass(frozen=True)
class Profile:
    """The verified identity read from the ID token (and userinfo when needed)."""

    subject: str
    email: str
    email_verified: bool
    name: str | None
    picture: str | None


def _b64url_sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def split_verifier_cookie(cookie: str) -> tuple[str, str] | None:
    """`<verifier>.<nonce>` → (verifier, nonce); None for any other shape."""
    verifier, dot, nonce = cookie.partition(".")
    if not dot or not verifier or not nonce or "." in nonce:
        return None
    return verifier, nonce


class OidcClient:
    """One configured relying party; caches the provider's metadata and keys per process."""

    def __init__(
        self, issuer: str, client_id: str, client_secret: str, *, timeout: float = 5.0
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self._timeout = timeout
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)

    async def _get_json(self, http: httpx.AsyncClient, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await http.get(url, **kwargs)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ExchangeFailed(f"GET {url} failed") from exc
        if not isinstance(body, dict):
            raise ExchangeFailed(f"GET {url} did not return a JSON object")
        return body

    async def metadata(self, http: httpx.AsyncClient) -> dict[str, Any]:
        """Discovery document, fetched once; its issuer must be ours (OIDC Discovery 4.3)."""
        if self._metadata is None:
            found = await self._get_json(http, self.issuer + "/.well-known/openid-configuration")
            endpoints = ("authorization_endpoint", "token_endpoint", "jwks_uri")
            if found.get("issuer") != self.issuer or not all(
                isinstance(found.get(name), str) for name in endpoints
            ):
                raise ExchangeFailed("the discovery document does not describe this issuer")
            self._metadata = found
        return self._metadata

    async def authorization_request(
        self, redirect_uri: str, state_prefix: str = ""
    ) -> AuthorizationRequest:
        """Start a flow: fresh state and PKCE verifier, and the provider URL carrying them.

        `state_prefix` carries the caller's own flags through the flow; it comes back only
        with a state equal to the HttpOnly state cookie, so nobody can change it on the way.
        """
        async with self._http() as http:
            metadata = await self.metadata(http)
        state = state_prefix + secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(32)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": SCOPES,
                "state": state,
                "nonce": nonce,
                "code_challenge": _b64url_sha256(verifier),
                "code_challenge_method": "S256",
            }
        )
        endpoint: str = metadata["authorization_endpoint"]
        separator = "&" if "?" in endpoint else "?"
        return AuthorizationRequest(endpoint + separator + query, state, verifier, nonce)

    async def complete(
        self,
        params: Mapping[str, str],
        state_cookie: str | None,
        verifier_cookie: str | None,
        redirect_uri: str,
    ) -> Profile:
        """Finish a flow from the callback's query and cookies; raise ``OidcError`` on failure.

        The state is checked first: until it matches, nothing in the query is trusted.
        """
        state = params.get("state", "")
        if not state_cookie or not hmac.compare_digest(
            state.encode("utf-8"), state_cookie.encode("utf-8")
        ):
            raise StateMismatch("state does not match the state cookie")
        pair = split_verifier_cookie(verifier_cookie) if verifier_cookie else None
        if pair is None:
            raise MissingVerifier("no PKCE verifier cookie")
        verifier, nonce = pair
        if "error" in params:
            raise Denied(f"the provider answered {params['error'][:64]!r}")
        code = params.get("code")
        if not code:
            raise ExchangeFailed("the callback carries no code")
        if "iss" in params and params["iss"] != self.issuer:  # RFC 9207 mix-up defence
            raise ExchangeFailed("the callback names another issuer")
        async with self._http() as http:
            metadata = await self.metadata(http)
            tokens = await self._exchange(http, metadata, code, verifier, redirect_uri)
            claims = await self._id_token_claims(http, metadata, tokens, nonce)
            if "email" not in claims and isinstance(metadata.get("userinfo_endpoint"), str):
                claims = await self._with_userinfo(http, metadata, tokens, claims)
        return _profile(claims)

    async def _exchange(
        self,
        http: httpx.AsyncClient,
        metadata: Mapping[str, Any],
        code: str,
        verifier: str,
        redirect_uri: str,
    ) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        auth = httpx.Auth()  # the base class sends no credentials (client_secret_post)
        # OIDC Core 9: client_secret_basic is the default when discovery is silent.
        methods = metadata.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
        if "client_secret_basic" not in methods and "client_secret_post" in methods:
            form |= {"client_id": self.client_id, "client_secret": self._client_secret}
        else:  # RFC 6749 2.3.1: form-encode both parts before Basic
            auth = httpx.BasicAuth(quote_plus(self.client_id), quote_plus(self._client_secret))
        try:
            response = await http.post(metadata["token_endpoint"], data=form, auth=auth)
            response.raise_for_status()
            tokens = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ExchangeFailed("the token exchange failed") from exc
        if not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str):
            raise ExchangeFailed("the token response has no ID token")
        return tokens

    async def _keyset(self, http: httpx.AsyncClient, jwks_uri: str, refresh: bool) -> KeySet:
        if self._keys is None or refresh:
            try:
                self._keys = KeySet.import_key_set(await self._get_json(http, jwks_uri))  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError) as exc:
                raise ExchangeFailed("the provider's JWKS is unusable") from exc
        return self._keys

    async def _id_token_claims(
        self,
        http: httpx.AsyncClient,
        metadata: Mapping[str, Any],
        tokens: Mapping[str, Any],
        nonce: str,
    ) -> dict[str, Any]:
        registry = jwt.JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            exp={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        # A signature failure with cached keys is retried once with fresh keys (rotation).
        for refresh in (False, True):
            keys = await self._keyset(http, metadata["jwks_uri"], refresh)
            try:
                token = jwt.decode(tokens["id_token"], keys, algorithms=ID_TOKEN_ALGORITHMS)
            except (JoseError, ValueError) as exc:
                if refresh:
                    raise ExchangeFailed("the ID token signature does not verify") from exc
                continue
            break
        try:
            registry.validate(token.claims)
        except JoseError as exc:
            raise ExchangeFailed(f"the ID token is not valid: {exc.error}") from exc
        audience = token.claims.get("aud")
        several = isinstance(audience, list) and len(audience) > 1
        if several and "azp" not in token.claims:
            # OIDC Core 3.1.3.7 (4): with several audiences, azp says which party it is for.
            raise ExchangeFailed("the ID token has several audiences and no azp")
        if token.claims.get("azp", self.client_id) != self.client_id:
            raise ExchangeFailed("the ID token was issued to another party")
        return dict(token.claims)

    async def _with_userinfo(
        self,
        http: httpx.AsyncClient,
        metadata: Mapping[str, Any],
        tokens: Mapping[str, Any],
        claims: dict[str, Any],
    ) -> dict[str, Any]:
        """Providers that keep profile claims out of the ID token serve them here."""
        access_token = tokens.get("access_token")
        if not isinstance(access_token, str):
            return claims
        info = await self._get_json(
            http,
            metadata["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access_token}"},
        )
        if info.get("sub") != claims["sub"]:  # OIDC Core 5.3.2
            raise ExchangeFailed("userinfo describes another subject")
        return info | claims


def _optional_str(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def _profile(claims: Mapping[str, Any]) -> Profile:
    email = _optional_str(claims, "email")
    # Some providers send the boolean as a string; anything else is "not verified".
    verified = claims.get("email_verified") in (True, "true")
    if email is None or not verified:
        raise EmailUnverified("the provider does not vouch for an email address")
    return Profile(
        subject=str(claims["sub"]),
        email=email,
        email_verified=verified,
        name=_optional_str(claims, "name"),
        picture=_optional_str(claims, "picture"),
    )
