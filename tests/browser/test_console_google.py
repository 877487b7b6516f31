"""The console page's "Sign in with Google" button and the errors Google sign-in brings back."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import Api

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
