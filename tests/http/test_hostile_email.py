"""Email addresses built to reach other mailboxes or dodge the 5-per-hour limit (issue 12).

Spec §2.3 (revised): one plain mailbox `local@domain`; the mail goes to exactly that address,
named as the SMTP envelope recipient. Checked against the real aiosmtpd sink: a refused address
sends nothing anywhere, an accepted one reaches exactly one recipient.
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.support.harness import ServerProcess
from tests.support.http import assert_envelope

HOSTILE = [
    "bob,root@example.com",
    "a<postmaster>b@example.com",
    "bob(1)@example.com",
    "x:bob@example.com",
    "bob@example.com, root@example.com",
    "Bob <bob@example.com>",
    '"bob"@example.com',
    '"bob@example.com"',
    "bob@[127.0.0.1]",
    "bob@example.com (comment)",
    "bob@example(c).com",
    "bob;root@example.com",
    "bob@example.com\r\nBcc: root@example.com",
    "bob\t@example.com",
    "bob\x7f@example.com",
    "bob@example.com.",
    "bob\\@example.com",
]


def start(server: ServerProcess, email: object) -> httpx.Response:
    return httpx.post(server.base_url + "/v1/auth/email/start", json={"email": email}, timeout=30)


@pytest.mark.parametrize("address", HOSTILE)
def test_hostile_addresses_are_invalid_email_and_mail_nothing(server, smtp_sink, address):
    before = len(smtp_sink.messages)
    assert_envelope(start(server, address), 400, "invalid_email")
    assert len(smtp_sink.messages) == before


def test_the_code_goes_to_exactly_the_one_envelope_recipient(server, smtp_sink):
    address = f"ada+{secrets.token_hex(4)}@example.com"
    assert start(server, address).status_code == 200
    smtp_sink.wait_for_code(address)
    index = next(i for i, m in enumerate(smtp_sink.messages) if m["To"] == address)
    assert smtp_sink.recipients[index] == [address]
    assert smtp_sink.messages[index].get_all("To") == [address]


def test_the_hourly_limit_holds_against_variants_of_one_mailbox(server, smtp_sink):
    local = f"bob{secrets.token_hex(4)}"
    address = f"{local}@example.com"
    for _ in range(5):
        assert start(server, address).status_code == 200
    variants = [
        address.upper(),
        f"  {address}\t",
        f"{local}(1)@example.com",
        f"{local}@example.com(x)",
        f'"{local}"@example.com',
        f"Bob <{address}>",
        f"x:{address}",
        f"{local},{local}@example.com",
    ]
    for variant in variants:
        answer = start(server, variant)
        assert answer.status_code in (400, 429), (variant, answer.text)
        assert answer.json()["error"] in ("invalid_email", "rate_limited")
    delivered = [r for r in smtp_sink.recipients if any(local in rcpt for rcpt in r)]
    assert delivered == [[address]] * 5
