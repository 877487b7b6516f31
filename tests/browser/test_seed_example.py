"""The seed's JavaScript logout example, verbatim (tests/browser/seed_logout.js, base URL pointed
at the local server), run in Chromium from a page on another origin than the API.

The page lives on http://localhost:A and the API on http://localhost:B: different origins, same
site, so the SameSite=Lax cookies travel with credentialed fetches as they do between a console
and its API in production."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import (
    Api,
    StaticSite,
    cookie_attributes,
    new_email,
    session_is_live,
    session_token,
    sign_in_by_fetch,
)
from tests.support.harness import SmtpSink

pytestmark = pytest.mark.browser

RUN_SEED = "() => import('/seed-logout.js').then(() => 'done', (error) => error.name)"
READ_ME = """async (url) => {
  try {
    const response = await fetch(url, {credentials: "include"});
    return String(response.status);
  } catch (error) {
    return error.name;
  }
}"""


def test_seed_example_from_an_allowed_origin_logs_out(
    page: Page, context: BrowserContext, api: Api, allowed_site: StaticSite, smtp_sink: SmtpSink
) -> None:
    allowed_site.serve_seed_page(api.localhost_url)
    page.goto(allowed_site.origin + "/")
    sign_in_by_fetch(page, api.localhost_url, smtp_sink, new_email("seed"))
    assert "nl_session" in cookie_attributes(context, api.localhost_url)
    token = session_token(context, api.localhost_url)
    assert page.evaluate(READ_ME, f"{api.localhost_url}/v1/auth/me") == "200"

    assert page.evaluate(RUN_SEED) == "done"

    assert "nl_session" not in cookie_attributes(context, api.localhost_url)
    assert page.evaluate(READ_ME, f"{api.localhost_url}/v1/auth/me") == "401"
    assert not session_is_live(api, token)


def test_seed_example_from_a_foreign_origin_can_neither_read_nor_log_out(
    page: Page,
    context: BrowserContext,
    api: Api,
    allowed_site: StaticSite,
    foreign_site: StaticSite,
    smtp_sink: SmtpSink,
) -> None:
    allowed_site.serve_seed_page(api.localhost_url)
    foreign_site.serve_seed_page(api.localhost_url)
    page.goto(allowed_site.origin + "/")
    sign_in_by_fetch(page, api.localhost_url, smtp_sink, new_email("foreign"))
    token = session_token(context, api.localhost_url)

    page.goto(foreign_site.origin + "/")
    # The preflight gets no CORS answer, so the seed's POST is never sent.
    assert page.evaluate(RUN_SEED) == "TypeError"
    # Credentialed reads are blocked too: the response carries no Access-Control-Allow-Origin.
    assert page.evaluate(READ_ME, f"{api.localhost_url}/v1/auth/me") == "TypeError"
    # A "simple" request needs no preflight and does reach the server with the Lax cookies
    # (same site), but its answer is opaque and the server's Origin check refuses it.
    opaque = page.evaluate(
        """(url) => fetch(url, {method: "POST", mode: "no-cors", credentials: "include"})
                      .then((response) => response.type)""",
        f"{api.localhost_url}/v1/auth/logout",
    )
    assert opaque == "opaque"
    # A top-level form POST (no script needed) is refused as well; the person sees why.
    page.set_content(
        f'<form method="post" action="{api.localhost_url}/v1/auth/logout">'
        '<button type="submit">go</button></form>'
    )
    page.get_by_role("button", name="go").click()
    expect(page.locator("body")).to_contain_text("csrf_invalid")

    assert "nl_session" in cookie_attributes(context, api.localhost_url)
    assert session_is_live(api, token)
    page.goto(allowed_site.origin + "/")
    assert page.evaluate(READ_ME, f"{api.localhost_url}/v1/auth/me") == "200"
    assert page.evaluate(RUN_SEED) == "done"  # tidy up: the allowed origin can log out
    assert not session_is_live(api, token)
