"""The console page's "Sign in with Google" button and the errors Google sign-in brings back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import Api, new_email, running_api
from tests.support.harness import SmtpSink
from tests.support.oidc import OidcProvider

pytestmark = pytest.mark.browser


def test_google_button_is_hidden_when_google_is_not_configured(page: Page, api: Api) -> None:
    page.goto(f"{api.base_url}/login")
    expect(page.get_by_label("Email address")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in with Google")).to_be_hidden()


def test_google_start_without_configuration_returns_to_login_with_the_error(
    page: Page, api: Api
) -> None:
    page.goto(f"{api.base_url}/v1/auth/google/start")
    page.wait_for_url(f"{api.base_url}/login")  # the page drops ?error=… once it has shown it
    expect(page.get_by_role("alert")).to_have_text(
        "Google sign-in is not configured on this server."
    )


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    """The real OpenID provider of the Google tests (oidc-provider on loopback)."""
    with OidcProvider() as provider:
        yield provider


@pytest.fixture(scope="module")
def google_api(smtp_sink: SmtpSink, provider: OidcProvider) -> Iterator[Api]:
    env = {
        "TRIPORT_GOOGLE_ISSUER": provider.issuer,
        "TRIPORT_GOOGLE_CLIENT_ID": provider.client_id,
        "TRIPORT_GOOGLE_CLIENT_SECRET": provider.client_secret,
    }
    with running_api("sqlite", smtp_sink, env) as api:
        yield api


def test_sign_in_with_google_from_the_console_page(
    page: Page, context: BrowserContext, google_api: Api, provider: OidcProvider
) -> None:
    email = new_email("grace")
    provider.configure(email=email, consent="approve")
    page.goto(f"{google_api.base_url}/login")
    page.get_by_role("link", name="Sign in with Google").click()

    page.wait_for_url(f"{google_api.base_url}/app/chains")
    expect(page.locator("#me-email")).to_have_text(email)
    expect(page.locator("#me-provider")).to_have_text("google")
    names = {cookie["name"] for cookie in context.cookies()}  # every path, not only "/"
    assert {"nl_session", "nl_csrf"} <= names
    assert not names & {"nl_google_state", "nl_google_verifier"}

    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#status")).to_have_text("You are signed out.")


def test_google_consent_denied_returns_to_login_with_the_error(
    page: Page, google_api: Api, provider: OidcProvider
) -> None:
    provider.configure(consent="deny")
    page.goto(f"{google_api.base_url}/login")
    page.get_by_role("link", name="Sign in with Google").click()

    page.wait_for_url(f"{google_api.base_url}/login")
    expect(page.get_by_role("alert")).to_have_text("Google sign-in was cancelled.")
    expect(page.get_by_label("Email address")).to_be_visible()
