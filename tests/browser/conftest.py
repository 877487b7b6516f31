"""Fixtures for the real-browser tests: Debian's Chromium driven by Playwright (never a
downloaded browser build), a real SMTP sink, a real server, and test pages on other origins."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.browser.support import Api, StaticSite, running_api
from tests.support.harness import SmtpSink

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# Sign-in mails and store timeouts take seconds, not the default 5 s budget of a busy CI machine.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Per module, not per session: Playwright's sync API keeps an asyncio loop running on this
    thread while it is open, and other suites on the same xdist worker need asyncio.run()."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile per test: its own cookie store."""
    context = chromium.new_context(viewport={"width": 1000, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab that fails its test on an uncaught script error or a Content-Security-Policy refusal
    (the server sends a strict CSP, so an inline script or a foreign resource would break)."""
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    assert not problems, problems


@pytest.fixture(scope="session")
def allowed_site() -> Iterator[StaticSite]:
    """A page origin listed in TRIPORT_ALLOWED_ORIGINS."""
    with StaticSite() as site:
        yield site


@pytest.fixture(scope="session")
def foreign_site() -> Iterator[StaticSite]:
    """A page origin the server does not allow."""
    with StaticSite() as site:
        yield site


@pytest.fixture(scope="session")
def api(smtp_sink: SmtpSink, allowed_site: StaticSite) -> Iterator[Api]:
    """One server on SQLite for the suite; a 1 s store timeout keeps the failure test short."""
    env = {"TRIPORT_ALLOWED_ORIGINS": allowed_site.origin, "TRIPORT_DB_TIMEOUT": "1"}
    with running_api("sqlite", smtp_sink, env) as api:
        yield api
