"""``triport``: the console from a terminal, signed in between runs through a 0600 session file."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from ._client import ConsoleClient
from ._core import BASE_URL_ENV, DEFAULT_BASE_URL, SESSION_FILE_ENV
from ._exceptions import AuthenticationError, LogoutFailedError, TriportError
from ._models import ActivityEvent, Key, Session

__all__ = ["default_session_file", "main"]


# Why the session ended, from a 401's `reason` (spec §2.10), in words.
ENDED: dict[str, str] = {
    "signed_out": "this session was signed out",
    "revoked": "this session was ended from another device",
    "signed_out_everywhere": "you were signed out everywhere",
    "replaced": "a newer sign-in replaced this session",
    "admin": "an administrator ended this session",
    "expired": "this session expired",
}


def default_session_file() -> Path:
    """``$XDG_CONFIG_HOME/triport/session.json`` (``~/.config`` when unset; APPDATA on Windows)."""
    base = os.environ.get("XDG_CONFIG_HOME") or (
        os.environ.get("APPDATA") if os.name == "nt" else None
    )
    root = Path(base) if base else Path.home() / ".config"
    return root / "triport" / "session.json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="triport", description="Triport console from the shell.")
    parser.add_argument(
        "--base-url",
        default=os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL,
        help=f"API base URL (default: ${BASE_URL_ENV} or {DEFAULT_BASE_URL})",
    )
    parser.add_argument(
        "--session-file",
        type=Path,
        default=None,
        help=f"session file (default: ${SESSION_FILE_ENV} or {default_session_file()})",
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    login = commands.add_parser("login", help="sign in with a code sent by email")
    login.add_argument("--email", required=True, metavar="ADDRESS")
    login.add_argument("--code", help="the 6-digit code (prompted for when omitted)")
    login.add_argument(
        "--request-id", help="finish a sign-in started with --send-only (scripts: with --code)"
    )
    login.add_argument(
        "--send-only", action="store_true", help="only mail the code and print the request id"
    )
    login.add_argument(
        "--sign-out-others",
        action="store_true",
        help="also end every other session of the account (a lost device)",
    )

    commands.add_parser("me", help="show the signed-in user and default key")

    logout = commands.add_parser("logout", help="revoke the session (retries until it holds)")
    logout.add_argument("--deadline", type=float, default=None, metavar="SECONDS")

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="keys_command", required=True, metavar="ACTION"
    )
    keys.add_parser("list", help="list keys, newest first")
    create = keys.add_parser("create", help="create a key and print its secret once")
    create.add_argument("name")
    create.add_argument("--scope", action="append", dest="scopes", metavar="SCOPE")
    create.add_argument("--rate-limit", type=int, default=None, metavar="N")
    keys.add_parser("revoke", help="revoke a key").add_argument("id")
    keys.add_parser("rotate", help="replace a key with a new secret").add_argument("id")

    sessions = commands.add_parser(
        "sessions", help="list where you are signed in (or: revoke ID, revoke-others)"
    ).add_subparsers(dest="sessions_command", required=False, metavar="ACTION")
    sessions.add_parser("list", help="list live sessions, this one first (the default)")
    sessions.add_parser("revoke", help="end one session").add_argument("id")
    sessions.add_parser("revoke-others", help="end every session but this one")

    activity = commands.add_parser("activity", help="what happened on the account, newest first")
    activity.add_argument("--limit", type=int, default=None, metavar="N", help="events per page")
    activity.add_argument(
        "--before", default=None, metavar="CURSOR", help="the `next` cursor of the previous page"
    )
    activity.add_argument("--all", action="store_true", help="every page, not just the first")
    return parser


def _jsonable(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def _key_line(key: Key) -> str:
    flags = " (default)" if key.is_default else ""
    return (
        f"{key.id}  {key.key_prefix}…  {key.status:<7}  {','.join(key.scopes)}  {key.name}{flags}"
    )


def _when(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _session_line(session: Session) -> str:
    this = "  (this session)" if session.current else ""
    device = session.device or "unknown device"
    ip = session.ip or "unknown IP"
    seen = _when(session.last_seen_at)
    return f"{session.id}  {device}  {ip}  {session.provider}  last active {seen}{this}"


def _event_line(event: ActivityEvent) -> str:
    where = ", ".join(part for part in (event.device, event.ip) if part)
    refs = [
        f"{name} {value}"
        for name, value in (
            ("provider", event.provider),
            ("session", event.session_id),
            ("key", event.key_id),
            ("passkey", event.passkey_id),
        )
        if value
    ]
    details = "  ".join([where, *refs]) if where or refs else ""
    return f"{_when(event.at)}  {event.type:<22}  {details}".rstrip()


def _activity(args: argparse.Namespace, console: ConsoleClient) -> tuple[object, list[str]]:
    if args.all:
        events = list(console.activity.iterate(limit=args.limit, before=args.before))
        return {"events": events, "next": None}, [_event_line(event) for event in events]
    page = console.activity.list(limit=args.limit, before=args.before)
    lines = [_event_line(event) for event in page.events]
    if page.next:
        lines.append(f"more: triport activity --before {page.next}")
    return page, lines


def _sessions(args: argparse.Namespace, console: ConsoleClient) -> tuple[object, list[str]]:
    if args.sessions_command == "revoke":
        return console.sessions.revoke(args.id), [f"Ended session {args.id}."]
    if args.sessions_command == "revoke-others":
        ended = console.sessions.revoke_others()
        return ended, [f"Ended {ended.revoked} other session(s)."]
    sessions = console.sessions.list().sessions
    return sessions, [_session_line(session) for session in sessions]


def _read_code(email: str) -> str:
    # The prompt goes to stderr so that stdout stays clean for --json.
    print(f"Enter the 6-digit code sent to {email}: ", end="", file=sys.stderr, flush=True)
    code = sys.stdin.readline().strip()
    if not code:
        raise SystemExit("triport: no code entered")
    return code


def _run(args: argparse.Namespace, console: ConsoleClient) -> tuple[object, list[str]]:
    """Perform one command: its result (for --json) and its lines for a human reader."""
    if args.command == "login":
        request_id = args.request_id or console.auth.email_start(args.email).request_id
        if args.send_only:
            return {"request_id": request_id}, [
                f"Code sent to {args.email}; request id:",
                request_id,
            ]
        code = args.code or _read_code(args.email)
        signed_in = console.auth.email_verify(
            request_id, code, sign_out_others=args.sign_out_others
        )
        user = signed_in.user
        lines = [f"Signed in as {user.email or user.id}."]
        if signed_in.signed_out_others is not None:
            lines.append(f"Ended {signed_in.signed_out_others} other session(s).")
        return user, lines
    if args.command == "me":
        me = console.auth.me()
        lines = [
            f"{me.user.email or me.user.id} (signed in with {me.provider})",
            f"default key: {_key_line(me.default_key)}",
        ]
        if me.default_key.raw:
            lines.append(f"default key secret (shown once): {me.default_key.raw}")
        return me, lines
    if args.command == "logout":
        return console.auth.logout(deadline=args.deadline), ["Signed out."]
    if args.command == "sessions":
        return _sessions(args, console)
    if args.command == "activity":
        return _activity(args, console)
    if args.keys_command == "list":
        keys = console.keys.list().keys
        return keys, [_key_line(key) for key in keys]
    if args.keys_command == "create":
        created = console.keys.create(args.name, scopes=args.scopes, rate_limit=args.rate_limit)
        secret_line = f"secret (shown once): {created.raw}"
        return {"raw": created.raw, "key": created.key}, [_key_line(created.key), secret_line]
    if args.keys_command == "revoke":
        return console.keys.revoke(args.id), [f"Revoked {args.id}."]
    rotated = console.keys.rotate(args.id)
    result = {"old_id": rotated.old_id, "new": rotated.new, "raw": rotated.raw}
    return result, [_key_line(rotated.new), f"secret (shown once): {rotated.raw}"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``triport`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "login" and args.code and not args.request_id:
        # The code only exists after the request that mails it: scripts sign in in two steps.
        parser.error("--code needs --request-id (from `triport login --email ADDRESS --send-only`)")
    session_file = args.session_file or os.environ.get(SESSION_FILE_ENV) or default_session_file()
    with ConsoleClient(base_url=args.base_url, session_file=session_file) as console:
        try:
            result, lines = _run(args, console)
        except LogoutFailedError as exc:
            _fail(exc, "still signed in; run `triport logout` again.")
            return 1
        except AuthenticationError as exc:
            ended = ENDED.get(exc.reason, "not signed in") if exc.reason else "not signed in"
            _fail(exc, f"{ended}; run `triport login --email ADDRESS`.")
            return 1
        except TriportError as exc:
            _fail(exc)
            return 1
    print(json.dumps(_jsonable(result), indent=2) if args.json else "\n".join(lines))
    return 0


def _fail(error: TriportError, hint: str | None = None) -> None:
    """The server's human message first; the code, status and request id for a bug report."""
    details = ", ".join(
        part
        for part in (
            f"HTTP {error.status}" if error.status is not None else None,
            error.code,
            f"request {error.request_id}" if error.request_id else None,
        )
        if part
    )
    print(f"triport: {error.message} ({details})", file=sys.stderr)
    if hint:
        print(f"triport: {hint}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
