"""Housekeeping: delete rows nothing will read again, so tables do not grow without bound.

What goes, and when (SECURITY.md documents the same):
- sessions revoked or expired more than `TRIPORT_PURGE_GRACE` ago (default 7 days: a revoked row
  is kept for audit for a week; a deleted row authenticates nothing, like a revoked one);
- login codes created more than an hour ago: they expire after 10 minutes, but the per-address
  hourly limit counts them, so they must outlive that window;
- wallet challenges past their expiry; rate-limit windows that have ended;
- account activity events older than `TRIPORT_ACTIVITY_RETENTION` (default 90 days, spec §2.11).
Deletes run in batches of `BATCH` rows, each its own short transaction, so a purge never holds
the write lock for long and sign-ins interleave with it.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

from ..config import Settings
from ..errors import StoreUnavailable
from ..logs import JsonLog
from ..store import PurgeTarget, Store
from .email_login import RATE_WINDOW
from .sessions import utcnow

BATCH = 500


class Housekeeping:
    def __init__(self, store: Store, settings: Settings, log: JsonLog) -> None:
        self._store = store
        self._grace = timedelta(seconds=settings.purge_grace)
        self._retention = timedelta(seconds=settings.activity_retention)
        self._interval = settings.purge_interval
        self._log = log

    def cutoffs(self, now: datetime) -> dict[PurgeTarget, datetime]:
        return {
            PurgeTarget.SESSIONS: now - self._grace,
            PurgeTarget.LOGIN_CODES: now - RATE_WINDOW,
            PurgeTarget.WALLET_CHALLENGES: now,
            PurgeTarget.RATE_LIMITS: now,
            PurgeTarget.PASSKEY_CHALLENGES: now,
            PurgeTarget.ACTIVITY_EVENTS: now - self._retention,
        }

    async def purge(self, now: datetime | None = None) -> dict[str, int]:
        """One full pass; returns rows deleted per table."""
        deleted = {}
        for target, cutoff in self.cutoffs(now or utcnow()).items():
            total = 0
            while True:
                count = await self._store.purge_batch(target, cutoff, BATCH)
                total += count
                if count < BATCH:
                    break
                await asyncio.sleep(0)  # let waiting requests in between batches
            deleted[target.value] = total
        return deleted

    async def run_periodically(self) -> None:
        """Purge every interval (±50 % jitter, so workers and instances do not run in step)."""
        while True:
            await asyncio.sleep(self._interval * random.uniform(0.5, 1.5))
            try:
                deleted = await self.purge()
            except StoreUnavailable as exc:  # the next run retries; requests report outages
                self._log.warning("purge_failed", error=type(exc).__name__)
            except Exception as exc:  # a bug must not end housekeeping for the process's life
                self._log.error("purge_crashed", error=type(exc).__name__)
            else:
                self._log.info("purge", **deleted)
