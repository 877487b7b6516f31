"""Passkeys on the console page in Chromium, with a virtual authenticator from the DevTools
protocol (WebAuthn.addVirtualAuthenticator): add one, sign out, sign in with it, remove it.

WebAuthn needs a secure context and an RP id that is the page's host and a domain name (not an
IP address), so the server is reached as http://localhost:PORT and its public URL says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, CDPSession, Page, expect

from tests.browser.support import (
    Api,
    fetch_json,
    new_email,
    running_api,
    screenshot,
    sign_in_through_page,
)
from tests.support.harness import SmtpSink, free_port, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def passkey_api(store: str, smtp_sink: SmtpSink) -> Iterator[Api]:
    port = free_port()
    env = {"TRIPORT_PUBLIC_URL": f"http://localhost:{port}"}
    with running_api(store, smtp_sink, env, port=port) as api:
        yield api


def virtual_authenticator(context: BrowserContext, page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator that holds passkeys and verifies the user without a prompt."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added: dict[str, Any] = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, str(added["authenticatorId"])


def stored_credentials(cdp: CDPSession, authenticator_id: str) -> list[dict[str, Any]]:
    found: dict[str, Any] = cdp.send(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator_id}
    )
    return list(found["credentials"])


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#status")).to_have_text("You are signed out.")


def test_add_a_passkey_sign_out_and_sign_in_with_it(
    page: Page, context: BrowserContext, passkey_api: Api, smtp_sink: SmtpSink
) -> None:
    base = passkey_api.localhost_url
    cdp, authenticator = virtual_authenticator(context, page)
    email = new_email("passkey")
    page.goto(f"{base}/login")
    sign_in_through_page(page, smtp_sink, email)
    expect(page.locator("#passkey-empty")).to_have_text("You have no passkeys yet.")

    page.get_by_label("New passkey name").fill("Work laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#status")).to_have_text(
        "Passkey “Work laptop” added. You can now sign in with it."
    )
    row = page.locator("#passkey-rows li", has_text="Work laptop")
    expect(row).to_contain_text("never used")
    (credential,) = stored_credentials(cdp, authenticator)
    assert credential["isResidentCredential"] is True
    assert credential["rpId"] == "localhost"
    screenshot(page, "passkeys-card")

    sign_out(page)
    assert fetch_json(page, f"{base}/v1/auth/me")["status"] == 401
    # Another device of the same account, which the passkey sign-in below ends on request.
    other_device = sign_in(base, smtp_sink, email)
    assert other_device.get("/v1/auth/me").status_code == 200
    screenshot(page, "passkeys-sign-in")
    page.get_by_label("Sign out of all other devices").check()
    page.get_by_role("button", name="Sign in with a passkey").click()
    # The account section was hidden at sign-out (its old text stays): wait for it to return.
    expect(page.locator("#account")).to_be_visible()
    expect(page.locator("#status")).to_contain_text(f"Signed in as {email}.")
    ended = other_device.get("/v1/auth/me")
    other_device.close()
    assert ended.status_code == 401 and ended.json()["reason"] == "signed_out_everywhere"
    me = fetch_json(page, f"{base}/v1/auth/me")
    assert me["status"] == 200 and me["body"]["user"]["email"] == email
    expect(page.locator("#passkey-rows li", has_text="Work laptop")).to_contain_text("last used")

    # Removed on the server, the passkey left on the device no longer signs in.
    page.get_by_role("button", name="Remove passkey Work laptop").click()
    expect(page.locator("#status")).to_have_text("Passkey “Work laptop” removed.")
    expect(page.locator("#passkey-empty")).to_be_visible()
    sign_out(page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The passkey response does not verify for this site."
    )
    expect(page.locator("#account")).to_be_hidden()


def test_the_passkey_card_at_375_px(
    page: Page, context: BrowserContext, passkey_api: Api, smtp_sink: SmtpSink
) -> None:
    page.set_viewport_size({"width": 375, "height": 812})
    virtual_authenticator(context, page)
    page.goto(f"{passkey_api.localhost_url}/login")
    screenshot(page, "passkeys-sign-in-375")
    sign_in_through_page(page, smtp_sink, new_email("narrow"))
    page.get_by_label("New passkey name").fill("A rather long passkey name for a phone screen")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkey-rows li")).to_have_count(1)
    page.get_by_role("button", name="I have saved it").click()
    screenshot(page, "passkeys-card-375")
    box = page.locator("#passkeys").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375


def test_a_device_without_a_passkey_for_this_site_says_so(
    page: Page, context: BrowserContext, passkey_api: Api
) -> None:
    """The authenticator has nothing for this site: Chromium answers NotAllowedError, as it does
    when the person cancels the prompt."""
    virtual_authenticator(context, page)
    page.goto(f"{passkey_api.localhost_url}/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "No passkey was used: the request was cancelled"
    )
    expect(page.get_by_label("Email address")).to_be_visible()
    screenshot(page, "passkeys-cancelled")


def test_adding_a_second_passkey_on_the_same_device_says_so(
    page: Page, context: BrowserContext, passkey_api: Api, smtp_sink: SmtpSink
) -> None:
    """The options exclude the passkeys the account has, so the device refuses a duplicate."""
    cdp, authenticator = virtual_authenticator(context, page)
    page.goto(f"{passkey_api.localhost_url}/login")
    sign_in_through_page(page, smtp_sink, new_email("twice"))
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkey-rows li")).to_have_count(1)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("alert")).to_have_text(
        "This device already holds a passkey for your account."
    )
    expect(page.locator("#passkey-rows li")).to_have_count(1)
    assert len(stored_credentials(cdp, authenticator)) == 1


def test_a_browser_without_passkey_support_says_so(page: Page, passkey_api: Api) -> None:
    page.add_init_script("delete window.PublicKeyCredential")
    page.goto(f"{passkey_api.localhost_url}/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("alert")).to_have_text(
        "This browser does not support passkeys. Use an up-to-date browser, or sign in with an "
        "email code."
    )
    screenshot(page, "passkeys-unsupported")
