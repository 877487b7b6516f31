"""Mail delivery of login codes: SMTP for real, the terminal for development.

The console mailer is the development stand-in named by `TRIPORT_MAIL_URL=console:`: printing the
code to the operator's own terminal is its whole purpose, and it writes to stderr directly, never
through the structured request log.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from .errors import DeliveryFailed


class Mailer(Protocol):
    async def send_login_code(self, to: str, code: str, lifetime: timedelta) -> None:
        """Hand the message to the mail system or raise DeliveryFailed."""


def _body(code: str, lifetime: timedelta) -> str:
    minutes = int(lifetime.total_seconds() // 60)
    return (
        f"Your Triport sign-in code is {code}\n\n"
        f"It expires in {minutes} minutes and works once. If you did not try to sign in, you can\n"
        "ignore this message.\n"
    )


class ConsoleMailer:
    async def send_login_code(self, to: str, code: str, lifetime: timedelta) -> None:
        print(f"\n  Triport sign-in code for {to}: {code}\n", file=sys.stderr, flush=True)


class SmtpMailer:
    """smtp://[user:pass@]host:port[?starttls=require|never]; smtps:// for implicit TLS."""

    def __init__(self, url: str, sender: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        starttls = parse_qs(parts.query).get("starttls", ["auto"])[0]
        self._sender = sender
        self._options = {
            "hostname": parts.hostname,
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "use_tls": parts.scheme == "smtps",
            # None: upgrade when the server offers STARTTLS; True: refuse to send without it.
            "start_tls": {"require": True, "never": False}.get(starttls),
            "timeout": timeout,
        }

    async def send_login_code(self, to: str, code: str, lifetime: timedelta) -> None:
        # `to` is one validated plain mailbox (email_login.normalise_email). It is named as the
        # only envelope recipient, so no header is ever re-parsed to choose where mail goes, and
        # the To: header is built as an Address (which refuses anything but one addr-spec).
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = Address(addr_spec=to)
        message["Subject"] = "Your Triport sign-in code"
        message.set_content(_body(code, lifetime))
        try:
            await aiosmtplib.send(message, recipients=[to], **self._options)  # type: ignore[arg-type]
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            raise DeliveryFailed(f"SMTP delivery failed: {type(exc).__name__}") from exc


def make_mailer(url: str, sender: str) -> Mailer:
    if url.startswith("console:"):
        return ConsoleMailer()
    return SmtpMailer(url, sender)
