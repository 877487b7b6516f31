"""The passkey calls of both Python clients against the real server, on both stores, with the
software authenticator standing in for the browser's navigator.credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from triport import AuthenticationError, InvalidRequestError, NotFoundError, Passkey, User

from tests.support.soft_authenticator import SoftAuthenticator


def test_register_list_sign_in_and_remove_a_passkey(
    any_store_server: Any, make_console: Callable[..., Any], sign_in: Any, email: str
) -> None:
    console = make_console(base_url=any_store_server.base_url)
    sign_in(console, email)
    device = SoftAuthenticator(any_store_server.base_url)

    options = console.passkeys.register_options()
    assert options["authenticatorSelection"]["residentKey"] == "required"
    passkey = console.passkeys.register_verify(device.create(options), name="CI key")
    assert isinstance(passkey, Passkey)
    assert (passkey.name, passkey.last_used_at) == ("CI key", None)
    assert console.passkeys.list().passkeys == [passkey]

    other = make_console(base_url=any_store_server.base_url)
    request = other.auth.passkey_options()
    assert request["allowCredentials"] == []
    signed_in = other.auth.passkey_verify(device.get(request))
    user = signed_in.user
    assert isinstance(user, User) and user.email == email
    assert signed_in.signed_out_others is None
    assert other.auth.me().user.id == user.id
    (used,) = console.passkeys.list().passkeys
    assert used.last_used_at is not None

    assert console.passkeys.remove(passkey.id).ok
    assert console.passkeys.remove(passkey.id).ok  # idempotent
    assert console.passkeys.list().passkeys == []
    with pytest.raises(InvalidRequestError) as refused:
        make_console(base_url=any_store_server.base_url).auth.passkey_verify(
            device.get(other.auth.passkey_options())
        )
    assert (refused.value.status, refused.value.code) == (400, "invalid_credential")


def test_passkey_errors_reach_the_caller_typed(
    sdk_server: Any, make_console: Callable[..., Any], sign_in: Any, email: str
) -> None:
    anonymous = make_console(base_url=sdk_server.base_url)
    with pytest.raises(AuthenticationError):
        anonymous.passkeys.register_options()
    with pytest.raises(InvalidRequestError) as unknown:
        anonymous.auth.passkey_verify({"id": "AA", "rawId": "AA", "type": "public-key"})
    assert unknown.value.code == "invalid_credential"
    device = SoftAuthenticator(sdk_server.base_url)

    console = make_console(base_url=sdk_server.base_url)
    sign_in(console, email)
    options = console.passkeys.register_options()
    console.passkeys.register_verify(device.create(options))
    with pytest.raises(InvalidRequestError) as replayed:
        console.passkeys.register_verify(SoftAuthenticator(sdk_server.base_url).create(options))
    assert replayed.value.code == "invalid_challenge"
    with pytest.raises(NotFoundError):
        console.passkeys.remove("00000000-0000-4000-8000-000000000000")
    with pytest.raises(InvalidRequestError) as malformed:
        console.passkeys.remove("not-a-uuid")
    assert malformed.value.code == "invalid_id"
