"""Account activity (spec §2.11): what happened on the account, newest first, in pages.

Events are written by the store inside the transaction of the change they record (sign-ins,
sign-outs, session and key changes), so this service only reads them. Paging is by keyset on
(at, id), which stays correct while new events arrive; the cursor is opaque to clients.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..errors import ErrorCode, InvalidInput
from ..models import ActivityEvent
from ..store import Store

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LIMIT = re.compile(r"[1-9][0-9]{0,2}")
_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,96}")
_POSITION = re.compile(
    r"([0-9]{1,17})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)


@dataclass(frozen=True, slots=True)
class ActivityPage:
    events: list[ActivityEvent]
    next: str | None  # the cursor for the following (older) page; None on the last page


def parse_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not _LIMIT.fullmatch(value) or int(value) > MAX_LIMIT:
        raise InvalidInput(
            ErrorCode.INVALID_REQUEST, f"limit must be a whole number from 1 to {MAX_LIMIT}"
        )
    return int(value)


def encode_cursor(event: ActivityEvent) -> str:
    """base64url("<microseconds since 1970>.<event id>"): the position of the page's last event."""
    micros = (event.at - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{micros}.{event.id}".encode()).decode().rstrip("=")


def decode_cursor(value: str | None) -> tuple[datetime, str] | None:
    if value is None:
        return None
    invalid = InvalidInput(
        ErrorCode.INVALID_REQUEST, "before must be the `next` of an earlier page"
    )
    if not _CURSOR.fullmatch(value):
        raise invalid
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid from None
    position = _POSITION.fullmatch(text)
    if position is None:
        raise invalid
    # At most 17 digits: some time before the year 5200, so no overflow is possible.
    return _EPOCH + timedelta(microseconds=int(position.group(1))), position.group(2)


class ActivityService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def page(self, user_id: str, limit: str | None, before: str | None) -> ActivityPage:
        """One page of the user's events, newest first, older than the cursor `before`."""
        size = parse_limit(limit)
        position = decode_cursor(before)
        events = await self._store.list_activity(user_id, position, size + 1)
        if len(events) <= size:
            return ActivityPage(events, None)
        return ActivityPage(events[:size], encode_cursor(events[size - 1]))
