"""Checks that server logs never carry a secret: session or CSRF token, login code, key secret.

Tests register the secrets they saw (cookie values, codes read from the SMTP sink, raw keys) and
the servers they ran; `check()` reads every log file and fails on any occurrence, naming the kind
of secret only (the assertion message must not print the secret either).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import httpx

from tests.support.harness import ServerProcess, SmtpSink
from tests.support.sessions import Credentials

_KEY_SECRET = re.compile(r"nl_live_[0-9a-f]{64}")
_CODE_IN_MAIL = re.compile(r"\b(\d{6})\b")


class SecretWatch:
    def __init__(self) -> None:
        self.tokens: set[str] = set()
        self.codes: set[str] = set()
        self.logs: list[Path] = []

    def server(self, server: ServerProcess) -> ServerProcess:
        self.logs.append(server.log_path)
        return server

    def token(self, *values: str) -> None:
        self.tokens.update(value for value in values if value)

    def client(self, client: httpx.Client) -> None:
        """The session and CSRF cookies a client holds."""
        for name in ("nl_session", "nl_csrf"):
            value = client.cookies.get(name)
            if value:
                self.tokens.add(value)

    def sessions(self, sessions: Iterable[Credentials]) -> None:
        for credentials in sessions:
            self.token(credentials.token, credentials.csrf)

    def finish(self, sink: SmtpSink, sessions: Iterable[Credentials] = ()) -> int:
        """Register the sessions and every code mailed so far, then `check()`."""
        self.sessions(sessions)
        self.mailed_codes(sink)
        return self.check()

    def mailed_codes(self, sink: SmtpSink) -> None:
        """Every code the sink has received so far."""
        for message in list(sink.messages):
            body = (message.get_payload(decode=True) or b"").decode(errors="replace")
            self.codes.update(_CODE_IN_MAIL.findall(body))

    def check(self) -> int:
        """Scan every registered log; returns the number of lines read (0 means nothing ran)."""
        lines = 0
        codes = (
            re.compile(
                r"(?<![0-9A-Za-z_-])(?:" + "|".join(sorted(self.codes)) + r")(?![0-9A-Za-z_-])"
            )
            if self.codes
            else None
        )
        for path in self.logs:
            text = path.read_text(errors="replace") if path.exists() else ""
            lines += text.count("\n")
            leaked_tokens = sum(1 for token in self.tokens if token in text)
            assert leaked_tokens == 0, f"{leaked_tokens} session/CSRF token(s) in {path}"
            assert not _KEY_SECRET.search(text), f"an nl_live_ key secret in {path}"
            assert codes is None or not codes.search(text), f"a login code in {path}"
        return lines
