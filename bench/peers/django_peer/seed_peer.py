"""Seed the Django peer: users and logged-in sessions, written the way Django itself writes them.

Run with the peer's venv: `seed_peer.py --sessions N --pools DIR --threads T` (PEER_DATABASE
names the SQLite file). Rows go in through `bulk_create`, session data through the session
store's own `encode`, so a seeded session is byte-for-byte what `login()` would have saved.
A copy of every seeded session is kept in `bench_session_backup`, so the runner can put back the
rows that `logout()` deletes before the next logout measurement.
"""

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/, for pools.py
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402
from pools import write_pools  # noqa: E402

BACKEND = "django.contrib.auth.backends.ModelBackend"
KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"  # Django's own session key alphabet


def seed(sessions: int, pools: Path, threads: int) -> None:
    call_command("migrate", verbosity=0)
    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(username=f"user{i}", email=f"user{i}@peer.example", password="!", date_joined=now)
            for i in range(sessions)
        ],
        batch_size=5000,
    )
    store = SessionStore()
    expires = now + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    rows: list[tuple[str, str]] = []
    records: list[Session] = []
    for user in users:
        key = get_random_string(32, KEY_CHARS)
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: BACKEND,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        records.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=expires)
        )
        rows.append((key, get_random_string(32)))
    Session.objects.bulk_create(records, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_session_backup AS SELECT * FROM django_session")
    write_pools(pools, rows, threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--pools", type=Path, required=True)
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    seed(args.sessions, args.pools, args.threads)


if __name__ == "__main__":
    main()
