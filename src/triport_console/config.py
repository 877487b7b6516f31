"""All configuration, read once from the environment.

Every knob lives here so an operator has one table to read (the README mirrors it). Invalid values
fail at start with one line naming the variable, never later in a request.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A configuration variable has an invalid value; the message names it."""


@dataclass(frozen=True)
class RateLimit:
    """At most `hits` requests per client address in each fixed window of `window` seconds."""

    hits: int
    window: int


# Per-client-address abuse limits (bucket -> environment variable, default). The defaults are
# far above what one person signing in needs and far below what a script needs to do harm.
RATE_LIMIT_VARIABLES = {
    "email_start": ("TRIPORT_RATE_LIMIT_EMAIL_START", RateLimit(30, 3600)),
    "email_verify": ("TRIPORT_RATE_LIMIT_EMAIL_VERIFY", RateLimit(60, 3600)),
    "wallet_challenge": ("TRIPORT_RATE_LIMIT_WALLET_CHALLENGE", RateLimit(60, 3600)),
    "wallet_verify": ("TRIPORT_RATE_LIMIT_WALLET_VERIFY", RateLimit(60, 3600)),
    "passkey_options": ("TRIPORT_RATE_LIMIT_PASSKEY_OPTIONS", RateLimit(60, 3600)),
    "passkey_verify": ("TRIPORT_RATE_LIMIT_PASSKEY_VERIFY", RateLimit(60, 3600)),
}


DB_POOLERS = ("none", "transaction")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/triport.db"
    mail_url: str = "console:"
    mail_from: str = "Triport <no-reply@triport.localhost>"
    secret_key: bytes = b""
    session_ttl: int = 30 * 24 * 3600
    session_max_lifetime: int = 0
    db_timeout: float = 2.0
    # "none": TRIPORT_DATABASE_URL reaches PostgreSQL directly (or through a session pooler);
    # "transaction": through a transaction-mode pooler such as PgBouncer (store/postgres.py).
    db_pooler: str = "none"
    allowed_origins: frozenset[str] = field(default_factory=frozenset)
    cookie_domain: str | None = None
    cookie_secure: str = "auto"
    trust_proxy: bool = False
    trusted_proxy_hops: int = 1
    public_url: str = "http://127.0.0.1:8080"
    console_enabled: bool = True
    max_active_keys: int = 50
    email_codes_per_hour: int = 5
    log_level: str = "info"
    # bucket -> limit; a bucket switched "off" is absent.
    rate_limits: Mapping[str, RateLimit] = field(
        default_factory=lambda: {name: limit for name, (_, limit) in RATE_LIMIT_VARIABLES.items()}
    )
    purge_interval: int = 3600  # seconds between housekeeping runs per worker; 0 = never
    purge_grace: int = 7 * 24 * 3600  # revoked/expired sessions are kept this long for audit
    activity_retention: int = 90 * 24 * 3600  # account activity events are kept this long
    google_issuer: str = "https://accounts.google.com"
    google_client_id: str = ""
    google_client_secret: str = ""
    console_url: str = ""  # empty: the console is served from public_url
    metrics_token: str = ""  # empty: no /metrics route, and nothing is recorded
    wallet_chain_id: int = 1  # EIP-155 chain id named in EVM sign-in messages (1: Ethereum)

    @property
    def google_enabled(self) -> bool:
        return bool(self.google_client_id)

    @property
    def console_base(self) -> str:
        """Where the console's /login and /app pages live: Google sign-in redirects there, and
        wallet sign-in messages name it (domain and URI) for the wallet's phishing check."""
        return self.console_url or self.public_url

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a number of seconds, got {raw!r}") from None
    if not 0 < value <= 300:
        raise ConfigError(f"{name}: must be between 0 and 300 seconds, got {raw}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


def _rate_limit(env: Mapping[str, str], name: str, default: RateLimit) -> RateLimit | None:
    """`HITS/SECONDS` (e.g. 30/3600), or `off`."""
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw == "off":
        return None
    hits, sep, window = raw.partition("/")
    if not sep or not hits.isdigit() or not window.isdigit() or int(hits) < 1 or int(window) < 1:
        raise ConfigError(f"{name}: expected HITS/SECONDS such as 30/3600, or off; got {raw!r}")
    return RateLimit(int(hits), int(window))


def _rate_limits(env: Mapping[str, str]) -> dict[str, RateLimit]:
    limits = {}
    for bucket, (name, default) in RATE_LIMIT_VARIABLES.items():
        limit = _rate_limit(env, name, default)
        if limit is not None:
            limits[bucket] = limit
    return limits


def _origin(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
        raise ConfigError(f"{name}: {value!r} is not an origin like https://app.example.com")
    return f"{parts.scheme}://{parts.netloc}"


def _database_url(env: Mapping[str, str]) -> str:
    url = env.get("TRIPORT_DATABASE_URL") or Settings.database_url
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or url == "sqlite:///":
            raise ConfigError(
                "TRIPORT_DATABASE_URL: use sqlite:///relative/path.db or sqlite:////abs"
            )
    elif scheme not in {"postgresql", "postgres"}:
        raise ConfigError(
            f"TRIPORT_DATABASE_URL: unsupported scheme {scheme!r} (sqlite:// or postgresql://)"
        )
    return url


def _mail_url(env: Mapping[str, str]) -> str:
    url = env.get("TRIPORT_MAIL_URL") or Settings.mail_url
    parts = urlsplit(url)
    if parts.scheme == "console":
        return url
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ConfigError(
            "TRIPORT_MAIL_URL: expected console:, smtp://[user:pass@]host:port or smtps://…"
        )
    try:
        parts.port  # noqa: B018 - validates the port number
    except ValueError:
        raise ConfigError("TRIPORT_MAIL_URL: invalid port") from None
    return url


def secret_file_path(database_url: str, env: Mapping[str, str]) -> Path:
    """Where a generated secret is kept: beside the SQLite file, or in ./var for PostgreSQL."""
    explicit = env.get("TRIPORT_SECRET_FILE")
    if explicit:
        return Path(explicit)
    if database_url.startswith("sqlite:///"):
        return Path(database_url.removeprefix("sqlite:///")).parent / "secret_key"
    return Path("var") / "secret_key"


def _secret_key(env: Mapping[str, str], database_url: str) -> bytes:
    raw = env.get("TRIPORT_SECRET_KEY")
    if raw:
        if len(raw) < 32:
            raise ConfigError("TRIPORT_SECRET_KEY: must be at least 32 characters")
        return raw.encode()
    # Generated once and kept in a 0600 file, never in the database: a dump of the database
    # alone must not let anyone recompute login-code HMACs.
    path = secret_file_path(database_url, env)
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48).encode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker won the race; use its secret
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as handle:
            handle.write(value)
        return value


def _metrics_token(env: Mapping[str, str]) -> str:
    token = env.get("TRIPORT_METRICS_TOKEN", "")
    if token and (
        len(token) < 32 or not token.isascii() or not token.isprintable() or " " in token
    ):
        raise ConfigError(
            "TRIPORT_METRICS_TOKEN: must be at least 32 printable ASCII characters without spaces"
        )
    return token


def _google(env: Mapping[str, str]) -> dict[str, str]:
    """Google (or any OpenID provider) sign-in settings; unset client id means disabled."""
    issuer = (env.get("TRIPORT_GOOGLE_ISSUER") or Settings.google_issuer).rstrip("/")
    parts = urlsplit(issuer)
    # Discovery and keys are trusted only over TLS, except from a provider on this machine.
    loopback = parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if (
        not parts.netloc
        or parts.query
        or parts.fragment
        or not (parts.scheme == "https" or loopback)
    ):
        raise ConfigError(f"TRIPORT_GOOGLE_ISSUER: {issuer!r} is not an https issuer URL")
    client_id = env.get("TRIPORT_GOOGLE_CLIENT_ID", "").strip()
    client_secret = env.get("TRIPORT_GOOGLE_CLIENT_SECRET", "").strip()
    if client_id and not client_secret:
        raise ConfigError(
            "TRIPORT_GOOGLE_CLIENT_SECRET: required when TRIPORT_GOOGLE_CLIENT_ID is set"
        )
    console_url = (env.get("TRIPORT_CONSOLE_URL") or "").rstrip("/")
    if console_url:
        _origin("TRIPORT_CONSOLE_URL", urlsplit(console_url)._replace(path="").geturl())
    return {
        "google_issuer": issuer,
        "google_client_id": client_id,
        "google_client_secret": client_secret,
        "console_url": console_url,
    }


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment, raising ConfigError with the variable's name."""
    env = os.environ if env is None else env
    database_url = _database_url(env)
    cookie_secure = env.get("TRIPORT_COOKIE_SECURE", "auto").strip().lower() or "auto"
    if cookie_secure not in {"auto", "always", "never"}:
        raise ConfigError(
            f"TRIPORT_COOKIE_SECURE: expected auto, always or never, not {cookie_secure!r}"
        )
    origins = frozenset(
        _origin("TRIPORT_ALLOWED_ORIGINS", item.strip())
        for item in env.get("TRIPORT_ALLOWED_ORIGINS", "").split(",")
        if item.strip()
    )
    public_url = env.get("TRIPORT_PUBLIC_URL") or Settings.public_url
    _origin("TRIPORT_PUBLIC_URL", urlsplit(public_url)._replace(path="").geturl())
    db_pooler = env.get("TRIPORT_DB_POOLER", "none").strip().lower() or "none"
    if db_pooler not in DB_POOLERS:
        raise ConfigError(f"TRIPORT_DB_POOLER: expected none or transaction, not {db_pooler!r}")
    if db_pooler != "none" and database_url.startswith("sqlite:///"):
        raise ConfigError("TRIPORT_DB_POOLER: a connection pooler is for PostgreSQL, not SQLite")
    log_level = env.get("TRIPORT_LOG_LEVEL", "info").lower()
    if log_level not in {"debug", "info", "warning", "error"}:
        raise ConfigError(
            f"TRIPORT_LOG_LEVEL: expected debug, info, warning or error, not {log_level!r}"
        )
    return Settings(
        database_url=database_url,
        mail_url=_mail_url(env),
        mail_from=env.get("TRIPORT_MAIL_FROM") or Settings.mail_from,
        secret_key=_secret_key(env, database_url),
        session_ttl=_int(env, "TRIPORT_SESSION_TTL", Settings.session_ttl, minimum=2),
        session_max_lifetime=_int(env, "TRIPORT_SESSION_MAX_LIFETIME", 0),
        db_timeout=_float(env, "TRIPORT_DB_TIMEOUT", Settings.db_timeout),
        db_pooler=db_pooler,
        allowed_origins=origins,
        cookie_domain=env.get("TRIPORT_COOKIE_DOMAIN") or None,
        cookie_secure=cookie_secure,
        trust_proxy=_bool(env, "TRIPORT_TRUST_PROXY", False),
        trusted_proxy_hops=_int(env, "TRIPORT_TRUSTED_PROXY_HOPS", 1, minimum=1),
        public_url=public_url.rstrip("/"),
        console_enabled=_bool(env, "TRIPORT_CONSOLE_ENABLED", True),
        max_active_keys=_int(env, "TRIPORT_MAX_ACTIVE_KEYS", Settings.max_active_keys, minimum=1),
        email_codes_per_hour=_int(env, "TRIPORT_EMAIL_CODES_PER_HOUR", 5, minimum=1),
        log_level=log_level,
        rate_limits=_rate_limits(env),
        purge_interval=_int(env, "TRIPORT_PURGE_INTERVAL", Settings.purge_interval),
        purge_grace=_int(env, "TRIPORT_PURGE_GRACE", Settings.purge_grace),
        metrics_token=_metrics_token(env),
        wallet_chain_id=_int(env, "TRIPORT_WALLET_CHAIN_ID", Settings.wallet_chain_id, minimum=1),
        activity_retention=_int(
            env, "TRIPORT_ACTIVITY_RETENTION", Settings.activity_retention, minimum=1
        ),
        **_google(env),
    )
