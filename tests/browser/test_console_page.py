"""The console page served by `triport-console serve`, driven in Chromium as a person uses it."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.support import (
    Api,
    cookie_attributes,
    fetch_json,
    new_email,
    running_api,
    screenshot,
    session_is_live,
    session_token,
    sign_in_through_page,
)
from tests.support.harness import SmtpSink, write_lock

pytestmark = pytest.mark.browser

KEY_SECRET = re.compile(r"nl_live_[0-9a-f]{64}")
THIRTY_DAYS = 30 * 24 * 3600


def key_row(page: Page, secret: str) -> tuple[str, Locator]:
    """The key list's row for a secret, found by its public prefix (never by the secret)."""
    prefix = secret[:16]
    return prefix, page.locator("#key-rows tr", has_text=prefix)


def read_secret(page: Page, label: str) -> str:
    """The one-time secret the page shows under `label`; checked to look like a key secret."""
    shown = page.get_by_label(label, exact=True)
    alert = page.get_by_role("alert")
    expect(shown.or_(alert).first).to_be_visible()
    assert not alert.is_visible(), alert.text_content()  # the server's message, never a secret
    secret = shown.input_value()
    looks_like_a_key = KEY_SECRET.fullmatch(secret) is not None
    assert looks_like_a_key, f"{label!r} does not hold a key secret"
    return secret


def expect_signed_out(page: Page, context: BrowserContext, api: Api) -> None:
    expect(page.locator("#status")).to_have_text("You are signed out.")
    expect(page.get_by_label("Email address")).to_be_visible()
    expect(page.locator("#account")).to_be_hidden()
    names = cookie_attributes(context, api.base_url).keys()
    assert not names & {"nl_session", "nl_csrf"}


def test_full_journey_sign_in_keys_and_sign_out(
    page: Page, context: BrowserContext, api: Api, smtp_sink: SmtpSink
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=api.base_url)
    email = new_email("journey")
    page.goto(f"{api.base_url}/login")
    sign_in_through_page(page, smtp_sink, email)

    expect(page.locator("#me-provider")).to_have_text("email")
    expect(page.get_by_text("It will not be shown again")).to_be_visible()
    default_secret = read_secret(page, "Secret of your default key")
    expect(page.locator("#me-key")).to_contain_text(default_secret[:16])
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#status")).to_have_text("Secret copied to the clipboard.")
    copied = page.evaluate("navigator.clipboard.readText()") == default_secret
    assert copied, "the clipboard does not hold the default key's secret"
    screenshot(page, "console-signed-in")

    page.reload()
    expect(page.locator("#me-email")).to_have_text(email)
    expect(page.locator("#secret")).to_be_hidden()
    assert page.locator("#secret-value").input_value() == ""
    me = fetch_json(page, f"{api.base_url}/v1/auth/me")["body"]
    assert "raw" not in me["default_key"]

    page.get_by_label("New key name").fill("CI key")
    page.get_by_role("button", name="Create key").click()
    created = read_secret(page, "Secret of the new key “CI key”")
    created_prefix, created_row = key_row(page, created)
    expect(created_row).to_contain_text("active")

    page.get_by_role("button", name=f"Rotate key CI key — {created_prefix}…").click()
    page.get_by_role("dialog").get_by_role("button", name="Rotate key").click()
    rotated = read_secret(page, "New secret of the rotated key “CI key”")
    rotated_prefix, rotated_row = key_row(page, rotated)
    assert rotated_prefix != created_prefix
    expect(rotated_row).to_contain_text("active")
    expect(created_row).to_contain_text("revoked")

    page.get_by_role("button", name=f"Revoke key CI key — {rotated_prefix}…").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
    expect(page.locator("#status")).to_have_text("Key revoked.")
    expect(rotated_row).to_contain_text("revoked")
    expect(page.locator("#secret")).to_be_hidden()  # a revoked key's secret is of no use
    expect(page.locator("#key-rows tr", has_text="(default)")).to_contain_text("active")
    screenshot(page, "console-keys")

    page.get_by_role("button", name="Sign out").click()
    expect_signed_out(page, context, api)
    screenshot(page, "console-signed-out")
    page.reload()
    expect(page.get_by_label("Email address")).to_be_visible()
    expect(page.locator("#account")).to_be_hidden()


def test_cookies_in_the_browser_store_have_the_spec_attributes(
    page: Page, context: BrowserContext, api: Api, smtp_sink: SmtpSink
) -> None:
    page.goto(f"{api.base_url}/login")
    sign_in_through_page(page, smtp_sink, new_email("cookies"))
    signed_in_at = time.time()
    cookies = cookie_attributes(context, api.base_url)

    for name, http_only in (("nl_session", True), ("nl_csrf", False)):
        cookie = cookies[name]
        assert cookie["httpOnly"] is http_only, name
        assert cookie["sameSite"] == "Lax", name
        assert cookie["path"] == "/", name
        assert cookie["secure"] is False, name  # plain-HTTP development server
        assert cookie["domain"] == "127.0.0.1", name  # host-only: no Domain configured
        lifetime = cookie["expires"] - signed_in_at
        assert THIRTY_DAYS - 120 < lifetime <= THIRTY_DAYS + 5, name
    visible_to_script = page.evaluate("document.cookie.split('; ').map((c) => c.split('=')[0])")
    assert "nl_csrf" in visible_to_script
    assert "nl_session" not in visible_to_script

    page.get_by_role("button", name="Sign out").click()
    expect_signed_out(page, context, api)


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sign_out_stays_pending_under_a_store_failure_and_finishes_by_itself(
    page: Page, context: BrowserContext, smtp_sink: SmtpSink, store: str
) -> None:
    with running_api(store, smtp_sink, {"TRIPORT_DB_TIMEOUT": "1"}) as api:
        page.goto(f"{api.base_url}/login")
        sign_in_through_page(page, smtp_sink, new_email(f"pending-{store}"))
        token = session_token(context, api.base_url)
        status = page.locator("#status")

        with write_lock(api.database_url):
            page.get_by_role("button", name="Sign out").click()
            expect(status).to_contain_text("Signing out… (pending, retrying)")
            # A second failed attempt proves the page keeps retrying with a longer delay.
            expect(status).to_contain_text("Next attempt in 1 s.")
            screenshot(page, f"console-signout-pending-{store}")
            assert "nl_session" in cookie_attributes(context, api.base_url)
            expect(page.get_by_role("button", name="Sign out")).to_be_disabled()
            # A reload does not end the retries: the page resumes the pending sign-out.
            page.reload()
            expect(status).to_contain_text("Signing out… (pending, retrying)")
            expect(page.get_by_label("Email address")).to_be_hidden()
        released_at = time.monotonic()

        expect(status).to_have_text("You are signed out.", timeout=20_000)
        finished_after = time.monotonic() - released_at
        expect_signed_out(page, context, api)
        assert not session_is_live(api, token)
        assert finished_after < 10, finished_after  # the backoff is capped at 8 s
