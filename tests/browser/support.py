"""Helpers for the real-browser tests: test pages on origins of their own, running API servers,
and sign-in steps. Nothing here prints a code, token or key secret."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from tests.conftest import require_postgres
from tests.support.harness import ServerProcess, SmtpSink, create_database, drop_database

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SEED_SNIPPET = (Path(__file__).parent / "seed_logout.js").read_text()
SEED_BASE_URL = "https://api.triport.io"
T = TypeVar("T")


class StaticSite:
    """A tiny web server for test pages, reached as http://localhost:PORT: an origin of its own
    but the same *site* as an API on http://localhost:OTHER, so SameSite=Lax cookies still flow."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[str, str]] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = site.files.get(self.path.split("?", 1)[0])
                if found is None:
                    self.send_error(404)
                    return
                content_type, text = found
                body = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test output stays readable."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://localhost:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StaticSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_seed_page(self, api_origin: str) -> None:
        """An empty page plus the seed's logout example as a module, aimed at `api_origin`."""
        self.files["/"] = ("text/html", "<!doctype html><title>seed example</title><p>seed</p>")
        script = SEED_SNIPPET.replace(SEED_BASE_URL, api_origin)
        self.files["/seed-logout.js"] = ("text/javascript", script)


@dataclass(frozen=True)
class Api:
    """A running console server and its database."""

    base_url: str  # http://127.0.0.1:PORT, as the harness binds it
    database_url: str

    @property
    def localhost_url(self) -> str:
        """The same server under the name `localhost` (same site as the StaticSite pages)."""
        return self.base_url.replace("://127.0.0.1:", "://localhost:")


def off_the_loop(function: Callable[..., T], *args: Any) -> T:
    """Runs a harness call on a plain thread: Playwright's sync API keeps an asyncio loop
    running on this one, and the PostgreSQL helpers call asyncio.run()."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


@contextmanager
def running_api(
    store: str, sink: SmtpSink, env: dict[str, str], port: int | None = None
) -> Iterator[Api]:
    """A fresh database and a real `triport-console serve` process on it."""
    if store == "postgres":
        off_the_loop(require_postgres)
    database_url = off_the_loop(create_database, store)
    server = ServerProcess(database_url, mail_url=sink.url, env=env, workers=1, port=port)
    try:
        server.start()
        yield Api(server.base_url, database_url)
    finally:
        server.stop()
        off_the_loop(drop_database, database_url)


def new_email(label: str) -> str:
    """A fresh address per test: the start route allows only 5 codes per address and hour."""
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


FETCH_JSON = """async ([url, body]) => {
  const init = {credentials: "include", headers: {"Content-Type": "application/json"}};
  if (body !== null) Object.assign(init, {method: "POST", body: JSON.stringify(body)});
  const response = await fetch(url, init);
  return {status: response.status, body: await response.json()};
}"""


def fetch_json(page: Page, url: str, body: dict[str, str] | None = None) -> dict[str, Any]:
    """A credentialed fetch from inside the page (GET, or POST with a JSON body)."""
    result: dict[str, Any] = page.evaluate(FETCH_JSON, [url, body])
    return result


def sign_in_by_fetch(page: Page, api_origin: str, sink: SmtpSink, email: str) -> None:
    """Email sign-in by fetch from the page's own origin, so the browser stores the cookies."""
    started = fetch_json(page, f"{api_origin}/v1/auth/email/start", {"email": email})
    assert started["status"] == 200, started["body"]
    code = sink.wait_for_code(email, timeout=10)
    verified = fetch_json(
        page,
        f"{api_origin}/v1/auth/email/verify",
        {"request_id": started["body"]["request_id"], "code": code},
    )
    assert verified["status"] == 200, verified["body"].get("error")


def sign_in_through_page(page: Page, sink: SmtpSink, email: str) -> None:
    """The console page's email sign-in, as a person does it."""
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Send code").click()
    code_box = page.get_by_label("6-digit code")
    expect(code_box).to_be_visible()
    code_box.fill(sink.wait_for_code(email, timeout=10))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#me-email")).to_have_text(email)


def cookie_attributes(context: BrowserContext, url: str) -> dict[str, dict[str, Any]]:
    """The browser's cookies for `url` by name, without their values (safe to print)."""
    return {
        cookie["name"]: {k: v for k, v in cookie.items() if k != "value"}
        for cookie in context.cookies(url)
    }


def session_token(context: BrowserContext, url: str) -> str:
    """The raw nl_session value from the browser's store (for server-side checks only)."""
    return next(c["value"] for c in context.cookies(url) if c["name"] == "nl_session")


def session_is_live(api: Api, token: str) -> bool:
    """Asks the server itself, outside the browser, whether the token still authenticates."""
    status = httpx.get(f"{api.base_url}/v1/auth/me", cookies={"nl_session": token}).status_code
    assert status in (200, 401), status
    return status == 200


def screenshot(page: Page, name: str) -> None:
    """Saves test-artifacts/<name>.png, the one-time secret masked: artifacts hold no secrets."""
    ARTIFACTS.mkdir(exist_ok=True)
    secret = page.locator("#secret-value")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, mask=[secret])
