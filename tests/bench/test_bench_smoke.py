"""The benchmark runner works end to end, and its verification cannot be fooled by errors.

The quick run drives every target with real wrk against real servers on both stores; the other
tests prove that answers which did not do the work (401s, a 200 logout that revoked nothing, and
for the Better Auth peer a 200 `null` session and a 200 sign-out that deleted nothing) are
counted as errors and never as speed.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_postgres
from tests.support.harness import (
    ServerProcess,
    SmtpSink,
    create_database,
    drop_database,
    postgres_available,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import (  # noqa: E402
    BETTER_AUTH_API,
    OURS_API,
    Api,
    LoadShape,
    ensure_hey,
    ensure_wrk,
    run_fixed_rate,
    run_hey,
    run_wrk,
)
from pools import write_pools  # noqa: E402
from report import FIXED_RATE, FIXED_RATE_HEY, GENERATORS, Checks, Measurement, evaluate  # noqa: E402
from run import (  # noqa: E402
    BETTER_AUTH_DIR,
    better_auth_server,
    ensure_better_auth,
    first_session,
)
from seeding import Database, PeerDatabase, revoked_sessions, seed_better_auth  # noqa: E402
from servers import Server  # noqa: E402


def _stores() -> list[str]:
    if not postgres_available():
        require_postgres()  # fails in CI, skips elsewhere
    return ["sqlite", "postgres"]


def pooled(store: str, *more: str) -> tuple[str, ...]:
    """The PostgreSQL-only targets: ours through PgBouncer, and `more`."""
    return ("ours+pgbouncer", *more) if store == "postgres" else ()


PEERS = ("django", "better-auth")


def test_quick_run_measures_every_row_and_ours_has_no_errors(tmp_path: Path) -> None:
    stores = _stores()
    out = tmp_path / "quick.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--stores",
            ",".join(stores),
            "--json",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )
    results = json.loads(out.read_text())
    rows = {
        (r["store"], r["workload"], r["target"]): r
        for r in results["rows"]
        if r["section"] == "main"
    }
    expected = {
        (store, workload, target)
        for store in stores
        for workload, targets in {
            "me": ("ours", "bare", *PEERS, *pooled(store)),
            "logout": ("ours", "bare", *PEERS, *pooled(store, "pg-ref")),
            "mixed": ("ours", "bare", *pooled(store)),
        }.items()
        for target in targets
    }
    assert set(rows) == expected
    for key, row in rows.items():
        assert row["rps"] > 0, key
        assert row["p99_ms"] > 0, key
    for store in stores:
        for workload in ("me", "logout", "mixed"):
            ours = rows[(store, workload, "ours")]
            assert ours["errors"] == 0, (store, workload)
            assert ours["vs_bare"] is not None
        assert rows[(store, "logout", "ours")]["vs_django"] is not None
    for workload in ("me", "logout"):
        # Every get-session answered a seeded session's user and every sign-out 200 deleted a
        # row: the peer's seeding (rows and signed cookies) and its Origin header are right.
        assert rows[("sqlite", workload, "better-auth")]["errors"] == 0, workload
        assert rows[("sqlite", workload, "ours")]["cpu_vs_better_auth"] is not None
    for workload in ("me", "logout", "mixed"):  # ours through PgBouncer, transaction mode
        assert rows[("postgres", workload, "ours+pgbouncer")]["errors"] == 0, workload
    assert rows[("postgres", "logout", "ours")]["vs_pg_ref"] is not None
    mixed = [
        m for m in results["measurements"] if m["workload"] == "mixed" and m["target"] == "ours"
    ]
    assert all(min(m["issued"].values()) > 0 for m in mixed)  # /me, logouts and sign-ins ran
    assert "Better Auth 1." in results["machine"]["peers"]["better-auth"]

    # Latency at half ours' peak, per store: /me and logout open loop, bare /me, /me with hey.
    latency = {
        (r["store"], r["workload"], r["target"], r["section"]): r
        for r in results["rows"]
        if r["section"] in GENERATORS
    }
    assert set(latency) == {
        (store, workload, target, section)
        for store in stores
        for workload, target, section in (
            ("me", "ours", FIXED_RATE),
            ("logout", "ours", FIXED_RATE),
            ("me", "bare", FIXED_RATE),
            ("me", "ours", FIXED_RATE_HEY),
        )
    }
    for (store, workload, target, section), row in latency.items():
        assert row["errors"] == 0, (store, workload, target, section)
        assert row["rps"] > 0 and row["p99_ms"] > 0
        peak = rows[(store, workload, "ours")]["rps"]  # one round: the peak the rate came from
        assert row["offered_rps"] == pytest.approx(peak / 2, abs=0.1)
        assert row["late"] is not None


LOAD_GENERATORS = ("wrk", "fixed-rate", "hey")


def measure(
    url: str,
    pid: int,
    pools: Path,
    api: Api,
    mode: str,
    checks: Checks,
    generator: str = "wrk",
) -> Measurement:
    """One second of `mode` against the server at `url`, evaluated against `checks`: with wrk,
    with the open-loop client at 500 req/s, or (/me only) with hey at 500 req/s."""
    shape = LoadShape(connections=4, threads=2)
    if generator == "wrk":
        load = run_wrk(url, mode, pools, "t", api, 1, shape, pid)
    elif generator == "fixed-rate":
        load = run_fixed_rate(url, mode, pools, api, 500.0, 1, shape, pid)
    else:
        session = first_session(pools)
        load = run_hey(url, api, session, 0, 500.0, 1, shape, pid)
    return evaluate(
        load,
        checks,
        section="t",
        store="sqlite",
        workers=1,
        sessions=0,
        workload=mode,
        target="t",
        round=0,
    )


@pytest.fixture
def unknown_sessions(tmp_path: Path) -> Path:
    """Well-formed tokens that no database row has."""
    rows = [(secrets.token_urlsafe(32), secrets.token_urlsafe(32)) for _ in range(200)]
    write_pools(tmp_path / "pools", rows, threads=2)
    return tmp_path / "pools"


@pytest.fixture
def sqlite_server() -> Iterator[tuple[ServerProcess, str]]:
    sink = SmtpSink().start()
    url = create_database("sqlite")
    try:
        with ServerProcess(url, mail_url=sink.url) as server:
            yield server, url
    finally:
        drop_database(url)
        sink.stop()


@pytest.mark.parametrize("generator", LOAD_GENERATORS)
def test_answers_that_did_no_work_count_as_errors_not_speed(
    sqlite_server: tuple[ServerProcess, str], unknown_sessions: Path, generator: str
) -> None:
    ensure_wrk(print)
    ensure_hey(print)
    server, url = sqlite_server
    assert server.process is not None
    pid = server.process.pid

    measured = measure(
        server.base_url,
        pid,
        unknown_sessions,
        OURS_API,
        "me",
        Checks(body_classes=("user",)),
        generator,
    )
    assert measured.responses > 0
    assert measured.good == 0 and measured.rps == 0
    assert measured.error_detail["non_2xx"] == measured.responses  # the 401 flood
    if generator == "hey":
        return  # hey sends one fixed request: it has no logout workload (see fixed_rate.py)

    revoked_before = revoked_sessions(Database("sqlite", url))
    measured = measure(
        server.base_url,
        pid,
        unknown_sessions,
        OURS_API,
        "logout",
        Checks(body_classes=("ok",), revoked=0),
        generator,
    )
    revoked = revoked_sessions(Database("sqlite", url)) - revoked_before
    assert revoked == 0
    assert measured.responses > 0 and measured.good == 0
    assert measured.error_detail["not_revoked"] == measured.responses  # 200s that revoked nothing


@pytest.fixture
def better_auth_without_sessions(tmp_path: Path) -> Iterator[tuple[Server, PeerDatabase, Path]]:
    """The Better Auth peer, seeded as the runner seeds it, whose session rows have since gone:
    the pools hold validly signed cookies that name no row."""
    node = ensure_better_auth()
    db = PeerDatabase(tmp_path / "better-auth.sqlite3", "session")
    pools = tmp_path / "pools-better-auth"
    secret = secrets.token_urlsafe(48)
    seed_better_auth(node, BETTER_AUTH_DIR, db, 200, pools, 2, secret)
    conn = sqlite3.connect(db.path)
    try:
        with conn:
            conn.execute('DELETE FROM "session"')
    finally:
        conn.close()
    server = better_auth_server(node, db, tmp_path, secret)
    server.start()
    try:
        yield server, db, pools
    finally:
        server.stop()


def test_better_auth_answers_that_did_no_work_count_as_errors_not_speed(
    better_auth_without_sessions: tuple[Server, PeerDatabase, Path],
) -> None:
    ensure_wrk(print)
    server, db, pools = better_auth_without_sessions

    measured = measure(
        server.url, server.pid, pools, BETTER_AUTH_API, "me", Checks(body_classes=("user",))
    )
    assert measured.responses > 0 and measured.good == 0
    assert measured.error_detail["non_2xx"] == 0
    assert measured.error_detail["unexpected_body"] == measured.responses  # 200 `null`s

    deleted_before = db.deleted_sessions()
    measured = measure(
        server.url,
        server.pid,
        pools,
        BETTER_AUTH_API,
        "logout",
        Checks(body_classes=("ok",), revoked=0),
    )
    assert db.deleted_sessions() == deleted_before
    assert measured.responses > 0 and measured.good == 0
    # Better Auth answered {"success":true} to every sign-out, though none deleted a row.
    assert measured.error_detail["not_revoked"] == measured.responses


def test_before_and_after_run_both_trees_verified_side_by_side(tmp_path: Path) -> None:
    """bench/ab.py serves two source trees (here the same one twice) next to bare, verifies every
    answer as run.py does, and reports each one's CPU per request and the ratios."""
    out = tmp_path / "ab.json"
    printed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "ab.py"),
            *("--before", str(ROOT / "src"), "--sessions", "20000", "--rounds", "1"),
            *("--duration", "1", "--warm-up", "1", "--json", str(out)),
        ],
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    ).stdout
    measured = {(m["target"], m["workload"]): m for m in json.loads(out.read_text())}
    assert set(measured) == {
        (target, workload)
        for target in ("before", "after", "bare")
        for workload in ("me", "logout")
    }
    for key, m in measured.items():
        assert m["good"] > 0 and m["errors"] == 0, (key, m["error_detail"])
        assert m["cpu"]["server"] > 0, key
    for workload in ("me", "logout"):
        assert f"{workload:7} bare/ours by CPU: before " in printed, printed
