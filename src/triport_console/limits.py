"""Input limits of the contract, each written once.

The validators (services), the typed request structures and the OpenAPI document all read these
names, so a limit cannot say one thing in the schema and another in the code.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

MAX_HEAD: Final = 32 * 1024  # spec 1.6: request line + headers, bytes (decided: 32 KB)
HEAD_TIMEOUT: Final = 10.0  # spec 1.6: seconds for a head to arrive whole (decided)
MAX_BODY: Final = 4096  # spec 1.5: larger JSON bodies are `invalid_json`, read no further
MAX_EMAIL: Final = 254  # RFC 5321 path length, after trimming and lower-casing
MAX_EMAIL_LOCAL: Final = 64  # RFC 5321 local-part length
MAX_KEY_NAME: Final = 80  # spec 2.8: a key name is 1 to 80 characters after trimming
MAX_SCOPES: Final = 32  # spec 2.8
MAX_RATE_LIMIT: Final = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL
LOGIN_CODE_PATTERN: Final = "[0-9]{6}"  # the 6-digit email code

# The public aliases a key may be limited to; "*" is every chain.
Scope = Literal["*", "solana:rpc", "eth:rpc", "polygon:rpc", "op:rpc", "bsc:rpc"]
SCOPES: Final[frozenset[str]] = frozenset(get_args(Scope))
Chain = Literal["evm", "solana"]
CHAINS: Final[tuple[Chain, ...]] = get_args(Chain)
Provider = Literal["email", "google", "wallet", "passkey"]
