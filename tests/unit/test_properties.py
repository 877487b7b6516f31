"""Property tests (hypothesis) for the parsers and comparisons an attacker feeds directly.

Cookie parsing, the CSRF check, email normalisation: pure functions and the real Request class,
fed generated inputs. The JSON body limit is tested through a real server in tests/fuzz/.
"""

from __future__ import annotations

import string
import uuid
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from triport_console.config import Settings
from triport_console.errors import CsrfInvalid, CsrfMissing, InvalidInput
from triport_console.http.cookies import CookiePolicy
from triport_console.http.csrf import OriginPolicy, check_request
from triport_console.http.request import Request, join_headers, parse_cookie_header, parse_cookies
from triport_console.services.email_login import normalise_email
from triport_console.tokens import new_uuid, same

# RFC 6265: a cookie name is a token; a value is cookie-octets (no space, quote, comma, ; or \).
NAMES = st.text(
    alphabet=string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~", min_size=1, max_size=20
)
VALUES = st.text(alphabet=[chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\'], max_size=60)
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=300)


def test_new_uuid_is_a_random_version_4_uuid_in_canonical_text() -> None:
    ids = [new_uuid() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, value)
    # Every other bit is random: over 2000 ids, each of the 122 takes both values.
    bits = [uuid.UUID(value).int for value in ids]
    for position in set(range(128)) - {76, 77, 78, 79, 62, 63}:
        assert {(number >> position) & 1 for number in bits} == {0, 1}


@given(st.lists(st.tuples(NAMES, VALUES), max_size=12))
def test_cookie_header_round_trips_and_conflicting_names_are_left_out(
    pairs: list[tuple[str, str]],
) -> None:
    header = "; ".join(f"{name}={value}" for name, value in pairs)
    values: dict[str, set[str]] = {}
    for name, value in pairs:
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        values.setdefault(name, set()).add(value)
    cookies, conflicts = parse_cookies(header)
    assert cookies == {name: next(iter(seen)) for name, seen in values.items() if len(seen) == 1}
    assert conflicts == {name for name, seen in values.items() if len(seen) > 1}


@given(HEADER_TEXT)
@example("nl_session=a=b; =x; novalue; nl_session=second")
@example(";;;=;")
def test_cookie_parser_never_fails_and_yields_clean_names(header: str) -> None:
    cookies = parse_cookie_header(header)
    for name, value in cookies.items():
        assert name and name == name.strip()
        assert ";" not in name and "=" not in name and ";" not in value


@given(st.integers(min_value=8 * 1024, max_value=32 * 1024))
def test_a_large_cookie_header_is_read_whole(size: int) -> None:
    """Issue 12: an 8 KB cut-off made a logout behind a big Cookie header a no-op 200."""
    header = "pad=" + "a" * size + "; nl_session=tok"
    assert parse_cookie_header(header) == {"pad": "a" * size, "nl_session": "tok"}


@given(st.lists(st.tuples(st.sampled_from(["a", "B", "x-forwarded-for"]), VALUES), max_size=8))
def test_repeated_headers_join_with_commas(lines: list[tuple[str, str]]) -> None:
    """RFC 9110 §5.3: repeated field lines mean one line with the values comma-joined."""
    raw = [(name.encode(), value.encode()) for name, value in lines]
    joined = join_headers(raw)
    for name in {name.lower() for name, _ in lines}:
        assert joined[name] == ", ".join(v for n, v in lines if n.lower() == name)


@given(st.text(), st.text())
@example("tok", "tok")
@example("é", "e")
def test_constant_time_comparison_is_equality(a: str, b: str) -> None:
    assert same(a, b) is (a == b)


def _request(headers: dict[str, str]) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/v1/auth/logout",
        "scheme": "http",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
    }
    return Request(scope, None, "req_0000000000000000")


POLICY = OriginPolicy(Settings(), CookiePolicy(Settings()))
TOKENS = st.one_of(st.none(), VALUES)


@given(session=TOKENS, cookie=TOKENS, header=TOKENS)
@example(session="s", cookie="c", header="c")
@example(session="s", cookie="c", header="C")
@example(session="s", cookie=None, header="c")
def test_csrf_check_accepts_exactly_a_matching_pair(
    session: str | None, cookie: str | None, header: str | None
) -> None:
    pairs = (("nl_session", session), ("nl_csrf", cookie))
    headers = {"cookie": "; ".join(f"{name}={value}" for name, value in pairs if value is not None)}
    if header is not None:
        headers["x-csrf-token"] = header
    request = _request(headers)
    if not session:
        assert check_request(request, POLICY, sign_in=False) is None
    elif not cookie:
        with pytest.raises(CsrfMissing):
            check_request(request, POLICY, sign_in=False)
    elif header != cookie or not header:
        with pytest.raises(CsrfInvalid):
            check_request(request, POLICY, sign_in=False)
    else:
        assert check_request(request, POLICY, sign_in=False) == session


@given(origin=st.text(alphabet=string.printable.strip(), min_size=1, max_size=40))
@example(origin="http://evil.example")
@example(origin="null")
def test_foreign_origin_is_refused_on_sign_in(origin: str) -> None:
    request = _request({"origin": origin, "host": "127.0.0.1:8080"})
    allowed = origin in {Settings().public_origin, "http://127.0.0.1:8080"}
    if allowed:
        assert check_request(request, POLICY, sign_in=True) is None
    else:
        with pytest.raises(CsrfInvalid):
            check_request(request, POLICY, sign_in=True)


# A dot-atom local part (spec §2.3: one plain mailbox; no leading, trailing or double dots).
LOCAL = st.from_regex(r"[A-Za-z0-9_+-]{1,10}(\.[A-Za-z0-9_+-]{1,10}){0,2}", fullmatch=True)
DOMAIN = st.from_regex(r"[a-z0-9]{1,10}(\.[a-z]{2,6}){1,2}", fullmatch=True)
SPACE = st.text(alphabet=" \t\n\r", max_size=3)


@given(LOCAL, DOMAIN, SPACE, SPACE, st.booleans())
def test_email_normalisation_trims_lowercases_and_is_idempotent(
    local: str, domain: str, before: str, after: str, shout: bool
) -> None:
    address = f"{local}@{domain}"
    raw = before + (address.upper() if shout else address) + after
    normalised = normalise_email(raw)
    assert normalised == address.lower()
    assert normalise_email(normalised) == normalised


@given(
    st.one_of(
        st.text(max_size=300),
        st.integers(),
        st.none(),
        st.lists(st.text(max_size=5), max_size=3),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    )
)
@example("a@b")
@example("ada@example.com\x00")
@example("x" * 65 + "@example.com")
@example("bob(1)@example.com")
@example("a<postmaster>b@example.com")
@example("bob,root@example.com")
@example("x:bob@example.com")
@example("Bob <bob@example.com>")
def test_email_normalisation_accepts_or_refuses_with_invalid_email(value: object) -> None:
    try:
        normalised = normalise_email(value)
    except InvalidInput as error:
        assert error.code == "invalid_email"
    else:
        assert isinstance(value, str)
        assert normalised == value.strip().lower() or not value.isascii()  # IDN: xn-- form
        assert len(normalised) <= 254 and normalised.count("@") == 1
        assert normalised.isascii() and normalised.isprintable()
        assert not any(ch in normalised for ch in ' ,<>()[]:;"\\')
