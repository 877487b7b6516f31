"""Email one-time-code sign-in: start sends a code, verify trades it for a session."""

from __future__ import annotations

import contextlib
import re
import uuid
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email

from ..config import Settings
from ..errors import DeliveryFailed, ErrorCode, InvalidInput, RateLimited, StoreUnavailable
from ..limits import LOGIN_CODE_PATTERN, MAX_EMAIL, MAX_EMAIL_LOCAL
from ..mail import Mailer
from ..models import LoginCode
from ..store import CodeOutcome, Store
from ..tokens import login_code_mac, new_login_code
from .sessions import IssuedSession, SessionService, SignInContext, utcnow

CODE_LIFETIME = timedelta(minutes=10)
RATE_WINDOW = timedelta(hours=1)
MAX_WRONG_CODES = 5

# Spec §2.3 (revised): one plain mailbox. After email-validator has checked the RFC 5321/5322
# syntax, lengths and the domain, this is the belt to its braces: printable ASCII in a dot-atom
# local part (no quotes, comments, brackets, commas, colons, whitespace or controls), one @, and
# a dotted domain of letters, digits and hyphens (IDNs in their xn-- form).
_ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN_MAILBOX = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_LABEL}(?:\.{_LABEL})+")
_CODE = re.compile(LOGIN_CODE_PATTERN)


def normalise_email(value: object) -> str:
    """Trim and lower-case first, then validate: the rate limit counts the normalised form.

    The result is the one mailbox the code is mailed to, in ASCII (an internationalised domain in
    its xn-- form, so both spellings share one 5-per-hour limit). Anything that is not exactly one
    plain `local@domain` (display names, comments, quoted or bracketed parts, lists) is refused.
    """
    if not isinstance(value, str):
        raise InvalidInput(ErrorCode.INVALID_EMAIL, "email must be a string")
    email = value.strip().lower()
    try:
        checked = validate_email(
            email,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            allow_empty_local=False,
        )
    except EmailNotValidError:
        raise InvalidInput(ErrorCode.INVALID_EMAIL, "email is not a valid address") from None
    mailbox = (checked.ascii_email or "").lower()
    local = mailbox.partition("@")[0]
    if (
        len(mailbox) > MAX_EMAIL
        or len(local) > MAX_EMAIL_LOCAL
        or not _PLAIN_MAILBOX.fullmatch(mailbox)
    ):
        raise InvalidInput(ErrorCode.INVALID_EMAIL, "email is not a valid address")
    return mailbox


def parse_request_id(value: object) -> str:
    if not isinstance(value, str) or len(value) != 36:
        raise InvalidInput(ErrorCode.INVALID_REQUEST, "request_id must be a UUID")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidInput(ErrorCode.INVALID_REQUEST, "request_id must be a UUID") from None


class EmailLoginService:
    def __init__(
        self, store: Store, mailer: Mailer, sessions: SessionService, settings: Settings
    ) -> None:
        self._store = store
        self._mailer = mailer
        self._sessions = sessions
        self._secret = settings.secret_key
        self._limit = settings.email_codes_per_hour

    async def start(self, email_value: object) -> str:
        """Store a hashed code and mail it; the answer is the same for known and new addresses."""
        email = normalise_email(email_value)
        now = utcnow()
        request_id = str(uuid.uuid4())
        code = new_login_code()
        record = LoginCode(
            request_id=request_id,
            email=email,
            code_mac=login_code_mac(self._secret, request_id, code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        oldest = await self._store.create_login_code(record, now - RATE_WINDOW, self._limit)
        if oldest is not None:
            raise RateLimited(int((oldest + RATE_WINDOW - now).total_seconds()) + 1)
        try:
            await self._mailer.send_login_code(email, code, CODE_LIFETIME)
        except DeliveryFailed:
            # An undelivered code must not count against the hourly limit; best effort, since
            # the row expires on its own if the store is failing too.
            with contextlib.suppress(StoreUnavailable):
                await self._store.delete_login_code(request_id)
            raise
        return request_id

    async def verify(
        self, request_id_value: object, code_value: object, context: SignInContext
    ) -> IssuedSession:
        request_id = parse_request_id(request_id_value)
        if not isinstance(code_value, str) or not _CODE.fullmatch(code_value):
            raise InvalidInput(ErrorCode.INVALID_CODE, "code must be the 6 digits from the email")
        now = utcnow()
        session, token, csrf_token = self._sessions.prepare(now, "email", context)
        result = await self._store.complete_email_login(
            request_id,
            login_code_mac(self._secret, request_id, code_value),
            MAX_WRONG_CODES,
            session,
        )
        if result.outcome is CodeOutcome.INVALID_REQUEST:
            raise InvalidInput(
                ErrorCode.INVALID_REQUEST, "unknown, expired, used or locked request"
            )
        if result.outcome is CodeOutcome.WRONG_CODE or result.user is None:
            raise InvalidInput(ErrorCode.INVALID_CODE, "the code is wrong")
        return self._sessions.issued(
            result.user, session, token, csrf_token, result.signed_out_others
        )
