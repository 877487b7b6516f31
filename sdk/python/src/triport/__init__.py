"""Triport console SDK: sign in, inspect the session, manage API keys, and log out for sure.

from triport import ConsoleClient
console = ConsoleClient(base_url="https://api.triport.io")
console.auth.logout()   # session cookie + CSRF are managed by the client
"""

from ._async_client import AsyncConsoleClient
from ._client import ConsoleClient
from ._core import DEFAULT_BASE_URL
from ._exceptions import (
    APIConnectionError,
    AuthenticationError,
    ConflictError,
    CsrfError,
    InvalidRequestError,
    LogoutFailedError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TriportError,
)
from ._models import Challenge, CreatedKey, DefaultKey, Key, Me, Passkey, RotatedKey, User
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "AsyncConsoleClient",
    "AuthenticationError",
    "Challenge",
    "ConflictError",
    "ConsoleClient",
    "CreatedKey",
    "CsrfError",
    "DefaultKey",
    "InvalidRequestError",
    "Key",
    "LogoutFailedError",
    "Me",
    "NotFoundError",
    "Passkey",
    "RateLimitError",
    "RotatedKey",
    "ServerError",
    "TriportError",
    "User",
    "__version__",
]
