"""Soak: thousands of sign-in/sign-out cycles with the purge running; memory and tables stay flat.

A pool of 40 addresses signs in and out again and again (start, code from the SMTP sink, verify,
/me, logout, /me refused) while the server purges every 2 s with no grace period. Sampled after
every round: the server's RSS and the row counts. Users, keys and rate-limit windows must not grow,
sessions must be purged away, and RSS must level off after the warm-up. Login codes are kept for
the hour the per-address limit counts them (see services/housekeeping.py), so they grow by one per
cycle here and are purged an hour later; the test checks exactly that count.

Bounded: 10 rounds of 248 cycles (2,480), but on a slow machine no new round starts after 150 s
once 6 rounds are in.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
import pytest

from tests.support.harness import ServerProcess, SmtpSink, create_database, drop_database, run_sql
from tests.support.secrets_watch import SecretWatch
from tests.support.sessions import Credentials, logout, me, sign_in_one

ROUNDS = 10
MIN_ROUNDS = 6  # enough samples to see a trend even on a slow machine
BUDGET = 150.0  # seconds: past it, no new round starts once MIN_ROUNDS are done
CYCLES_PER_ROUND = 248
THREADS = 8
ADDRESSES = [f"soak-{index}@example.com" for index in range(40)]
MiB = 1024 * 1024


@pytest.fixture
def fresh_database(store: str) -> Iterator[str]:
    url = create_database(store)
    yield url
    drop_database(url)


def _counts(url: str) -> dict[str, int]:
    tables = ("sessions", "users", "api_keys", "login_codes", "rate_limits")
    return {table: int(run_sql(url, f"SELECT count(*) FROM {table}")[0][0]) for table in tables}


@pytest.mark.slow
def test_soak_memory_and_tables_stay_flat(fresh_database: str, smtp_sink: SmtpSink) -> None:
    env = {
        "TRIPORT_PURGE_INTERVAL": "2",
        "TRIPORT_PURGE_GRACE": "0",
        "TRIPORT_EMAIL_CODES_PER_HOUR": "1000000",
    }
    watch = SecretWatch()
    server = watch.server(ServerProcess(fresh_database, mail_url=smtp_sink.url, env=env).start())
    assert server.process is not None
    process = psutil.Process(server.process.pid)
    # One address is used by one thread at a time, so each code read from the sink is its own.
    pools = [ADDRESSES[index::THREADS] for index in range(THREADS)]
    failures: list[str] = []
    seen: list[Credentials] = []
    lock = threading.Lock()

    def cycles(slot: int, count: int) -> None:
        addresses = itertools.cycle(pools[slot])
        with httpx.Client(base_url=server.base_url, timeout=15) as http:
            for _ in range(count):
                credentials = sign_in_one(server.base_url, smtp_sink, next(addresses))
                states = (
                    me(http, credentials).status_code,
                    logout(http, credentials).status_code,
                    me(http, credentials).status_code,
                )
                with lock:
                    seen.append(credentials)
                    if states != (200, 200, 401):
                        failures.append(str(states))

    rss: list[int] = []
    samples: list[dict[str, int]] = []
    started = time.monotonic()
    try:
        for done in range(ROUNDS):
            if done >= MIN_ROUNDS and time.monotonic() - started > BUDGET:
                break
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(cycles, range(THREADS), [CYCLES_PER_ROUND // THREADS] * THREADS))
            rss.append(process.memory_info().rss)
            samples.append(_counts(fresh_database))
        deadline = time.monotonic() + 10
        while _counts(fresh_database)["sessions"] and time.monotonic() < deadline:
            time.sleep(0.2)
        final = _counts(fresh_database)
    finally:
        server.stop()
    elapsed = time.monotonic() - started
    cycles_run = len(rss) * CYCLES_PER_ROUND

    assert not failures, failures[:5]
    warm = rss[2:]  # the first rounds fill caches, prepared statements and the allocator
    growth = max(warm[len(warm) // 2 :]) - max(warm[: len(warm) // 2])
    assert growth < 4 * MiB, f"RSS still growing: {[round(v / MiB, 1) for v in rss]} MiB"
    assert final["sessions"] == 0
    # Between purges (at most 1.5 x 2 s apart) rows pile up at the cycle rate, and no further.
    bound = 2 * (cycles_run / elapsed) * 3
    assert max(sample["sessions"] for sample in samples) < bound, samples
    assert {sample["users"] for sample in samples} == {len(ADDRESSES)}
    assert {sample["api_keys"] for sample in samples} == {len(ADDRESSES)}
    assert max(sample["rate_limits"] for sample in samples) <= 4
    assert final["login_codes"] == cycles_run
    print(
        f"soak: {cycles_run} cycles ({cycles_run * 5} requests) in {elapsed:.0f}s; "
        f"RSS MiB per round {[round(v / MiB, 1) for v in rss]}; "
        f"sessions per round {[sample['sessions'] for sample in samples]}; final {final}"
    )
    watch.finish(smtp_sink, seen)
