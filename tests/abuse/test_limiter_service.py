"""The limiter service on the real stores, two store instances (two processes' worth) per database.

The wallet challenge route (issue 3) calls the same service through its Route's `limit` bucket;
this proves the bucket's counting and window arithmetic before that route exists.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from triport_console.config import RateLimit
from triport_console.errors import RateLimited
from triport_console.services.rate_limits import RateLimiter
from triport_console.store import open_store


def test_wallet_bucket_is_shared_and_windowed(database_url: str) -> None:
    limits = {"wallet_challenge": RateLimit(3, 60)}
    client = f"192.0.2.{datetime.now(UTC).microsecond % 250}"
    start = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC) + timedelta(
        minutes=datetime.now(UTC).microsecond % 1000
    )

    async def scenario() -> None:
        one, two = open_store(database_url, 5.0), open_store(database_url, 5.0)
        await one.open()
        await two.open()
        try:
            first, second = RateLimiter(one, limits), RateLimiter(two, limits)
            await first.hit("wallet_challenge", client, start + timedelta(seconds=1))
            await second.hit("wallet_challenge", client, start + timedelta(seconds=2))
            await first.hit("wallet_challenge", client, start + timedelta(seconds=3))
            with pytest.raises(RateLimited) as limited:
                await second.hit("wallet_challenge", client, start + timedelta(seconds=10))
            assert limited.value.retry_after == 50  # the window ends at start + 60 s
            # Another bucket, another client, the next window: all counted separately.
            await first.hit("email_start", client, start)  # no limit configured: not counted
            await first.hit("wallet_challenge", "192.0.2.254", start + timedelta(seconds=10))
            await second.hit("wallet_challenge", client, start + timedelta(seconds=60))
        finally:
            await one.close()
            await two.close()

    asyncio.run(scenario())
