"""A minimal Django project doing sessions the usual way: startproject defaults, DEBUG off.

Sessions live in `django.contrib.sessions`' database backend on SQLite (the file named by
PEER_DATABASE, on the same file system as ours), CSRF is Django's double-submit cookie, and the
user comes from `django.contrib.auth`. Nothing else is tuned: the point is
the usual way.
"""

import os

SECRET_KEY = os.environ.get("PEER_SECRET_KEY", "bench-peer-only-not-a-secret-0123456789abcdef")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "peer.urls"
WSGI_APPLICATION = "peer.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("PEER_DATABASE", "peer.sqlite3"),
        # WAL, as ours uses: Django documents this option (5.1+) for concurrent SQLite use; the
        # default rollback journal would make the peer slower and the comparison unfair to it.
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"},
    }
}

SESSION_ENGINE = "django.contrib.sessions.backends.db"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
