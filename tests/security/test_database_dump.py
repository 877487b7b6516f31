"""A copy of the database alone yields no usable secret, and session tokens look random.

Threat: a database dump (backup leak, SQL injection elsewhere, a stolen disk). Every table's every
cell is read back and searched for the raw session token, CSRF token, login code and key secret;
only their SHA-256 (tokens, keys) or HMAC with a server secret kept outside the database (codes)
may be stored.
"""

from __future__ import annotations

import base64
import secrets

import httpx

from tests.support.harness import ServerProcess, SmtpSink, run_sql
from tests.support.sessions import Credentials, me, sign_in_one

TABLES = ("users", "identities", "sessions", "api_keys", "login_codes", "rate_limits")


def _cells(url: str) -> list[bytes]:
    cells: list[bytes] = []
    for table in TABLES:
        for row in run_sql(url, f"SELECT * FROM {table}"):
            for value in row:
                if isinstance(value, (bytes, memoryview)):
                    cells.append(bytes(value))
                elif value is not None:
                    cells.append(str(value).encode())
    return cells


def test_a_database_dump_holds_no_raw_secret(
    server: ServerProcess, smtp_sink: SmtpSink, database_url: str
) -> None:
    address = f"dump-{secrets.token_hex(4)}@example.com"
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        started = http.post("/v1/auth/email/start", json={"email": address}).json()
        code = smtp_sink.wait_for_code(address)
        verified = http.post(
            "/v1/auth/email/verify", json={"request_id": started["request_id"], "code": code}
        )
        credentials = Credentials(verified.cookies["nl_session"], verified.cookies["nl_csrf"])
        http.cookies.clear()
        raw_key = me(http, credentials).json()["default_key"]["raw"]
    cells = _cells(database_url)
    assert any(address.encode() in cell for cell in cells)  # the dump is really of this data
    for secret in (credentials.token, credentials.csrf, raw_key, raw_key[8:]):
        assert not any(secret.encode() in cell for cell in cells)
    # The code is six digits: look for it as a whole value, not inside ids and timestamps.
    assert code.encode() not in cells


def test_session_tokens_are_distinct_and_their_bits_balanced(
    server: ServerProcess, smtp_sink: SmtpSink
) -> None:
    """60 sign-ins: 120 tokens of 256 bits, all distinct, about half of their bits set.

    Not a randomness proof (that is the OS CSPRNG's job, tokens.new_token); it catches a token
    built from a counter, a timestamp or a truncated hash, which fails the bit balance.
    """
    tokens = []
    for _ in range(60):
        credentials = sign_in_one(server.base_url, smtp_sink)
        tokens += [credentials.token, credentials.csrf]
    assert len(set(tokens)) == len(tokens)
    raw = [base64.urlsafe_b64decode(token + "=") for token in tokens]
    assert {len(value) for value in raw} == {32}
    ones = sum(bin(byte).count("1") for value in raw for byte in value)
    total = 8 * sum(len(value) for value in raw)
    assert abs(ones / total - 0.5) < 0.02, ones / total  # 30,720 bits: 0.02 is > 7 sigma
