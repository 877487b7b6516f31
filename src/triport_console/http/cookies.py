"""Cookie attributes in one place, so that a clearing cookie always matches the one it clears.

A browser ignores a clearing Set-Cookie whose Path, Domain or Secure differ from the original, so
`set` and `clear` share one attribute builder.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import formatdate

from ..api.endpoints import BY_OPERATION
from ..config import Settings
from .request import Request

SESSION = "nl_session"
CSRF = "nl_csrf"
SESSION_PAIR = frozenset({SESSION, CSRF})
GOOGLE_STATE = "nl_google_state"
GOOGLE_VERIFIER = "nl_google_verifier"
# The flow cookies are sent to both Google endpoints and nowhere else.
GOOGLE_PATH = BY_OPERATION["startGoogleSignIn"].path.rsplit("/", 1)[0] + "/"
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


class CookiePolicy:
    def __init__(self, settings: Settings) -> None:
        self._mode = settings.cookie_secure
        self._domain = settings.cookie_domain
        self._trust_proxy = settings.trust_proxy
        self._cleared_pairs = {
            secure: (
                self._cleared(SESSION, "/", True, secure=secure),
                self._cleared(CSRF, "/", False, secure=secure),
            )
            for secure in (False, True)
        }

    def is_https(self, request: Request) -> bool:
        if request.scope.get("scheme") == "https":
            return True
        forwarded = request.headers.get("x-forwarded-proto", "")
        return self._trust_proxy and forwarded.split(",")[0].strip().lower() == "https"

    def _secure(self, request: Request) -> bool:
        return self._mode == "always" or (self._mode == "auto" and self.is_https(request))

    def _attributes(self, request: Request, path: str, http_only: bool) -> str:
        return self._attribute_text(path, http_only, secure=self._secure(request))

    def _attribute_text(self, path: str, http_only: bool, *, secure: bool) -> str:
        parts = [f"Path={path}", "SameSite=Lax"]
        if self._domain:
            parts.append(f"Domain={self._domain}")
        if secure:
            parts.append("Secure")
        if http_only:
            parts.append("HttpOnly")
        return "; ".join(parts)

    def set(
        self,
        request: Request,
        name: str,
        value: str,
        max_age: int,
        *,
        http_only: bool,
        path: str = "/",
    ) -> bytes:
        expires = formatdate(datetime.now().timestamp() + max_age, usegmt=True)
        attributes = self._attributes(request, path, http_only)
        return f"{name}={value}; {attributes}; Max-Age={max_age}; Expires={expires}".encode()

    def clear(self, request: Request, name: str, *, http_only: bool, path: str = "/") -> bytes:
        return self._cleared(name, path, http_only, secure=self._secure(request))

    def _cleared(self, name: str, path: str, http_only: bool, *, secure: bool) -> bytes:
        attributes = self._attribute_text(path, http_only, secure=secure)
        return f"{name}=; {attributes}; Max-Age=0; Expires={_EPOCH}".encode()

    def session_pair(
        self, request: Request, token: str, csrf_token: str | None, max_age: int
    ) -> list[bytes]:
        """nl_session (HttpOnly) and nl_csrf (readable by the page's JavaScript)."""
        cookies = [self.set(request, SESSION, token, max_age, http_only=True)]
        if csrf_token is not None:
            cookies.append(self.set(request, CSRF, csrf_token, max_age, http_only=False))
        return cookies

    def clear_session_pair(self, request: Request) -> tuple[bytes, bytes]:
        """Both session cookies cleared; the same two values on every logout, built once."""
        return self._cleared_pairs[self._secure(request)]
