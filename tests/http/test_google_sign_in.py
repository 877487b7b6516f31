"""Google sign-in over HTTP (spec 2.7) against a real OpenID provider on loopback.

The provider is the certified `oidc-provider` (Node.js) configured like Google (profile claims
in the ID token). The test's httpx client plays the browser: it follows the server's redirect
to the provider, walks the provider's login and consent, and brings the code back.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.harness import ServerProcess, SmtpSink
from tests.support.http import assert_envelope, set_cookies
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, OidcProvider

CONSOLE = "http://console.example.test"
FLOW_COOKIES = ("nl_google_state", "nl_google_verifier")


def google_env(provider: OidcProvider) -> dict[str, str]:
    return {
        "TRIPORT_GOOGLE_ISSUER": provider.issuer,
        "TRIPORT_GOOGLE_CLIENT_ID": CLIENT_ID,
        "TRIPORT_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "TRIPORT_CONSOLE_URL": CONSOLE,
    }


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider(claims_in_id_token=True) as running:
        yield running


@pytest.fixture(scope="module")
def google_server(
    database_url: str, smtp_sink: SmtpSink, provider: OidcProvider
) -> Iterator[ServerProcess]:
    with ServerProcess(database_url, mail_url=smtp_sink.url, env=google_env(provider)) as server:
        yield server


@pytest.fixture
def account(provider: OidcProvider) -> dict[str, str]:
    """A fresh provider account for each test (unique subject and email)."""
    tag = secrets.token_hex(4)
    settings = {
        "subject": f"google-{tag}",
        "email": f"g-{tag}@example.com",
        "email_verified": True,
        "name": f"Grace {tag}",
        "picture": f"https://example.com/{tag}.png",
        "consent": "approve",
    }
    provider.configure(**settings)
    return settings  # type: ignore[return-value]


@pytest.fixture
def browser(google_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=google_server.base_url, timeout=15) as client:
        yield client


def start(browser: httpx.Client) -> httpx.Response:
    response = browser.get("/v1/auth/google/start")
    assert response.status_code == 302, response.text
    return response


def to_callback(browser: httpx.Client, provider: OidcProvider) -> httpx.URL:
    """Start at the server, walk the provider's pages, return the callback URL (unvisited)."""
    callback = provider.authorize(browser, start(browser).headers["location"])
    # Compared part by part so that a failure never prints the authorization code.
    landing = (callback.scheme, callback.host, callback.port, callback.path)
    base = browser.base_url
    assert landing == (base.scheme, base.host, base.port, "/v1/auth/google/callback")
    return callback


def login_error(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{CONSOLE}/login"
    return parse_qs(location.query)["error"][0]


def assert_flow_cookies_cleared(response: httpx.Response) -> None:
    cookies = set_cookies(response)
    for name in FLOW_COOKIES:
        assert cookies[name] == {
            "value": "",
            "path": "/v1/auth/google/",
            "samesite": "Lax",
            "httponly": "",
            "max-age": "0",
            "expires": "Thu, 01 Jan 1970 00:00:00 GMT",
        }


def assert_no_session(response: httpx.Response) -> None:
    assert "nl_session" not in set_cookies(response)


def assert_failed_with(response: httpx.Response, code: str) -> None:
    """Back to the console's login page with `code`, flow cookies cleared, no session."""
    assert login_error(response) == code
    assert_flow_cookies_cleared(response)
    assert_no_session(response)


# --- start -------------------------------------------------------------------------------


def test_start_sets_state_and_verifier_cookies_and_redirects_with_pkce_s256(
    browser: httpx.Client, provider: OidcProvider, google_server: ServerProcess
) -> None:
    response = start(browser)
    location = urlsplit(response.headers["location"])
    query = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert response.headers["location"].startswith(f"{provider.issuer}/auth?")
    cookies = set_cookies(response)
    for name in FLOW_COOKIES:
        attributes = cookies[name]
        assert attributes["path"] == "/v1/auth/google/"
        assert attributes["max-age"] == "600"
        assert attributes["samesite"] == "Lax"
        assert "httponly" in attributes and "secure" not in attributes  # plain-HTTP development
        assert "expires" in attributes and len(attributes["value"]) >= 43
    assert query["state"] == cookies["nl_google_state"]["value"]
    assert query["code_challenge_method"] == "S256"
    assert query["response_type"] == "code"
    assert query["scope"] == "openid email profile"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{google_server.base_url}/v1/auth/google/callback"
    assert "code_verifier" not in query and cookies["nl_google_verifier"]["value"] not in str(
        location
    )


def test_start_marks_the_flow_cookies_secure_behind_https(
    database_url: str, smtp_sink: SmtpSink, provider: OidcProvider
) -> None:
    env = google_env(provider) | {"TRIPORT_COOKIE_SECURE": "always"}
    with ServerProcess(database_url, mail_url=smtp_sink.url, env=env) as server:
        response = httpx.get(f"{server.base_url}/v1/auth/google/start")
    for name in FLOW_COOKIES:
        assert "secure" in set_cookies(response)[name]


# --- callback ----------------------------------------------------------------------------


def test_happy_path_signs_in_redirects_to_the_console_and_logout_ends_it(
    browser: httpx.Client, provider: OidcProvider, account: dict[str, str]
) -> None:
    response = browser.get(to_callback(browser, provider))
    assert response.status_code == 302, response.text
    assert response.headers["location"] == f"{CONSOLE}/app/chains"
    assert_flow_cookies_cleared(response)
    cookies = set_cookies(response)
    assert "httponly" in cookies["nl_session"] and "httponly" not in cookies["nl_csrf"]
    assert cookies["nl_session"]["path"] == "/"

    me = browser.get("/v1/auth/me").json()
    assert me["provider"] == "google"
    assert me["user"]["email"] == account["email"]
    assert me["user"]["display_name"] == account["name"]
    assert me["user"]["avatar_url"] == account["picture"]

    token = browser.cookies["nl_session"]
    logout = browser.post("/v1/auth/logout", headers={"X-CSRF-Token": browser.cookies["nl_csrf"]})
    assert logout.json() == {"ok": True}
    with httpx.Client(base_url=browser.base_url, cookies={"nl_session": token}) as replay:
        assert replay.get("/v1/auth/me").status_code == 401


def test_sign_out_others_is_carried_through_the_flow_and_ends_the_other_sessions(
    browser: httpx.Client,
    provider: OidcProvider,
    google_server: ServerProcess,
    account: dict[str, str],
) -> None:
    """Spec §2.9: `google/start?sign_out_others=1` rides in the state to the callback."""
    with httpx.Client(base_url=google_server.base_url, timeout=15) as lost_device:
        lost_device.get(to_callback(lost_device, provider))
        lost_token = lost_device.cookies["nl_session"]
        assert lost_device.get("/v1/auth/me").status_code == 200
    started = browser.get("/v1/auth/google/start", params={"sign_out_others": "1"})
    assert started.status_code == 302
    callback = provider.authorize(browser, started.headers["location"])
    response = browser.get(callback)
    assert response.headers["location"] == f"{CONSOLE}/app/chains"
    with httpx.Client(base_url=google_server.base_url, cookies={"nl_session": lost_token}) as old:
        gone = old.get("/v1/auth/me")
        assert gone.status_code == 401
        assert gone.json()["reason"] == "signed_out_everywhere"
    sessions = browser.get("/v1/auth/sessions").json()["sessions"]
    assert [(s["current"], s["provider"]) for s in sessions] == [(True, "google")]
    # Without the parameter the other sessions stay.
    with httpx.Client(base_url=google_server.base_url, timeout=15) as third:
        third.get(to_callback(third, provider))
    assert len(browser.get("/v1/auth/sessions").json()["sessions"]) == 2


def test_logs_never_contain_the_code_state_verifier_or_session(
    browser: httpx.Client,
    provider: OidcProvider,
    google_server: ServerProcess,
    account: dict[str, str],
) -> None:
    callback = to_callback(browser, provider)
    flow = (browser.cookies["nl_google_state"], browser.cookies["nl_google_verifier"])
    code = parse_qs(callback.query.decode())["code"][0]
    browser.get(callback)
    text = google_server.log_text()
    for secret in (code, *flow, browser.cookies["nl_session"], browser.cookies["nl_csrf"]):
        assert secret not in text
    assert '"provider":"google"' in text


def test_the_same_google_account_signs_in_to_the_same_user(
    browser: httpx.Client,
    provider: OidcProvider,
    google_server: ServerProcess,
    account: dict[str, str],
) -> None:
    browser.get(to_callback(browser, provider))
    first = browser.get("/v1/auth/me").json()["user"]["id"]
    with httpx.Client(base_url=google_server.base_url, timeout=15) as other_browser:
        other_browser.get(to_callback(other_browser, provider))
        assert other_browser.get("/v1/auth/me").json()["user"]["id"] == first


def test_verified_google_email_reaches_the_account_of_that_email(
    browser: httpx.Client,
    provider: OidcProvider,
    google_server: ServerProcess,
    account: dict[str, str],
    new_session: Callable[..., httpx.Client],
) -> None:
    by_email = new_session(google_server, account["email"].upper())
    email_user = by_email.get("/v1/auth/me").json()
    browser.get(to_callback(browser, provider))
    google_me = browser.get("/v1/auth/me").json()
    assert google_me["user"]["id"] == email_user["user"]["id"]
    assert google_me["provider"] == "email"  # the account's primary method stays the first one


def test_denied_consent_redirects_with_google_denied(
    browser: httpx.Client, provider: OidcProvider, account: dict[str, str]
) -> None:
    provider.configure(consent="deny")
    callback = to_callback(browser, provider)
    assert parse_qs(callback.query.decode())["error"] == ["access_denied"]
    response = browser.get(callback)
    assert_failed_with(response, "google_denied")


def test_state_not_matching_the_cookie_is_google_state_mismatch(
    browser: httpx.Client, provider: OidcProvider, account: dict[str, str]
) -> None:
    callback = to_callback(browser, provider)
    tampered = callback.copy_set_param("state", secrets.token_urlsafe(32))
    response = browser.get(tampered)
    assert_failed_with(response, "google_state_mismatch")


def test_callback_in_a_browser_that_did_not_start_the_flow_is_google_state_mismatch(
    browser: httpx.Client,
    provider: OidcProvider,
    google_server: ServerProcess,
    account: dict[str, str],
) -> None:
    callback = to_callback(browser, provider)  # e.g. a login-CSRF link sent to a victim
    with httpx.Client(timeout=15) as victim:
        response = victim.get(callback)
    assert_failed_with(response, "google_state_mismatch")


def test_missing_verifier_cookie_is_google_missing_verifier(
    browser: httpx.Client, provider: OidcProvider, account: dict[str, str]
) -> None:
    callback = to_callback(browser, provider)
    browser.cookies.delete("nl_google_verifier")
    response = browser.get(callback)
    assert_failed_with(response, "google_missing_verifier")


def test_unverified_email_is_google_email_unverified(
    browser: httpx.Client, provider: OidcProvider, account: dict[str, str]
) -> None:
    provider.configure(email_verified=False)
    response = browser.get(to_callback(browser, provider))
    assert_failed_with(response, "google_email_unverified")


def test_replayed_callback_does_not_sign_in_twice(
    browser: httpx.Client, provider: OidcProvider, account: dict[str, str]
) -> None:
    callback = to_callback(browser, provider)
    state_cookie = browser.cookies["nl_google_state"]
    verifier_cookie = browser.cookies["nl_google_verifier"]
    assert browser.get(callback).status_code == 302
    # Even with the flow cookies put back, the provider refuses the used code.
    browser.cookies.set("nl_google_state", state_cookie, path="/v1/auth/google/")
    browser.cookies.set("nl_google_verifier", verifier_cookie, path="/v1/auth/google/")
    response = browser.get(callback)
    assert_failed_with(response, "google_exchange_failed")


def test_token_exchange_failure_when_the_provider_is_down_is_google_exchange_failed(
    make_server: Callable[..., ServerProcess],
) -> None:
    doomed = OidcProvider(claims_in_id_token=True)
    doomed.start()
    try:
        server = make_server(env=google_env(doomed))
        with httpx.Client(base_url=server.base_url, timeout=15) as browser:
            callback = to_callback(browser, doomed)
            doomed.stop()
            response = browser.get(callback)
    finally:
        doomed.stop()
    assert_failed_with(response, "google_exchange_failed")


def test_start_with_an_unreachable_provider_is_google_exchange_failed(
    make_server: Callable[..., ServerProcess],
) -> None:
    doomed = OidcProvider()
    doomed.start()
    doomed.stop()  # its port is now closed: discovery cannot succeed
    server = make_server(env=google_env(doomed))
    response = httpx.get(f"{server.base_url}/v1/auth/google/start")
    assert login_error(response) == "google_exchange_failed"
    assert "set-cookie" not in response.headers


# --- not configured ----------------------------------------------------------------------


def test_unconfigured_start_redirects_with_google_disabled_and_no_cookies(
    server: ServerProcess,
) -> None:
    response = httpx.get(f"{server.base_url}/v1/auth/google/start")
    assert response.status_code == 302
    # Without TRIPORT_CONSOLE_URL the console is the public URL.
    assert response.headers["location"] == f"{server.base_url}/login?error=google_disabled"
    assert "set-cookie" not in response.headers


def test_unconfigured_callback_answers_503_google_disabled(server: ServerProcess) -> None:
    response = httpx.get(f"{server.base_url}/v1/auth/google/callback?code=x&state=y")
    assert_envelope(response, 503, "google_disabled")
    assert_no_session(response)


@pytest.mark.parametrize("path", ["/v1/auth/google/start", "/v1/auth/google/callback"])
def test_google_routes_answer_only_get(server: ServerProcess, path: str) -> None:
    response = httpx.post(f"{server.base_url}{path}")
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, HEAD"
