"""Abuse-limit configuration and client keys: parsing, defaults, errors that name the variable."""

from __future__ import annotations

import pytest

from triport_console.config import ConfigError, RateLimit, load_settings
from triport_console.http.client_address import (
    MAX_ADDRESS_TEXT,
    _parse_address,
    forwarded_entry,
    parse_address,
)
from triport_console.services.rate_limits import client_key

BASE = {"TRIPORT_SECRET_KEY": "k" * 40, "TRIPORT_DATABASE_URL": "sqlite:///var/x.db"}


def test_defaults_are_safe() -> None:
    limits = load_settings(BASE).rate_limits
    assert limits == {
        "email_start": RateLimit(30, 3600),
        "email_verify": RateLimit(60, 3600),
        "wallet_challenge": RateLimit(60, 3600),
        "wallet_verify": RateLimit(60, 3600),
        "passkey_options": RateLimit(60, 3600),
        "passkey_verify": RateLimit(60, 3600),
    }
    settings = load_settings(BASE)
    assert settings.purge_interval == 3600 and settings.purge_grace == 7 * 24 * 3600


def test_values_and_off() -> None:
    env = {
        **BASE,
        "TRIPORT_RATE_LIMIT_EMAIL_START": " 5/60 ",
        "TRIPORT_RATE_LIMIT_EMAIL_VERIFY": "OFF",
        "TRIPORT_PURGE_INTERVAL": "0",
    }
    settings = load_settings(env)
    assert settings.rate_limits["email_start"] == RateLimit(5, 60)
    assert "email_verify" not in settings.rate_limits
    assert settings.purge_interval == 0


@pytest.mark.parametrize("value", ["30", "0/60", "30/0", "-1/60", "a/b", "30/60/1", "30 per hour"])
def test_bad_values_fail_at_start_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="TRIPORT_RATE_LIMIT_WALLET_CHALLENGE"):
        load_settings({**BASE, "TRIPORT_RATE_LIMIT_WALLET_CHALLENGE": value})


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.9", "198.51.100.9"),
        ("not-an-address", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_client_keys(address: str | None, key: str) -> None:
    """One IPv6 host owns a /64, so the /64 is the client; garbage shares one bucket."""
    assert client_key(address) == key


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7:8080 ", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:DB8::1]", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("203.0.113.7:", None),
        ("203.0.113.7:http", None),
        ("[2001:db8::1", None),
        ("[2001:db8::1]x", None),
        ("unknown", None),
        ("", None),
        ("_hidden", None),
    ],
)
def test_forwarded_addresses_parse_without_ports_or_brackets(
    value: str, parsed: str | None
) -> None:
    assert parse_address(value) == parsed


@pytest.mark.parametrize(
    ("header", "hops", "entry"),
    [("a, b, c", 1, " c"), ("a, b, c", 2, " b"), ("a, b, c", 3, "a"), ("a, b", 3, None)],
)
def test_forwarded_entry_counts_hops_from_the_right(
    header: str, hops: int, entry: str | None
) -> None:
    assert forwarded_entry(header, hops) == entry


def test_trusted_proxy_hops_default_to_one_and_must_be_positive() -> None:
    assert load_settings(BASE).trusted_proxy_hops == 1
    assert load_settings({**BASE, "TRIPORT_TRUSTED_PROXY_HOPS": "2"}).trusted_proxy_hops == 2
    with pytest.raises(ConfigError):
        load_settings({**BASE, "TRIPORT_TRUSTED_PROXY_HOPS": "0"})


def test_the_longest_address_form_parses_and_longer_text_is_refused_uncached() -> None:
    longest = "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535"
    assert len(longest) == MAX_ADDRESS_TEXT
    assert parse_address(longest) == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
    # Made-up forwarded entries of any length cost one bounded cache entry at most, never their
    # own size: text longer than any address is refused before the cache.
    before = _parse_address.cache_info().currsize
    for n in range(2000):
        assert parse_address(f"{n}-" + "x" * 30_000) is None
    assert _parse_address.cache_info().currsize == before
    assert _parse_address.cache_info().maxsize == 4096
