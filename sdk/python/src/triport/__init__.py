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
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    SessionEndReason,
    TriportError,
    UnauthenticatedError,
)
from ._models import (
    ActivityEvent,
    ActivityPage,
    Challenge,
    CreatedKey,
    DefaultKey,
    EmailStartResult,
    Key,
    KeyList,
    Me,
    OkResult,
    Passkey,
    PasskeyList,
    RevokedOthers,
    RotatedKey,
    Session,
    SessionList,
    SignInResult,
    User,
)
from ._version import __version__
from ._wallet import EvmSigner, SolanaSigner, Wallet, WalletMessageError, WalletSigner

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "ActivityEvent",
    "ActivityPage",
    "AsyncConsoleClient",
    "AuthenticationError",
    "Challenge",
    "ConflictError",
    "ConsoleClient",
    "CreatedKey",
    "CsrfError",
    "DefaultKey",
    "EmailStartResult",
    "EvmSigner",
    "InvalidRequestError",
    "Key",
    "KeyList",
    "LogoutFailedError",
    "Me",
    "NotFoundError",
    "OkResult",
    "Passkey",
    "PasskeyList",
    "PermissionDeniedError",
    "RateLimitError",
    "RevokedOthers",
    "RotatedKey",
    "ServerError",
    "Session",
    "SessionEndReason",
    "SessionList",
    "SignInResult",
    "SolanaSigner",
    "TriportError",
    "UnauthenticatedError",
    "User",
    "Wallet",
    "WalletMessageError",
    "WalletSigner",
    "__version__",
]
