"""The composition root: the one place that builds the store, the mailer and the services.

The HTTP app (http/app.py, in each worker's startup) and the command line (cli.py) both call
`open_services`; nothing else constructs a service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from .api.endpoints import BY_OPERATION
from .config import Settings
from .logs import JsonLog
from .mail import make_mailer
from .services.activity import ActivityService
from .services.api_keys import ApiKeyService
from .services.email_login import EmailLoginService
from .services.google_login import GoogleLoginService
from .services.housekeeping import Housekeeping
from .services.passkeys import PasskeyService
from .services.rate_limits import RateLimiter
from .services.sessions import SessionService
from .services.wallet_login import WalletLoginService
from .store import Store, open_store


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    sessions: SessionService
    email_login: EmailLoginService
    wallet_login: WalletLoginService
    google_login: GoogleLoginService
    keys: ApiKeyService
    activity: ActivityService
    passkeys: PasskeyService
    limiter: RateLimiter
    housekeeping: Housekeeping

    async def close(self) -> None:
        await self.store.close()


async def open_services(settings: Settings, log: JsonLog) -> Services:
    """Open the store (applying pending migrations) and build every service on it."""
    store = open_store(settings.database_url, settings.db_timeout, settings.db_pooler)
    await store.open()
    sessions = SessionService(store, settings)
    return Services(
        settings=settings,
        store=store,
        sessions=sessions,
        email_login=EmailLoginService(
            store, make_mailer(settings.mail_url, settings.mail_from), sessions, settings
        ),
        wallet_login=WalletLoginService(store, sessions, settings),
        google_login=GoogleLoginService(
            store, sessions, settings, BY_OPERATION["finishGoogleSignIn"].path
        ),
        keys=ApiKeyService(store, settings.max_active_keys),
        activity=ActivityService(store),
        passkeys=PasskeyService(store, sessions, settings),
        limiter=RateLimiter(store, settings.rate_limits),
        housekeeping=Housekeeping(store, settings, log),
    )


@asynccontextmanager
async def services(settings: Settings, log: JsonLog) -> AsyncIterator[Services]:
    """`open_services` for one command: the store is closed when the block ends."""
    built = await open_services(settings, log)
    try:
        yield built
    finally:
        await built.close()
