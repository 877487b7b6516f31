"""Abuse-limit configuration and client keys: parsing, defaults, errors that name the variable."""

from __future__ import annotations

import pytest

from triport_console.config import ConfigError, RateLimit, load_settings
from triport_console.services.rate_limits import client_key

BASE = {"TRIPORT_SECRET_KEY": "k" * 40, "TRIPORT_DATABASE_URL": "sqlite:///var/x.db"}


def test_defaults_are_safe() -> None:
    limits = load_settings(BASE).rate_limits
    assert limits == {
        "email_start": RateLimit(30, 3600),
        "email_verify": RateLimit(60, 3600),
        "wallet_challenge": RateLimit(60, 3600),
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
