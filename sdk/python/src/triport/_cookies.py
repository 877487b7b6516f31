"""The console session: the ``nl_session`` and ``nl_csrf`` cookies, optionally kept in a file.

The SDK keeps these two cookies itself rather than in httpx's cookie jar: it talks to one
base URL only, it must decide when to forget them (only after a 200 logout), and a session
token must never be sent to another host, whatever a shared ``http_client`` has stored.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from pathlib import Path

SESSION_COOKIE = "nl_session"
CSRF_COOKIE = "nl_csrf"
COOKIE_NAMES = (SESSION_COOKIE, CSRF_COOKIE)
_FILE_VERSION = 1


def _parse_set_cookie(line: str, now: float) -> tuple[str, str, float | None] | None:
    """``(name, value, expires_at)`` for one of our cookies, ``None`` for any other cookie."""
    first, *attributes = line.split(";")
    name, _, value = first.strip().partition("=")
    if name not in COOKIE_NAMES:
        return None
    max_age: float | None = None
    expires: float | None = None
    for attribute in attributes:
        key, _, raw = attribute.strip().partition("=")
        key = key.strip().lower()
        try:
            if key == "max-age":
                max_age = now + int(raw.strip())
            elif key == "expires":
                expires = parsedate_to_datetime(raw.strip()).timestamp()
        except (TypeError, ValueError):
            continue
    # Max-Age wins over Expires (RFC 6265 section 5.3).
    return name, value.strip().strip('"'), max_age if max_age is not None else expires


class SessionCookies:
    """The two console cookies for one base URL, mirrored to ``path`` when one is given."""

    def __init__(self, base_url: str, path: str | os.PathLike[str] | None = None) -> None:
        self._base_url = base_url
        self._path = Path(path).expanduser() if path is not None else None
        self._cookies: dict[str, tuple[str, float | None]] = {}
        if self._path is not None:
            self._cookies = _decode_entry(_read_file(self._path).get(base_url))

    @property
    def path(self) -> Path | None:
        return self._path

    def values(self) -> dict[str, str]:
        """The live cookie values by name (expired ones dropped)."""
        now = time.time()
        return {
            name: value
            for name, (value, expires_at) in self._cookies.items()
            if expires_at is None or expires_at > now
        }

    def header(self) -> str | None:
        """The ``Cookie`` request header, or ``None`` when there is nothing to send."""
        values = self.values()
        return "; ".join(f"{name}={value}" for name, value in values.items()) or None

    def csrf_token(self) -> str | None:
        return self.values().get(CSRF_COOKIE)

    def update(self, set_cookie_lines: Iterable[str]) -> None:
        """Apply a response's ``Set-Cookie`` lines (a cleared cookie is forgotten)."""
        now = time.time()
        changed = False
        for line in set_cookie_lines:
            parsed = _parse_set_cookie(line, now)
            if parsed is None:
                continue
            name, value, expires_at = parsed
            if not value or (expires_at is not None and expires_at <= now):
                changed |= self._cookies.pop(name, None) is not None
            elif self._cookies.get(name) != (value, expires_at):
                self._cookies[name] = (value, expires_at)
                changed = True
        if changed:
            self._save()

    def clear(self) -> None:
        """Forget the session: only after the server confirmed it is revoked (or dead)."""
        if self._cookies:
            self._cookies.clear()
            self._save()

    def _save(self) -> None:
        if self._path is None:
            return
        # Re-read so that sessions for other base URLs written meanwhile are kept.
        sessions = _read_file(self._path)
        if self._cookies:
            sessions[self._base_url] = {
                name: {"value": value, "expires_at": expires_at}
                for name, (value, expires_at) in self._cookies.items()
            }
        else:
            sessions.pop(self._base_url, None)
        if sessions:
            _write_private(self._path, {"version": _FILE_VERSION, "sessions": sessions})
        else:
            with contextlib.suppress(FileNotFoundError):
                self._path.unlink()


def _read_file(path: Path) -> dict[str, object]:
    """The ``sessions`` map of a session file; a missing or unreadable file holds none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return {}
    sessions = data.get("sessions") if isinstance(data, dict) else None
    return dict(sessions) if isinstance(sessions, dict) else {}


def _decode_entry(entry: object) -> dict[str, tuple[str, float | None]]:
    if not isinstance(entry, Mapping):
        return {}
    cookies: dict[str, tuple[str, float | None]] = {}
    for name in COOKIE_NAMES:
        item = entry.get(name)
        if not isinstance(item, Mapping) or not isinstance(item.get("value"), str):
            continue
        expires_at = item.get("expires_at")
        cookies[name] = (
            item["value"],
            float(expires_at) if isinstance(expires_at, int | float) else None,
        )
    return cookies


def _write_private(path: Path, data: object) -> None:
    """Write atomically, readable by the owner only: the file holds a live session token."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, 0o600)
    try:
        # O_CREAT's mode does not apply to a leftover file; make sure of 0600 either way.
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            fd = -1
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if fd != -1:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
