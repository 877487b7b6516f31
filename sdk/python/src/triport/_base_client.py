"""What both clients hold: the configuration, the session cookies and an httpx client."""

from __future__ import annotations

import os
from typing import Generic, TypeVar

import httpx

from ._core import DEFAULT_TIMEOUT, ConsoleCore, Timeout
from ._retry import DEFAULT_LOGOUT_DEADLINE, DEFAULT_MAX_RETRIES

HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)


class BaseConsoleClient(Generic[HttpT]):
    """Console API client that keeps the session cookies and CSRF token for you.

    ``base_url`` defaults to ``$TRIPORT_BASE_URL`` or ``https://api.triport.io``. With a
    ``session_file`` (or ``$TRIPORT_SESSION_FILE``) the session survives between runs.
    ``max_retries`` applies to safe calls (GET, DELETE); ``logout_deadline`` is how long
    ``auth.logout()`` keeps trying. An ``http_client`` passed in is used but not closed.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        logout_deadline: float = DEFAULT_LOGOUT_DEADLINE,
        session_file: str | os.PathLike[str] | None = None,
        http_client: HttpT | None = None,
    ) -> None:
        self._core = ConsoleCore(
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            logout_deadline=logout_deadline,
            session_file=session_file,
        )
        self._owns_http = http_client is None
        self._http: HttpT = http_client if http_client is not None else self._new_http_client()

    def _new_http_client(self) -> HttpT:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        return self._core.base_url

    @property
    def cookies(self) -> dict[str, str]:
        """A copy of the console cookies held (``nl_session``, ``nl_csrf``): secrets, do not log."""
        return self._core.cookies.values()
