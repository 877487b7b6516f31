"""Many sessions at once, held as raw cookie values, for the storm, outage and soak tests.

Each request carries its cookies explicitly (no cookie jar), so a response's clearing cookies
cannot change what the next request sends: the test decides what each request carries.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from tests.support.harness import SmtpSink, sign_in


@dataclass(frozen=True)
class Credentials:
    token: str
    csrf: str

    @property
    def cookie(self) -> dict[str, str]:
        return {"Cookie": f"nl_session={self.token}; nl_csrf={self.csrf}"}


def sign_in_one(
    base_url: str | httpx.URL, sink: SmtpSink, address: str | None = None
) -> Credentials:
    """The real email flow (start, code from the SMTP sink, verify); the cookies it set."""
    http = sign_in(str(base_url), sink, address)
    try:
        return Credentials(http.cookies["nl_session"], http.cookies["nl_csrf"])
    finally:
        http.close()


def sign_in_many(base_url: str, sink: SmtpSink, count: int, threads: int = 8) -> list[Credentials]:
    def batch(size: int) -> list[Credentials]:
        return [sign_in_one(base_url, sink) for _ in range(size)]

    sizes = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        return [item for part in pool.map(batch, sizes) for item in part]


def logout(http: httpx.Client, credentials: Credentials) -> httpx.Response:
    response = http.post(
        "/v1/auth/logout", headers={**credentials.cookie, "X-CSRF-Token": credentials.csrf}
    )
    http.cookies.clear()
    return response


def me(http: httpx.Client, credentials: Credentials) -> httpx.Response:
    response = http.get("/v1/auth/me", headers=credentials.cookie)
    http.cookies.clear()
    return response
