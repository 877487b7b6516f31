"""Wallet sign-in on the console page, in Chromium, with injected wallets holding real keys."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from siwe import SiweMessage

from tests.browser.support import Api, cookie_attributes, fetch_json, screenshot
from tests.browser.wallets import InjectedWallets
from tests.support.harness import run_sql

pytestmark = pytest.mark.browser

EVM_BUTTON = "Sign in with an Ethereum wallet"
SOLANA_BUTTON = "Sign in with a Solana wallet"
REJECTED = "You rejected the request in your wallet. Nothing was signed and you are not signed in."


def session_count(api: Api) -> int:
    return int(run_sql(api.database_url, "SELECT count(*) FROM sessions")[0][0])


def open_login(page: Page, api: Api) -> None:
    page.goto(f"{api.base_url}/login")
    expect(page.get_by_role("button", name=EVM_BUTTON)).to_be_visible()


def expect_signed_in_with_wallet(page: Page, api: Api) -> None:
    expect(page.locator("#me-provider")).to_have_text("wallet")
    me = fetch_json(page, f"{api.base_url}/v1/auth/me")
    assert (me["status"], me["body"]["provider"]) == (200, "wallet")
    assert me["body"]["user"]["email"] is None


def screenshots(page: Page, name: str) -> None:
    """Desktop and phone width (375 px), as a person sees the page."""
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size({"width": 375, "height": 812})
    screenshot(page, f"{name}-375")
    page.set_viewport_size({"width": 1000, "height": 900})


@pytest.mark.parametrize(
    ("announce", "legacy"),
    [(True, False), (False, True)],
    ids=["eip6963", "window.ethereum"],
)
def test_ethereum_wallet_button_signs_in_with_a_standard_message_for_this_host(
    page: Page, api: Api, announce: bool, legacy: bool
) -> None:
    wallets = InjectedWallets()
    wallets.install(page, announce=announce, legacy=legacy, solana=False)
    open_login(page, api)
    if announce:
        screenshots(page, "wallet-login")
    page.get_by_role("button", name=EVM_BUTTON).click()
    expect_signed_in_with_wallet(page, api)
    shown = wallets.evm_address.lower()
    expect(page.get_by_role("status")).to_have_text(f"Signed in as {shown[:6]}…{shown[-4:]}.")

    [signed] = wallets.signed
    parsed = SiweMessage.from_message(signed, abnf=True)
    assert parsed.domain == urlsplit(page.url).netloc  # what MetaMask compares with the page
    assert parsed.uri == api.base_url
    assert parsed.address == wallets.evm_address
    assert parsed.chain_id == 1
    if announce:
        screenshots(page, "wallet-signed-in-evm")


@pytest.mark.parametrize("kind", ["phantom", "wallet-standard"])
def test_solana_wallet_button_signs_in(page: Page, api: Api, kind: str) -> None:
    wallets = InjectedWallets()
    wallets.install(page, evm=False, solana=kind == "phantom", standard=kind != "phantom")
    open_login(page, api)
    page.get_by_role("button", name=SOLANA_BUTTON).click()
    expect_signed_in_with_wallet(page, api)
    [signed] = wallets.signed
    lines = signed.splitlines()
    assert lines[0] == f"{urlsplit(page.url).netloc} wants you to sign in with your Solana account:"
    assert lines[1] == wallets.solana_address
    assert "Chain ID: mainnet" in lines


@pytest.mark.parametrize(
    ("button", "step"),
    [
        (EVM_BUTTON, "eth_requestAccounts"),
        (EVM_BUTTON, "personal_sign"),
        (SOLANA_BUTTON, "connect"),
        (SOLANA_BUTTON, "signMessage"),
    ],
)
def test_a_rejection_in_the_wallet_is_shown_and_creates_no_session(
    page: Page, context: BrowserContext, api: Api, button: str, step: str
) -> None:
    wallets = InjectedWallets(behaviour={step: "reject"})
    wallets.install(page)
    open_login(page, api)
    before = session_count(api)
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("alert")).to_have_text(REJECTED)
    expect(page.get_by_role("button", name=button)).to_be_enabled()
    assert wallets.signed == []
    assert session_count(api) == before
    assert "nl_session" not in cookie_attributes(context, api.base_url)
    assert fetch_json(page, f"{api.base_url}/v1/auth/me")["status"] == 401
    if step == "personal_sign":
        screenshots(page, "wallet-rejected")


def test_no_wallet_in_the_browser_shows_its_state(page: Page, api: Api) -> None:
    open_login(page, api)
    page.get_by_role("button", name=EVM_BUTTON).click()
    expect(page.get_by_role("alert")).to_have_text(
        "No Ethereum wallet was found in this browser. "
        "Install one (for example MetaMask) or sign in with email."
    )
    page.get_by_role("button", name=SOLANA_BUTTON).click()
    expect(page.get_by_role("alert")).to_have_text(
        "No Solana wallet was found in this browser. "
        "Install one (for example Phantom) or sign in with email."
    )
    screenshots(page, "wallet-none")


def test_a_request_already_waiting_in_the_wallet_says_so(page: Page, api: Api) -> None:
    wallets = InjectedWallets(behaviour={"eth_requestAccounts": "pending"})
    wallets.install(page, solana=False)
    open_login(page, api)
    page.get_by_role("button", name=EVM_BUTTON).click()
    expect(page.get_by_role("alert")).to_have_text(
        "Your wallet already has a request from this site waiting. Open the wallet to answer it."
    )


def test_a_wallet_that_never_answers_times_out(page: Page, api: Api) -> None:
    wallets = InjectedWallets(behaviour={"personal_sign": "hang"})
    wallets.install(page, solana=False)
    page.clock.install()
    open_login(page, api)
    before = session_count(api)
    page.get_by_role("button", name=EVM_BUTTON).click()
    status = page.get_by_role("status")
    expect(status).to_have_text("Waiting for your Ethereum wallet: check the message and sign it.")
    screenshots(page, "wallet-waiting")
    page.clock.run_for(121_000)
    expect(page.get_by_role("alert")).to_have_text(
        "Your wallet did not answer within 2 minutes. Open the wallet and try again."
    )
    expect(page.get_by_role("button", name=EVM_BUTTON)).to_be_enabled()
    assert session_count(api) == before
    screenshots(page, "wallet-timeout")


def test_several_ethereum_wallets_are_offered_by_name(page: Page, api: Api) -> None:
    """Two EIP-6963 wallets: the page names both and the person picks one."""
    wallets = InjectedWallets()
    wallets.install(page, announce=True, solana=False)
    page.add_init_script(
        "window.addEventListener('eip6963:requestProvider', () => window.dispatchEvent("
        "new CustomEvent('eip6963:announceProvider', {detail: {info: {uuid: 'other', "
        "name: 'Other Wallet', icon: '', rdns: 'example.other'}, provider: {request: () => "
        "Promise.reject(Object.assign(new Error('wrong wallet'), {code: 4100}))}}})))"
    )
    open_login(page, api)
    page.get_by_role("button", name=EVM_BUTTON).click()
    choice = page.get_by_role("group", name="Several Ethereum wallets are installed. Choose one:")
    expect(choice.get_by_role("button")).to_have_count(2)
    screenshots(page, "wallet-choose")
    choice.get_by_role("button", name="Sign in with Test Wallet").click()
    expect_signed_in_with_wallet(page, api)
