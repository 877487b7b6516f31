"""One command for the whole benchmark: ours against the bare ceiling and the peers (Django,
Better Auth).

    python bench/run.py [--sessions 100000] [--quick] [--stores sqlite,postgres]
                        [--json bench/results/latest.json] [--scaling]

Loopback only, bounded in time. Installs wrk (apt), the Django peer's Django + gunicorn (a
separate venv, bench/.venv-peer) and the Better Auth peer's npm packages (`npm ci` in
bench/peers/better_auth) when missing; seeds the databases; serves ours with 1 then 2 workers next
to the references; alternates targets round by round so drift hits all of them alike; verifies
every 200 against the database and the mail sink; prints one table and writes JSON.
See BENCHMARKS.md for the method.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEER_DIR = BENCH / "peers" / "django_peer"
PEER_VENV = BENCH / ".venv-peer"
PEER_REQUIREMENTS = BENCH / "peers" / "requirements.txt"
BETTER_AUTH_DIR = BENCH / "peers" / "better_auth"
PEERS = ("django", "better-auth")


def _reexec_in_project_venv() -> None:
    """Run under the project's venv when started with a python that lacks its packages."""
    try:
        import aiosmtpd  # noqa: F401
        import asyncpg  # noqa: F401
    except ImportError:
        venv_python = ROOT / ".venv" / "bin" / "python"
        if venv_python.exists() and Path(sys.executable) != venv_python:
            os.execv(venv_python, [str(venv_python), *sys.argv])
        raise


_reexec_in_project_venv()

from loadgen import (  # noqa: E402
    BETTER_AUTH_API,
    DJANGO_API,
    OURS_API,
    Api,
    LoadRun,
    LoadShape,
    MailSink,
    apt_install,
    ensure_hey,
    ensure_wrk,
    run_fixed_rate,
    run_hey,
    run_wrk,
)
from report import (  # noqa: E402
    EXPECTED_CLASSES,
    FIXED_RATE,
    FIXED_RATE_HEY,
    Checks,
    Measurement,
    evaluate,
    markdown,
    summarise,
    target_checks,
)
from seeding import (  # noqa: E402
    Database,
    PeerDatabase,
    create_database,
    drop_database,
    migrate,
    revoked_sessions,
    seed,
    seed_better_auth,
    seed_peer,
    unrevoke_sessions,
)
from servers import Server  # noqa: E402

sys.path.insert(0, str(ROOT))  # the test suite's PgBouncer runner, for the pooled row
from tests.support.pgbouncer import PgBouncer  # noqa: E402
from tests.support.pgbouncer import available as pgbouncer_available  # noqa: E402

# The same uvicorn settings as `triport-console serve` (see triport_console/cli.py).
UVICORN_SETTINGS = [
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--lifespan",
    "on",
    "--no-access-log",
    "--no-server-header",
    "--no-proxy-headers",
    "--log-level",
    "warning",
]
MIXED_LOGOUT_SHARE = 1 / 20  # workload.lua: one request in 20 is a logout
POOL_SAFETY = 0.8  # never plan to use more than this share of a revoke pool in one run
FIXED_RATE_SHARE = 0.5  # the fixed-rate runs offer this share of ours' peak req/s


STARTED = time.monotonic()


def log(message: str) -> None:
    elapsed = int(time.monotonic() - STARTED)
    print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)


# Setup ----------------------------------------------------------------------------------------
def ensure_peer_venv() -> Path:
    """Django and gunicorn in their own venv, so the project's venv stays the project's."""
    python = PEER_VENV / "bin" / "python"
    if python.exists() and _succeeds([str(python), "-c", "import django, gunicorn"], BENCH):
        return python
    log(f"creating {PEER_VENV.relative_to(ROOT)} with Django and gunicorn")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEER_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", str(PEER_REQUIREMENTS)], check=True
    )
    return python


def ensure_better_auth() -> Path:
    """Better Auth's npm packages in bench/peers/better_auth/node_modules, from the committed
    lockfile (`npm ci`), unless they are there and load; returns the node to run them with."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise SystemExit("the Better Auth peer needs Node.js 20 (node and npm) on PATH")
    probe = [
        node,
        "--input-type=module",
        "-e",
        "import Database from 'better-sqlite3'; import 'better-auth';"
        " new Database(':memory:').close();",
    ]
    if _installed(BETTER_AUTH_DIR) and _succeeds(probe, BETTER_AUTH_DIR):
        return Path(node)
    log(f"installing {BETTER_AUTH_DIR.relative_to(ROOT)}'s npm packages (npm ci)")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=BETTER_AUTH_DIR, check=True, timeout=900
    )
    return Path(node)


def _installed(directory: Path) -> bool:
    """Whether node_modules holds exactly the versions the committed lockfile names."""
    hidden = directory / "node_modules" / ".package-lock.json"
    if not hidden.exists():
        return False
    wanted = json.loads((directory / "package-lock.json").read_text())["packages"]
    have = json.loads(hidden.read_text())["packages"]
    return all(
        have.get(name, {}).get("version") == entry.get("version")
        for name, entry in wanted.items()
        if name and not entry.get("optional")
    )


def _succeeds(argv: list[str], cwd: Path) -> bool:
    return subprocess.run(argv, cwd=cwd, check=False, capture_output=True).returncode == 0


def fsync_ms(directory: Path, count: int = 100) -> dict[str, float]:
    """Latency of one fsync where the databases live: the floor under every durable commit."""
    path = directory / "fsync.probe"
    times = []
    with path.open("wb") as handle:
        for _ in range(count):
            handle.write(b"x" * 4096)
            handle.flush()
            started = time.perf_counter()
            os.fsync(handle.fileno())
            times.append((time.perf_counter() - started) * 1000)
    path.unlink()
    times.sort()
    return {"p50": round(times[count // 2], 2), "p99": round(times[count * 99 // 100], 2)}


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    meminfo = Path("/proc/meminfo").read_text().split()
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(int(meminfo[1]) / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": (wrk.stdout + wrk.stderr).splitlines()[0] if (wrk.stdout + wrk.stderr) else "",
        "hey": subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", "hey"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout,
    }


# Targets --------------------------------------------------------------------------------------
@dataclass
class Target:
    """A server under load, the sessions it is driven with, and how to check and reset them."""

    name: str
    server: Server
    pools: Path
    api: Api
    workloads: tuple[str, ...]
    verifies_bodies: bool  # False for apps that answer a constant
    revoke_pool: int = 0  # rows in the revoke pool; 0 when the target revokes nothing
    revoked: Callable[[], int] | None = None
    reset: Callable[[], None] | None = None
    rates: dict[str, float] = field(default_factory=dict)  # best req/s seen, per workload
    about: str = ""  # versions, for the machine description (peers)
    warmed: bool = False  # whether its server has had its warm-up since it started


def listen(workers: int) -> list[str]:
    """Where and how wide a server listens: the same flags for ours and the references."""
    return ["--host", "127.0.0.1", "--port", "{port}", "--workers", str(workers)]


def uvicorn(app: str, workers: int, log: Path, env: dict[str, str] | None = None) -> Server:
    argv = [sys.executable, "-m", "uvicorn", app, "--app-dir", str(BENCH), *listen(workers)]
    return Server(app.split(":")[0], [*argv, *UVICORN_SETTINGS], log, env=env or {})


def ours_server(
    db: Database, workers: int, sink: MailSink, log: Path, bouncer: PgBouncer | None = None
) -> Server:
    """Ours, on the database directly or (PostgreSQL) through `bouncer` in transaction mode."""
    command = Path(sys.executable).parent / "triport-console"
    pooled = (
        {
            "TRIPORT_DATABASE_URL": bouncer.url(db.url.rsplit("/", 1)[1]),
            "TRIPORT_DB_POOLER": "transaction",
        }
        if bouncer is not None
        else {}
    )
    return Server(
        "ours" if bouncer is None else POOLED,
        [str(command), "serve", *listen(workers)],
        log,
        env=ours_env(db)
        | {"TRIPORT_MAIL_URL": sink.url, "TRIPORT_PUBLIC_URL": "http://127.0.0.1:{port}"}
        | pooled,
    )


POOLED = "ours+pgbouncer"  # ours through PgBouncer (transaction mode), on PostgreSQL
PGBOUNCER_POOL = 4  # PgBouncer's server connections: the pooler suite's size, 2 per core here


def ensure_pgbouncer() -> bool:
    """Install Debian's PgBouncer when missing, as for wrk; False when that is not possible."""
    return apt_install("pgbouncer", pgbouncer_available, log)


def ours_env(db: Database) -> dict[str, str]:
    # Every wrk connection comes from 127.0.0.1: the per-address abuse limits would turn the
    # mixed workload's sign-ins into 429s, so they are off here (the per-email rule stays).
    return {
        **os.environ,
        "TRIPORT_DATABASE_URL": db.url,
        "TRIPORT_SECRET_KEY": BENCH_SECRET,
        "TRIPORT_RATE_LIMIT_EMAIL_START": "off",
        "TRIPORT_RATE_LIMIT_EMAIL_VERIFY": "off",
        "TRIPORT_RATE_LIMIT_WALLET_CHALLENGE": "off",
    }


BENCH_SECRET = secrets.token_urlsafe(48)


def count_lines(directory: Path, prefix: str) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in directory.glob(f"{prefix}.*.txt"))


# The run --------------------------------------------------------------------------------------
@dataclass
class Bench:
    args: argparse.Namespace
    workdir: Path
    sink: MailSink
    measurements: list[Measurement] = field(default_factory=list)

    @property
    def shape(self) -> LoadShape:
        return LoadShape(self.args.connections, self.args.threads)

    def duration_for(self, target: Target, workload: str) -> int:
        """The configured duration, shortened when the run would use up the revoke pool."""
        if not target.revoke_pool or workload == "me":
            return int(self.args.duration)
        share = 1.0 if workload == "logout" else MIXED_LOGOUT_SHARE
        rate = target.rates.get(workload) or max(target.rates.values(), default=0.0)
        if rate <= 0:
            return int(self.args.duration)
        fits = int(POOL_SAFETY * target.revoke_pool / (share * rate * 1.2))
        return max(1, min(int(self.args.duration), fits))

    def measure(
        self,
        target: Target,
        workload: str,
        where: dict[str, Any],
        drive: Callable[[int], LoadRun] | None = None,
    ) -> Measurement:
        """One run of `workload` on `target`, verified: with wrk (the peak), or with `drive`,
        which runs another load generator for the given seconds (the fixed-rate runs)."""
        duration = self.duration_for(target, workload)
        mails_before = self.sink.received
        if drive is None:
            load = run_wrk(
                target.server.url,
                workload,
                target.pools,
                secrets.token_hex(4),
                target.api,
                duration,
                self.shape,
                target.server.pid,
            )
        else:
            load = drive(duration)
        revoked = None
        if target.revoked is not None and workload != "me":
            revoked = target.revoked()
        checks = Checks(
            body_classes=EXPECTED_CLASSES[workload] if target.verifies_bodies else None,
            revoked=revoked,
            mails=self.sink.received - mails_before if workload == "mixed" else None,
        )
        if target.reset is not None and workload != "me":
            target.reset()
        m = evaluate(load, checks, workload=workload, target=target.name, **where)
        if drive is None:
            target.rates[workload] = max(target.rates.get(workload, 0.0), m.rps)
        self.measurements.append(m)
        log(
            f"{m.store} W={m.workers} n={m.sessions} r{m.round + 1} {workload:6} "
            f"{target.name:7} {m.rps:9,.0f} req/s  p50 {m.p50_ms:6.2f} ms  "
            f"p99 {m.p99_ms:7.2f} ms  errors {m.errors}  ({duration} s, other CPU "
            f"{m.cpu['other']:.1f} s)"
            + (
                ""
                if m.offered_rps is None
                else f"  {m.section}: offered {m.offered_rps:,.0f}/s, late {m.late}"
            )
        )
        return m

    def warm_up(self, target: Target) -> None:
        """Unmeasured load on each of the target's workloads, once per server start, so that the
        first round pays neither for start-up nor (Node) for the JIT compiling the hot path."""
        for workload in target.workloads:
            run_wrk(
                target.server.url,
                workload,
                target.pools,
                secrets.token_hex(4),
                target.api,
                self.args.warm_up,
                self.shape,
                target.server.pid,
            )
            if target.reset is not None and workload != "me":
                target.reset()
        target.warmed = True

    def rounds(
        self,
        targets: list[Target],
        where: dict[str, Any],
        workloads: tuple[str, ...] = ("me", "logout", "mixed"),
    ) -> None:
        """Each round runs every workload on every target; the target order rotates."""
        for target in targets:
            if not target.warmed:
                self.warm_up(target)
        for number in range(self.args.rounds):
            shift = number % len(targets)
            order = targets[shift:] + targets[:shift]
            for workload in workloads:
                for target in order:
                    if workload in target.workloads:
                        self.measure(target, workload, {**where, "round": number})

    def fixed_rate(self, ours: Target, bare: Target, where: dict[str, Any]) -> None:
        """Latency at a fixed offered load: /me and logout at half the peak req/s that ours just
        reached on them with wrk, with the open-loop client (fixed_rate.py), and /me with hey as
        well; bare gets ours' /me rate with the open-loop client, as the floor under it."""
        where = {**where, "round": 0}
        for target, workload in ((ours, "me"), (ours, "logout"), (bare, "me")):
            rate = FIXED_RATE_SHARE * ours.rates.get(workload, 0.0)
            if rate <= 0:
                continue

            def open_loop(
                seconds: int, target: Target = target, workload: str = workload, rate: float = rate
            ) -> LoadRun:
                return run_fixed_rate(
                    target.server.url,
                    workload,
                    target.pools,
                    target.api,
                    rate,
                    seconds,
                    self.shape,
                    target.server.pid,
                )

            self.measure(target, workload, {**where, "section": FIXED_RATE}, open_loop)
        rate = FIXED_RATE_SHARE * ours.rates.get("me", 0.0)
        if rate <= 0:
            return
        session = first_session(ours.pools)
        body = fetch_me(ours, session)

        def hey(seconds: int) -> LoadRun:
            return run_hey(
                ours.server.url,
                ours.api,
                session,
                len(body),
                rate,
                seconds,
                self.shape,
                ours.server.pid,
            )

        self.measure(ours, "me", {**where, "section": FIXED_RATE_HEY}, hey)

    def ours_target(
        self, db: Database, workers: int, pools: Path, bouncer: PgBouncer | None = None
    ) -> Target:
        name = "ours" if bouncer is None else POOLED
        server = ours_server(
            db, workers, self.sink, self.workdir / f"{name}-{db.store}.log", bouncer
        )
        return Target(
            name,
            server,
            pools,
            OURS_API,
            ("me", "logout", "mixed"),
            True,
            revoke_pool=count_lines(pools, "revoke"),
            revoked=lambda: revoked_sessions(db),
            reset=lambda: unrevoke_sessions(db),
        )

    def main_block(self, db: Database, workers: int, pools: Path, peers: list[Target]) -> None:
        ours = self.ours_target(db, workers, pools)
        bare = bare_target(workers, self.workdir, pools, ("me", "logout", "mixed"))
        targets = [ours, bare]
        if db.store == "postgres":
            targets.append(pg_ref_target(db, workers, self.workdir, ours))
        bouncer: PgBouncer | None = None
        if db.store == "postgres" and self.args.pgbouncer:
            bouncer = PgBouncer(db.url, pool_size=PGBOUNCER_POOL).start()
            targets.append(self.ours_target(db, workers, pools, bouncer))
        started: list[Server] = []
        try:
            for target in targets:
                target.server.start()
                started.append(target.server)
            where = {"store": db.store, "workers": workers, "sessions": self.args.sessions}
            self.rounds([*targets, *peers], {**where, "section": "main"})
            self.fixed_rate(ours, bare, where)
        finally:
            for server in started:
                server.stop()
            if bouncer is not None:
                bouncer.destroy()

    def scaling(self, store: str) -> None:
        """/me and logout at growing table sizes: the per-request cost should stay flat."""
        for size in self.args.scaling_sizes:
            db = create_database(store, self.workdir)
            try:
                pools = self.workdir / f"pools-scaling-{store}-{size}"
                log(f"scaling: seeding {size:,} sessions on {store}")
                migrate(db, Path(sys.executable).parent / "triport-console", ours_env(db))
                seed(db, size, pools, self.args.threads)
                ours = self.ours_target(db, self.args.scaling_workers, pools)
                ours.server.start()
                try:
                    self.rounds(
                        [ours],
                        {
                            "section": "scaling",
                            "store": store,
                            "workers": self.args.scaling_workers,
                            "sessions": size,
                        },
                        ("me", "logout"),
                    )
                finally:
                    ours.server.stop()
            finally:
                drop_database(db)


def bare_target(workers: int, workdir: Path, pools: Path, workloads: tuple[str, ...]) -> Target:
    """The bare ASGI app: a constant answer, nothing to verify."""
    server = uvicorn("bare_asgi:app", workers, workdir / "bare.log")
    return Target("bare", server, pools, OURS_API, workloads, False)


def pg_ref_target(db: Database, workers: int, workdir: Path, ours: Target) -> Target:
    """The bare asyncpg UPDATE app (logout only), on ours' database and revoke pool."""
    server = uvicorn(
        "pg_update_asgi:app", workers, workdir / "pg-ref.log", env={"BENCH_PG_DSN": db.url}
    )
    return Target(
        "pg-ref",
        server,
        ours.pools,
        OURS_API,
        ("logout",),
        False,
        revoke_pool=ours.revoke_pool,
        revoked=ours.revoked,
        reset=ours.reset,
    )


def peer_target(bench: Bench, name: str) -> Target:
    """A peer on its own SQLite file, seeded by its own code with as many sessions as ours
    (capped by --peer-sessions); its logout deletes rows, which the backup table puts back."""
    sessions = min(bench.args.sessions, bench.args.peer_sessions)
    pools = bench.workdir / f"pools-{name}"
    path = bench.workdir / f"{name}.sqlite3"
    log(f"seeding the {name} peer with {sessions:,} sessions")
    if name == "django":
        db = PeerDatabase(path, "django_session")
        python = ensure_peer_venv()
        seed_peer(python, PEER_DIR, db, sessions, pools, bench.args.threads)
        server, api, about = django_server(db, bench.workdir), DJANGO_API, django_about(python)
    else:
        db = PeerDatabase(path, "session")
        node = ensure_better_auth()
        seed_better_auth(
            node, BETTER_AUTH_DIR, db, sessions, pools, bench.args.threads, BENCH_SECRET
        )
        server = better_auth_server(node, db, bench.workdir, BENCH_SECRET)
        api = BETTER_AUTH_API
        about = better_auth_about(node)
    return Target(
        name,
        server,
        pools,
        api,
        ("me", "logout"),
        True,
        revoke_pool=count_lines(pools, "revoke"),
        revoked=db.deleted_sessions,
        reset=db.restore_sessions,
        about=about,
    )


def django_server(db: PeerDatabase, workdir: Path) -> Server:
    """gunicorn with sync workers, one per core."""
    return Server(
        "django",
        [
            str(PEER_VENV / "bin" / "gunicorn"),
            "peer.wsgi:application",
            "--chdir",
            str(PEER_DIR),
            "--workers",
            str(os.cpu_count() or 1),
            "--worker-class",
            "sync",
            "--bind",
            "127.0.0.1:{port}",
        ],
        workdir / "django.log",
        env={"PEER_DATABASE": str(db.path.resolve())},
        ready_path="/v1/auth/me",
    )


def better_auth_server(node: Path, db: PeerDatabase, workdir: Path, secret: str) -> Server:
    """One Node process: Better Auth's toNodeHandler on node:http (server.mjs); `secret` is the
    one its sessions were seeded (their cookies signed) with."""
    return Server(
        "better-auth",
        [str(node), str(BETTER_AUTH_DIR / "server.mjs")],
        workdir / "better-auth.log",
        env={
            "PEER_DATABASE": str(db.path.resolve()),
            "PORT": "{port}",
            "BETTER_AUTH_SECRET": secret,
            "NODE_ENV": "production",
        },
        cwd=BETTER_AUTH_DIR,
        ready_path="/api/auth/ok",
    )


def django_about(python: Path) -> str:
    code = "import django, gunicorn; print(django.get_version(), gunicorn.__version__)"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    django, gunicorn = out.stdout.split()
    return f"Django {django}, gunicorn {gunicorn}"


def better_auth_about(node: Path) -> str:
    code = (
        "import Database from 'better-sqlite3';"
        " const db = new Database(':memory:');"
        " console.log(process.version, db.prepare('select sqlite_version() v').get().v);"
    )
    out = subprocess.run(
        [str(node), "--input-type=module", "-e", code],
        cwd=BETTER_AUTH_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    node_version, sqlite_version = out.stdout.split()

    def version(package: str) -> str:
        manifest = BETTER_AUTH_DIR / "node_modules" / package / "package.json"
        return str(json.loads(manifest.read_text())["version"])

    return (
        f"Better Auth {version('better-auth')} on Node {node_version}, "
        f"better-sqlite3 {version('better-sqlite3')} (SQLite {sqlite_version})"
    )


def first_session(pools: Path) -> tuple[str, str]:
    """The first session (token, CSRF token) of a target's read pool."""
    token, csrf = (pools / "read.0.txt").read_text().split("\n", 1)[0].split(" ")
    return token, csrf


def fetch_me(target: Target, session: tuple[str, str]) -> bytes:
    """One real /me with `session`, which must answer a user: the body it answered."""
    api = target.api
    conn = http.client.HTTPConnection("127.0.0.1", target.server.port, timeout=10)
    try:
        conn.request("GET", api.me_path, headers=api.session_headers(*session))
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    parsed = json.loads(body) if response.status == 200 else None
    user = parsed.get("user") if isinstance(parsed, dict) else None
    if not isinstance(user, dict) or not user.get("id"):
        raise RuntimeError(
            f"{target.name} did not answer a seeded session on {api.me_path} "
            f"(HTTP {response.status}); see {target.server.log}"
        )
    return body


def verify_peer(target: Target) -> None:
    """One real /me with the first seeded session must answer that session's user: it proves the
    seeded rows (and Better Auth's signed cookie) before anything is measured."""
    fetch_me(target, first_session(target.pools))


def run(args: argparse.Namespace) -> dict[str, Any]:
    ensure_wrk(log)
    ensure_hey(log)
    if args.pgbouncer and "postgres" in args.stores and not ensure_pgbouncer():
        log("pgbouncer unavailable: no ours+pgbouncer row")
        args.pgbouncer = False
    started = time.time()
    workdir = BENCH / "results" / f"work-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    fsync = fsync_ms(workdir)
    sink = MailSink()
    sink.start()
    bench = Bench(args, workdir, sink)
    peers: list[Target] = []
    try:
        for name in args.peers:
            peer = peer_target(bench, name)
            peer.server.start()
            peers.append(peer)
            verify_peer(peer)
        for store in args.stores:
            db = create_database(store, workdir)
            try:
                pools = workdir / f"pools-{store}"
                log(f"seeding {args.sessions:,} sessions on {store}")
                migrate(db, Path(sys.executable).parent / "triport-console", ours_env(db))
                seed(db, args.sessions, pools, args.threads)
                for workers in args.workers:
                    bench.main_block(db, workers, pools, peers)
            finally:
                drop_database(db)
        if args.scaling:
            for store in args.stores:
                bench.scaling(store)
    finally:
        for peer in peers:
            peer.server.stop()
        sink.stop()
        if not args.keep_work:
            shutil.rmtree(workdir, ignore_errors=True)
    rows = summarise(bench.measurements)
    return {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "elapsed_s": round(time.time() - started, 1),
        "machine": {
            **machine(),
            "fsync_ms": fsync,
            "peers": {peer.name: peer.about for peer in peers},
        },
        "config": {k: v for k, v in vars(args).items() if k != "json"},
        "rows": [asdict(r) for r in rows],
        "targets": target_checks(rows),
        "measurements": [asdict(m) for m in bench.measurements],
    }


def _csv(kind: type[Any]) -> Callable[[str], list[Any]]:
    return lambda text: [kind(part) for part in text.split(",") if part]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, help="seeded sessions (default 100000)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 20000 sessions, 1 round of 1 s, 1 worker"
    )
    parser.add_argument("--stores", type=_csv(str), default=["sqlite", "postgres"])
    parser.add_argument("--workers", type=_csv(int), help="ours' worker counts (default 1,2)")
    parser.add_argument("--rounds", type=int, help="rounds per measurement (default 3)")
    parser.add_argument("--duration", type=int, help="seconds per measurement (default 5)")
    parser.add_argument(
        "--warm-up",
        type=int,
        help="unmeasured seconds per workload after a server starts (default 3)",
    )
    parser.add_argument(
        "--no-pgbouncer",
        dest="pgbouncer",
        action="store_false",
        help=f"on PostgreSQL, leave out the {POOLED} row (ours through PgBouncer, transaction "
        f"mode, {PGBOUNCER_POOL} server connections)",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--peers",
        type=_csv(str),
        default=list(PEERS),
        help=f"the peers to run next to ours (default {','.join(PEERS)})",
    )
    parser.add_argument(
        "--peer-sessions",
        type=int,
        default=100_000,
        help="cap on each peer's seeded sessions",
    )
    parser.add_argument(
        "--scaling", action="store_true", help="also /me and logout at 10k, 100k and 1M sessions"
    )
    parser.add_argument("--scaling-sizes", type=_csv(int))
    parser.add_argument("--scaling-workers", type=int, default=1)
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument(
        "--keep-work", action="store_true", help="keep databases, session pools and server logs"
    )
    parser.add_argument(
        "--doc",
        type=Path,
        help="also write the results into this file (BENCHMARKS.md) between "
        f"{DOC_START!r} and {DOC_END!r}",
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        help="measure nothing: print (and --doc) the results of an earlier run",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    defaults: dict[str, Any] = {
        "sessions": 20_000 if quick else 100_000,
        "workers": [1] if quick else [1, 2],
        "rounds": 1 if quick else 3,
        "duration": 1 if quick else 5,
        "warm_up": 1 if quick else 3,
        "scaling_sizes": [1_000, 10_000] if quick else [10_000, 100_000, 1_000_000],
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    unknown = set(args.stores) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown store(s): {', '.join(sorted(unknown))}")
    unknown = set(args.peers) - set(PEERS)
    if unknown:
        parser.error(f"unknown peer(s): {', '.join(sorted(unknown))}")
    return args


DOC_START = "<!-- bench/run.py results: start -->"
DOC_END = "<!-- bench/run.py results: end -->"


def write_doc(path: Path, block: str) -> None:
    text = path.read_text()
    head, _, rest = text.partition(DOC_START)
    _, _, tail = rest.partition(DOC_END)
    path.write_text(f"{head}{DOC_START}\n{block}\n{DOC_END}{tail}")


def main() -> None:
    # A SIGTERM unwinds like Ctrl-C, so servers are stopped and databases dropped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = parse_args()
    if args.from_json:
        results = json.loads(args.from_json.read_text())
    else:
        results = run(args)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
        print(f"JSON: {args.json}", file=sys.stderr)
    block = markdown(results)
    print(block)
    if args.doc:
        write_doc(args.doc, block)


if __name__ == "__main__":
    main()
