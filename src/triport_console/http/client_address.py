"""The client address a request is counted under: the peer, or what our trusted proxies saw.

Modelled on Werkzeug's ProxyFix (`x_for=N`): with TRIPORT_TRUST_PROXY=true and
TRIPORT_TRUSTED_PROXY_HOPS=N, the address is the Nth X-Forwarded-For entry from the right, after
all X-Forwarded-For lines are joined (RFC 9110 §5.3), because only the entries our own N proxies
appended can be trusted; everything to their left came from the client. Each entry is parsed with
`ipaddress` (a `:port`, `[v6]` or `[v6]:port` form is accepted); an entry that is missing or is
not an address falls back to the peer address, so no client can choose a key that other clients
share.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from .request import Request

# The longest form accepted: `[` + a 45-character IPv6 text + `]:65535`.
MAX_ADDRESS_TEXT = 53


def parse_address(value: str) -> str | None:
    """`1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]`, `[::1]:80` → canonical text; anything else None."""
    value = value.strip()
    if len(value) > MAX_ADDRESS_TEXT:
        return None  # never an address, and never a key the cache below keeps alive
    return _parse_address(value)


# Every request's log line names its client: parsing the same few peer addresses with
# `ipaddress` again and again cost more than the rest of the line. Bounded in entries and (by
# MAX_ADDRESS_TEXT) in size, so addresses a client makes up only evict entries.
@lru_cache(maxsize=4096)
def _parse_address(value: str) -> str | None:
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        value = host
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
        if not port.isdigit():
            return None
        value = host
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def forwarded_entry(header: str, hops: int) -> str | None:
    """The entry the outermost of `hops` trusted proxies appended, if there is one."""
    entries = header.split(",")
    if hops < 1 or len(entries) < hops:
        return None
    return entries[-hops]


def client_address(request: Request, *, trust_proxy: bool, hops: int) -> str | None:
    client = request.scope.get("client")
    peer = parse_address(client[0]) if client else None
    if trust_proxy:
        forwarded = request.headers.get("x-forwarded-for")
        entry = forwarded_entry(forwarded, hops) if forwarded else None
        address = parse_address(entry) if entry is not None else None
        if address is not None:
            return address
    return peer
