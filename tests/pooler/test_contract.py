"""The existing contract suites, run unchanged through PgBouncer in transaction mode.

The functions are the ones in tests/http; collected here they get this folder's fixtures
(tests/pooler/conftest.py): `server` is one of two pooled server processes of two workers each,
`make_server` starts more pooled servers, `database_url` looks at the rows directly.
"""

from __future__ import annotations

# Concurrency: no /me that starts after a logout 200 (on another process) succeeds.
from tests.http.test_concurrency import (
    test_concurrent_first_me_calls_create_one_default_key,
    test_no_me_that_starts_after_the_logout_200_succeeds,
)

# Key rotation, including concurrent rotations of one key.
from tests.http.test_keys import (
    test_concurrent_rotations_of_one_key_make_one_successor,
    test_default_key_is_bootstrapped_refused_revoke_and_replaced_by_rotate,
    test_rotate_replaces_the_key_with_the_same_settings,
    test_rotating_a_revoked_key_is_409_key_revoked,
    test_rows_hold_only_the_secret_hash_and_rotation_links_old_to_new,
)

# The logout contract, spec §2.1, row by row.
from tests.http.test_logout import (
    test_a_body_is_ignored,
    test_csrf_token_not_bound_to_the_session_is_refused,
    test_expired_session_needs_only_header_equal_to_cookie,
    test_foreign_origin_is_refused,
    test_header_absent_or_different_from_cookie_is_csrf_invalid,
    test_logout_of_one_session_leaves_the_users_other_sessions,
    test_missing_csrf_cookie_is_403_csrf_missing_and_changes_nothing,
    test_no_session_cookie_is_ok_and_clears_both_cookies,
    test_other_verbs_get_405_with_allow_and_revoke_nothing,
    test_own_origin_is_accepted,
    test_repeated_logout_is_ok,
    test_success_revokes_and_clears_with_the_original_attributes,
    test_unknown_or_malformed_token_is_ok_when_header_matches_cookie,
)

# Bounded waits: a held lock fails the request within TRIPORT_DB_TIMEOUT, never as a success.
from tests.http.test_store_failures import (
    test_logout_through_one_process_is_refused_by_another_at_once,
    test_logout_under_a_held_write_lock_fails_keeps_the_cookie_then_retry_succeeds,
    test_sign_in_under_a_held_write_lock_is_internal_not_a_session,
)

__all__ = [
    "test_a_body_is_ignored",
    "test_concurrent_first_me_calls_create_one_default_key",
    "test_concurrent_rotations_of_one_key_make_one_successor",
    "test_csrf_token_not_bound_to_the_session_is_refused",
    "test_default_key_is_bootstrapped_refused_revoke_and_replaced_by_rotate",
    "test_expired_session_needs_only_header_equal_to_cookie",
    "test_foreign_origin_is_refused",
    "test_header_absent_or_different_from_cookie_is_csrf_invalid",
    "test_logout_of_one_session_leaves_the_users_other_sessions",
    "test_logout_through_one_process_is_refused_by_another_at_once",
    "test_logout_under_a_held_write_lock_fails_keeps_the_cookie_then_retry_succeeds",
    "test_missing_csrf_cookie_is_403_csrf_missing_and_changes_nothing",
    "test_no_me_that_starts_after_the_logout_200_succeeds",
    "test_no_session_cookie_is_ok_and_clears_both_cookies",
    "test_other_verbs_get_405_with_allow_and_revoke_nothing",
    "test_own_origin_is_accepted",
    "test_repeated_logout_is_ok",
    "test_rotate_replaces_the_key_with_the_same_settings",
    "test_rotating_a_revoked_key_is_409_key_revoked",
    "test_rows_hold_only_the_secret_hash_and_rotation_links_old_to_new",
    "test_sign_in_under_a_held_write_lock_is_internal_not_a_session",
    "test_success_revokes_and_clears_with_the_original_attributes",
    "test_unknown_or_malformed_token_is_ok_when_header_matches_cookie",
]
