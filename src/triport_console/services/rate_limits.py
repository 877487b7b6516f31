"""Per-client-address abuse limits, counted in the database so every process shares them.

Fixed windows aligned to the epoch: one counter row per (bucket, client, window), incremented
atomically by an upsert. A fixed window lets a client spend up to twice its limit across one
window boundary; for sign-in abuse that bound is enough, and it costs one write per request.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from ..config import RateLimit
from ..errors import RateLimited
from ..store import Store
from .sessions import utcnow

_UNKNOWN = "unknown"


def client_key(address: str | None) -> str:
    """The counter key for a client address: IPv6 by /64 (one host usually owns a whole /64)."""
    if not address:
        return _UNKNOWN
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        # Not reached from the edge, which parses addresses (http/client_address.py) and falls
        # back to the peer; kept so that a caller passing garbage still gets a key, not an error.
        return _UNKNOWN
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class RateLimiter:
    def __init__(self, store: Store, limits: Mapping[str, RateLimit]) -> None:
        self._store = store
        self._limits = limits

    async def hit(self, bucket: str, address: str | None, now: datetime | None = None) -> None:
        """Count one request; raise RateLimited (with seconds until the window ends) past the limit.

        A bucket without a configured limit (switched off) counts nothing.
        """
        limit = self._limits.get(bucket)
        if limit is None:
            return
        now = now or utcnow()
        epoch = math.floor(now.timestamp())
        window_start = datetime.fromtimestamp(epoch - epoch % limit.window, UTC)
        window_end = window_start + timedelta(seconds=limit.window)
        hits = await self._store.hit_rate_limit(
            bucket, client_key(address), window_start, window_end
        )
        if hits > limit.hits:
            raise RateLimited(math.ceil((window_end - now).total_seconds()))
