"""When to retry and how long to wait: pure functions shared by both clients."""

from __future__ import annotations

import math
import random
import time
from email.utils import parsedate_to_datetime

import httpx

DEFAULT_MAX_RETRIES = 2
DEFAULT_LOGOUT_DEADLINE = 60.0
BASE_DELAY = 0.25
MAX_DELAY = 8.0
# A 429 asking for longer than this (an hour for email codes) is raised, not slept through.
MAX_RETRY_AFTER = 60.0
# The shortest time worth giving a logout attempt before its deadline.
MIN_ATTEMPT_SECONDS = 0.05

# Retrying these cannot do anything twice: GET reads, DELETE of a key is idempotent.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


def backoff_delay(attempt: int, rng: random.Random, *, base: float = BASE_DELAY) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**attempt)).

    Full jitter spreads the retries of many clients that failed together (a database
    outage logs everyone out at once) instead of having them hammer the server in step.
    """
    ceiling = min(MAX_DELAY, base * math.pow(2, max(attempt, 0)))
    return rng.uniform(0, ceiling)


def parse_retry_after(value: object) -> float | None:
    """Seconds from a ``retry_after`` field or a ``Retry-After`` header (seconds or HTTP date)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return max(float(value), 0.0)
    if not isinstance(value, str):
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def retry_delay(
    method: str, status: int, retry_after: float | None, attempt: int, rng: random.Random
) -> float | None:
    """Delay before retrying an ordinary call that got ``status``, or ``None`` to raise now."""
    if method not in SAFE_METHODS:
        return None
    if status == 429:
        if retry_after is None:
            return backoff_delay(attempt, rng)
        return retry_after if retry_after <= MAX_RETRY_AFTER else None
    if status >= 500:
        return backoff_delay(attempt, rng)
    return None


# After these the outcome of a request is unknown: repeating a safe call (or logout) is harmless.
RETRYABLE_TRANSPORT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def is_retryable_transport_error(outcome: object) -> bool:
    return isinstance(outcome, RETRYABLE_TRANSPORT_ERRORS)


def transport_retry_delay(
    method: str, outcome: object, attempt: int, rng: random.Random
) -> float | None:
    """Delay before retrying a call that got no response, or ``None`` to raise now."""
    if method in SAFE_METHODS and is_retryable_transport_error(outcome):
        return backoff_delay(attempt, rng)
    return None
