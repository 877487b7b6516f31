"""The console page's sessions, activity and key-safety flows (issue 15), in Chromium.

Two browser profiles (contexts) signed in as one user stand for two devices.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.support import (
    Api,
    new_email,
    screenshot,
    session_is_live,
    session_token,
    sign_in_through_page,
)
from tests.support.harness import SmtpSink

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def devices(chromium: Browser) -> Iterator[Any]:
    """``devices(viewport=None)``: a new browser profile and its tab, closed after the test."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def open_device(viewport: dict[str, int] | None = None) -> Page:
        context = chromium.new_context(viewport=viewport or {"width": 1000, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
        return page

    yield open_device
    for context in contexts:
        context.close()
    assert not problems, problems


def signed_in(page: Page, api: Api, sink: SmtpSink, email: str) -> Page:
    page.goto(f"{api.base_url}/login")
    sign_in_through_page(page, sink, email)
    return page


def call(page: Page, api: Api, method: str, path: str, body: Any = None) -> httpx.Response:
    """An API call with this tab's cookies, outside the page (to set up data quickly)."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies(api.base_url)}
    headers = {"X-CSRF-Token": cookies.get("nl_csrf", "")}
    return httpx.request(
        method, api.base_url + path, cookies=cookies, headers=headers, json=body, timeout=10
    )


def session_rows(page: Page) -> Any:
    return page.locator("#session-rows li")


def dialog(page: Page) -> Any:
    return page.get_by_role("dialog")


def test_sessions_listed_and_another_one_revoked_after_confirmation(
    devices: Any, api: Api, smtp_sink: SmtpSink
) -> None:
    email = new_email("two-devices")
    phone = signed_in(devices(), api, smtp_sink, email)
    laptop = signed_in(devices(), api, smtp_sink, email)
    phone_token = session_token(phone.context, api.base_url)

    expect(session_rows(laptop)).to_have_count(2)
    current = session_rows(laptop).filter(has_text="This device")
    expect(current).to_have_count(1)
    expect(session_rows(laptop).first).to_contain_text("This device")
    expect(current).to_contain_text("Chrome on Linux")
    expect(current).to_contain_text("127.0.0.1")
    expect(current).to_contain_text("last active just now")
    expect(current.get_by_role("button")).to_have_count(0)  # this one ends with "Sign out"
    screenshot(laptop, "sessions-two-devices")

    revoke = session_rows(laptop).nth(1).get_by_role("button", name="Revoke session")
    revoke.click()
    expect(dialog(laptop)).to_be_visible()
    expect(dialog(laptop)).to_contain_text("Revoke this session?")
    expect(dialog(laptop).get_by_role("button", name="Cancel")).to_be_focused()
    screenshot(laptop, "sessions-confirm-revoke")
    dialog(laptop).get_by_role("button", name="Cancel").click()
    expect(dialog(laptop)).to_be_hidden()
    expect(session_rows(laptop)).to_have_count(2)
    assert session_is_live(api, phone_token), "Cancel ended nothing"

    revoke.click()
    laptop.keyboard.press("Escape")  # Escape cancels too
    expect(dialog(laptop)).to_be_hidden()
    assert session_is_live(api, phone_token)

    revoke.click()
    dialog(laptop).get_by_role("button", name="Revoke session").click()
    expect(session_rows(laptop)).to_have_count(1)
    expect(laptop.locator("#status")).to_have_text(
        "Signed out the session on Headless Chrome on Linux, 127.0.0.1."
    )
    expect(laptop.get_by_role("button", name="Sign out all other sessions")).to_be_hidden()
    assert not session_is_live(api, phone_token)

    # The phone learns why, in words, on its sign-in screen.
    phone.reload()
    expect(phone.get_by_label("Email address")).to_be_visible()
    expect(phone.locator("#ended")).to_have_text(
        "You were signed out from another device. Sign in again to continue."
    )
    screenshot(phone, "sessions-signed-out-reason")
    sign_in_through_page(phone, smtp_sink, email)
    expect(phone.locator("#ended")).to_be_hidden()


def test_a_click_after_being_revoked_shows_the_reason(
    devices: Any, api: Api, smtp_sink: SmtpSink
) -> None:
    email = new_email("click-after")
    phone = signed_in(devices(), api, smtp_sink, email)
    laptop = signed_in(devices(), api, smtp_sink, email)
    expect(session_rows(laptop)).to_have_count(2)
    ended = call(laptop, api, "POST", "/v1/auth/sessions/revoke-others")
    assert ended.json() == {"revoked": 1}

    phone.get_by_label("New key name").fill("too late")
    phone.get_by_role("button", name="Create key").click()
    expect(phone.locator("#ended")).to_contain_text(
        "You were signed out: all other sessions of your account were ended from another device."
    )
    expect(phone.get_by_label("Email address")).to_be_visible()
    expect(phone.locator("#keys")).to_be_hidden()


def test_sign_out_all_other_sessions(devices: Any, api: Api, smtp_sink: SmtpSink) -> None:
    email = new_email("others")
    others = [signed_in(devices(), api, smtp_sink, email) for _ in range(2)]
    tokens = [session_token(page.context, api.base_url) for page in others]
    laptop = signed_in(devices(), api, smtp_sink, email)
    expect(session_rows(laptop)).to_have_count(3)

    button = laptop.get_by_role("button", name="Sign out all other sessions")
    button.click()
    expect(dialog(laptop)).to_contain_text("2 other sessions of your account will be signed out")
    dialog(laptop).get_by_role("button", name="Cancel").click()
    assert all(session_is_live(api, token) for token in tokens)

    button.click()
    dialog(laptop).get_by_role("button", name="Sign out other sessions").click()
    expect(laptop.locator("#status")).to_have_text(
        "Signed out 2 other sessions. You are still signed in here."
    )
    expect(session_rows(laptop)).to_have_count(1)
    assert not any(session_is_live(api, token) for token in tokens)
    expect(laptop.locator("#activity-rows li").first).to_contain_text(
        "Signed out of all other sessions"
    )


def test_signing_in_with_sign_out_of_all_other_devices(
    devices: Any, api: Api, smtp_sink: SmtpSink
) -> None:
    email = new_email("lost-laptop")
    lost = signed_in(devices(), api, smtp_sink, email)
    lost_token = session_token(lost.context, api.base_url)

    page = devices()
    page.goto(f"{api.base_url}/login")
    choice = page.get_by_role("checkbox", name="Sign out of all other devices")
    expect(choice).not_to_be_checked()
    choice.check()
    # Google sign-in is a navigation: the choice rides in its start URL.
    google = page.locator("#google")
    expect(google).to_have_attribute("href", "/v1/auth/google/start?sign_out_others=1")
    screenshot(page, "sessions-sign-in-choice")
    sign_in_through_page(page, smtp_sink, email)
    expect(page.locator("#status")).to_contain_text("Signed out 1 other session.")
    expect(session_rows(page)).to_have_count(1)
    assert not session_is_live(api, lost_token)


def test_recent_activity_with_load_more(devices: Any, api: Api, smtp_sink: SmtpSink) -> None:
    page = signed_in(devices(), api, smtp_sink, new_email("activity"))
    rows = page.locator("#activity-rows li")
    # Signing in, then the default key made by the first /me.
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("Signed in with email")
    expect(rows.nth(0)).to_contain_text("API key created: “Default”")
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()

    for number in range(20):
        created = call(page, api, "POST", "/v1/keys", {"name": f"batch {number}"})
        assert created.status_code == 200
    page.reload()
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("API key created: “batch 19”")
    more = page.get_by_role("button", name="Load more")
    more.click()
    expect(rows).to_have_count(22)
    expect(rows.last).to_contain_text("Signed in with email")
    expect(more).to_be_hidden()
    expect(rows.nth(20)).to_be_focused()  # the button went away: focus on the first new event
    screenshot(page, "sessions-activity")


def test_key_rotate_and_revoke_ask_first_and_cancel_changes_nothing(
    devices: Any, api: Api, smtp_sink: SmtpSink
) -> None:
    page = signed_in(devices(), api, smtp_sink, new_email("key-confirm"))
    expect(page.locator("#key-rows tr")).to_have_count(1)
    page.get_by_role("button", name="I have saved it").click()
    before = call(page, api, "GET", "/v1/keys").json()["keys"]
    default = before[0]

    rotate = page.get_by_role("button", name=f"Rotate key Default — {default['key_prefix']}…")
    rotate.click()
    expect(dialog(page)).to_contain_text("Rotate key “Default”?")
    expect(dialog(page)).to_contain_text("stops working immediately")
    expect(dialog(page)).to_contain_text("It is your default key.")
    dialog(page).get_by_role("button", name="Cancel").click()
    expect(page.locator("#secret")).to_be_hidden()
    assert call(page, api, "GET", "/v1/keys").json()["keys"] == before

    page.get_by_label("New key name").fill("staging")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#key-rows tr")).to_have_count(2)
    page.get_by_role("button", name="I have saved it").click()
    staging = call(page, api, "GET", "/v1/keys").json()["keys"][0]
    revoke = page.get_by_role("button", name=f"Revoke key staging — {staging['key_prefix']}…")
    revoke.click()
    expect(dialog(page)).to_contain_text("Revoke key “staging”?")
    screenshot(page, "keys-confirm-revoke")
    page.keyboard.press("Escape")
    expect(dialog(page)).to_be_hidden()
    assert call(page, api, "GET", "/v1/keys").json()["keys"][0]["status"] == "active"

    revoke.click()
    dialog(page).get_by_role("button", name="Revoke key").click()
    expect(page.locator("#status")).to_have_text("Key revoked.")
    assert call(page, api, "GET", "/v1/keys").json()["keys"][0]["status"] == "revoked"


def test_key_creation_with_scopes_and_a_rate_limit(
    devices: Any, api: Api, smtp_sink: SmtpSink
) -> None:
    page = signed_in(devices(), api, smtp_sink, new_email("key-scopes"))
    page.get_by_role("button", name="I have saved it").click()
    page.get_by_label("New key name").fill("indexer")
    page.get_by_role("checkbox", name="Ethereum (eth:rpc)").check()
    page.get_by_role("checkbox", name="BNB Smart Chain (bsc:rpc)").check()
    page.get_by_label("Rate limit").fill("250")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#secret")).to_be_visible()

    created = call(page, api, "GET", "/v1/keys").json()["keys"][0]
    assert (created["name"], created["rate_limit"]) == ("indexer", 250)
    assert sorted(created["scopes"]) == ["bsc:rpc", "eth:rpc"]
    row = page.locator("#key-rows tr", has_text="indexer")
    expect(row).to_contain_text("eth:rpc")
    expect(row).to_contain_text("bsc:rpc")
    expect(row).to_contain_text("250 req/s")
    expect(row).to_contain_text("Never")
    default_row = page.locator("#key-rows tr", has_text="(default)")
    expect(default_row).to_contain_text("All chains")
    expect(default_row).to_contain_text("No limit")
    # The form is ready for the next key.
    expect(page.get_by_role("checkbox", name="Ethereum (eth:rpc)")).not_to_be_checked()
    expect(page.get_by_label("Rate limit")).to_have_value("0")


def test_phone_width_has_no_sideways_scrolling(devices: Any, api: Api, smtp_sink: SmtpSink) -> None:
    email = new_email("a-rather-long-address-for-a-phone")
    signed_in(devices(), api, smtp_sink, email)
    page = signed_in(devices(PHONE), api, smtp_sink, email)
    call(page, api, "POST", "/v1/keys", {"name": "a key with a long name " * 3})
    call(page, api, "POST", "/v1/keys", {"name": "scoped", "scopes": ["eth:rpc", "solana:rpc"]})
    page.reload()
    expect(page.locator("#key-rows tr")).to_have_count(3)
    expect(session_rows(page)).to_have_count(2)

    def width() -> int:
        scroll_width: int = page.evaluate("document.documentElement.scrollWidth")
        return scroll_width

    assert width() <= PHONE["width"]
    screenshot(page, "phone-375-signed-in")
    page.get_by_role("button", name="Sign out all other sessions").click()
    expect(dialog(page)).to_be_visible()
    assert width() <= PHONE["width"]
    screenshot(page, "phone-375-confirm")
    dialog(page).get_by_role("button", name="Cancel").click()

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_label("Email address")).to_be_visible()
    assert width() <= PHONE["width"]
    screenshot(page, "phone-375-sign-in")


def test_a_crafted_user_agent_is_shown_as_text(
    chromium: Browser, devices: Any, api: Api, smtp_sink: SmtpSink
) -> None:
    email = new_email("crafted-agent")
    crafted = chromium.new_context(user_agent='<img src=x onerror="window.pwned=1">/1.0 (X11)')
    try:
        signed_in(crafted.new_page(), api, smtp_sink, email)
        page = signed_in(devices(), api, smtp_sink, email)
        expect(session_rows(page)).to_have_count(2)
        expect(page.locator("#activity-rows li")).to_have_count(3)
        assert page.locator("#sessions img, #activity img").count() == 0
        assert page.evaluate("window.pwned") is None
    finally:
        crafted.close()
