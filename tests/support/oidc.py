"""Run the real OpenID provider (``oidc_provider/provider.mjs``) on loopback for tests.

    provider = OidcProvider(email="grace@example.com"); provider.start()
    provider.issuer                    # "http://127.0.0.1:PORT", for TRIPORT_GOOGLE_ISSUER
    provider.configure(consent="deny") # change the test account / consent while running
    callback = provider.authorize(browser, url)  # drive login + consent, return the callback URL
    provider.stop()

``npm ci`` runs once in ``oidc_provider/`` when its ``node_modules`` is missing.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

PROVIDER_DIR = Path(__file__).with_name("oidc_provider")
CLIENT_ID = "triport-test"
CLIENT_SECRET = "triport-test-secret"
REDIRECT_PATH = "/v1/auth/google/callback"


def ensure_installed() -> None:
    """Install the provider's locked npm dependencies if they are not there yet."""
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PROVIDER_DIR,
            check=True,
            timeout=300,
        )


class OidcProvider:
    """One ``oidc-provider`` process with one registered client and one test account."""

    def __init__(
        self,
        *,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        token_auth: str = "client_secret_basic",
        claims_in_id_token: bool = False,
        email: str = "grace@example.com",
        email_verified: bool = True,
        subject: str = "oidc-test-user-1",
        name: str = "Grace Hopper",
        consent: str = "approve",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self._env = {
            "OIDC_CLIENT_ID": client_id,
            "OIDC_CLIENT_SECRET": client_secret,
            # A native client: any 127.0.0.1 port is accepted for this path (RFC 8252 7.3).
            "OIDC_REDIRECT_URI": f"http://127.0.0.1{REDIRECT_PATH}",
            "OIDC_TOKEN_AUTH": token_auth,
            "OIDC_CLAIMS_IN_ID_TOKEN": "true" if claims_in_id_token else "false",
            "OIDC_EMAIL": email,
            "OIDC_EMAIL_VERIFIED": "true" if email_verified else "false",
            "OIDC_SUBJECT": subject,
            "OIDC_NAME": name,
            "OIDC_CONSENT": consent,
        }
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.issuer = ""

    def start(self, timeout: float = 30.0) -> None:
        ensure_installed()
        self._process = subprocess.Popen(
            ["node", "provider.mjs"],
            cwd=PROVIDER_DIR,
            env={**os.environ, **self._env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        line = self._first_line(timeout)
        self.issuer = json.loads(line)["issuer"]

    def _first_line(self, timeout: float) -> bytes:
        assert self._process is not None and self._process.stdout is not None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if selector.select(timeout=0.2):
                    line = self._process.stdout.readline()
                    if line:
                        return line
                if self._process.poll() is not None:
                    break
        self._log.seek(0)
        log = self._log.read()[-2000:]
        self.stop()
        raise RuntimeError(f"OpenID provider did not start: {log!r}")

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change the test account (email, email_verified, name, ...) or consent at run time."""
        response = httpx.post(f"{self.issuer}/__test__/settings", json=settings, timeout=5)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def authorize(self, browser: httpx.Client, url: str, max_hops: int = 20) -> httpx.URL:
        """Follow ``url`` through the provider's pages like a browser would.

        Returns the first redirect that leaves the provider (the relying party's callback),
        without requesting it, so the caller decides what to do with it.
        """
        current = httpx.URL(url)
        for _ in range(max_hops):
            response = browser.get(current, follow_redirects=False)
            if response.status_code not in (302, 303):
                raise AssertionError(f"provider answered {response.status_code} at {current}")
            current = current.join(response.headers["location"])
            if not str(current).startswith(self.issuer + "/"):
                return current
        raise AssertionError("the provider kept redirecting")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()
        self._log.close()

    def __enter__(self) -> OidcProvider:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
