"""The benchmark runner works end to end, and its verification cannot be fooled by errors.

The quick run drives every target with real wrk against real servers on both stores; the second
test proves that answers which did not do the work (401s, a 200 logout that revoked nothing)
are counted as errors and never as speed.
"""

from __future__ import annotations

import json
import secrets
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

from loadgen import OURS_API, LoadShape, ensure_wrk, run_wrk  # noqa: E402
from pools import write_pools  # noqa: E402
from report import Checks, Measurement, evaluate  # noqa: E402
from seeding import Database, revoked_sessions  # noqa: E402


def _stores() -> list[str]:
    if not postgres_available():
        require_postgres()  # fails in CI, skips elsewhere
    return ["sqlite", "postgres"]


def pooled(store: str, *more: str) -> tuple[str, ...]:
    """The PostgreSQL-only targets: ours through PgBouncer, and `more`."""
    return ("ours+pgbouncer", *more) if store == "postgres" else ()


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
        timeout=240,
        stdout=subprocess.DEVNULL,
    )
    results = json.loads(out.read_text())
    rows = {(r["store"], r["workload"], r["target"]): r for r in results["rows"]}
    expected = {
        (store, workload, target)
        for store in stores
        for workload, targets in {
            "me": ("ours", "bare", "django", *pooled(store)),
            "logout": ("ours", "bare", "django", *pooled(store, "pg-ref")),
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
    for workload in ("me", "logout", "mixed"):  # ours through PgBouncer, transaction mode
        assert rows[("postgres", workload, "ours+pgbouncer")]["errors"] == 0, workload
    assert rows[("postgres", "logout", "ours")]["vs_pg_ref"] is not None
    mixed = [
        m for m in results["measurements"] if m["workload"] == "mixed" and m["target"] == "ours"
    ]
    assert all(min(m["issued"].values()) > 0 for m in mixed)  # /me, logouts and sign-ins ran


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


def test_answers_that_did_no_work_count_as_errors_not_speed(
    sqlite_server: tuple[ServerProcess, str], unknown_sessions: Path
) -> None:
    ensure_wrk(print)
    server, url = sqlite_server

    def measure(mode: str, checks: Checks) -> Measurement:
        assert server.process is not None
        load = run_wrk(
            server.base_url,
            mode,
            unknown_sessions,
            "t",
            OURS_API,
            1,
            LoadShape(connections=4, threads=2),
            server.process.pid,
        )
        return evaluate(
            load,
            checks,
            section="t",
            store="sqlite",
            workers=1,
            sessions=0,
            workload=mode,
            target="ours",
            round=0,
        )

    measured = measure("me", Checks(body_classes=("user",)))
    assert measured.responses > 0
    assert measured.good == 0 and measured.rps == 0
    assert measured.error_detail["non_2xx"] == measured.responses  # the 401 flood

    revoked_before = revoked_sessions(Database("sqlite", url))
    measured = measure("logout", Checks(body_classes=("ok",), revoked=0))
    revoked = revoked_sessions(Database("sqlite", url)) - revoked_before
    assert revoked == 0
    assert measured.responses > 0 and measured.good == 0
    assert measured.error_detail["not_revoked"] == measured.responses  # 200s that revoked nothing
