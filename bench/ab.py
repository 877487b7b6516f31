"""Before and after in one run: ours from two source trees, side by side with the bare app.

    python bench/ab.py --before ../old-checkout/src [--after src] [--store sqlite|postgres]
                       [--workers 1] [--workloads me,logout] [--rounds 5] [--duration 3]
                       [--sessions 100000] [--warm-up 2] [--json FILE]

A change on a hot path is judged by this, not by two runs of `run.py` minutes apart: on a shared
machine the CPU per request drifts by tens of percent between runs, but within one run the
targets take turns (the order rotating each round, as in `run.py`), so drift hits both trees
alike. Both trees serve the same seeded database with the same settings; only `PYTHONPATH`
differs (`--before` and `--after` are `src` directories, e.g. of a `git worktree` at the older
commit). Every answer is verified exactly as in `run.py`. On PostgreSQL the bare asyncpg UPDATE
app (pg-ref) runs too, for logout.

Prints, per workload, each target's median CPU µs per request over the rounds (the server's
process tree, from /proc), each round's value, and the medians' ratios to bare; `--json` keeps
every measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from dataclasses import asdict
from pathlib import Path

import run
from loadgen import OURS_API, MailSink, ensure_wrk
from run import (
    Bench,
    Target,
    bare_target,
    count_lines,
    log,
    ours_env,
    ours_server,
    pg_ref_target,
)
from seeding import (
    Database,
    create_database,
    drop_database,
    migrate,
    revoked_sessions,
    seed,
    unrevoke_sessions,
)
from servers import Server

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the older tree's src/")
    parser.add_argument("--after", type=Path, default=ROOT / "src", help="default: this one's")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--workloads", default="me,logout")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--warm-up", type=int, default=2, help="unmeasured seconds per workload")
    parser.add_argument("--json", type=Path)
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    workloads = tuple(args.workloads.split(","))
    settings = run.parse_args(
        [
            *("--stores", args.store, "--workers", str(args.workers), "--peers", ""),
            *("--rounds", str(args.rounds), "--duration", str(args.duration)),
            *("--sessions", str(args.sessions), "--warm-up", str(args.warm_up)),
        ]
    )
    ensure_wrk(log)
    workdir = run.BENCH / "results" / f"ab-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    sink = MailSink()
    sink.start()
    bench = Bench(settings, workdir, sink)
    db = create_database(args.store, workdir)
    started: list[Server] = []
    try:
        pools = workdir / "pools"
        log(f"seeding {args.sessions:,} sessions on {args.store}")
        migrate(db, Path(sys.executable).parent / "triport-console", ours_env(db))
        seed(db, args.sessions, pools, settings.threads)
        targets = [
            ours_tree(bench, db, pools, name, src, workloads)
            for name, src in (("before", args.before), ("after", args.after))
        ]
        targets.append(bare_target(args.workers, workdir, pools, workloads))
        if args.store == "postgres" and "logout" in workloads:
            targets.append(pg_ref_target(db, args.workers, workdir, targets[0]))
        for target in targets:
            target.server.start()
            started.append(target.server)
        where = {"store": args.store, "workers": args.workers, "sessions": args.sessions}
        bench.rounds(targets, {**where, "section": "ab"}, workloads)
    finally:
        for server in started:
            server.stop()
        drop_database(db)
        sink.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(report(bench, workloads))
    if args.json:
        args.json.write_text(json.dumps([asdict(m) for m in bench.measurements], indent=1))


def ours_tree(
    bench: Bench, db: Database, pools: Path, name: str, src: Path, workloads: tuple[str, ...]
) -> Target:
    server = ours_server(db, bench.args.workers[0], bench.sink, bench.workdir / f"{name}.log")
    server.name = name
    server.env = {**server.env, "PYTHONPATH": str(src.resolve())}
    return Target(
        name,
        server,
        pools,
        OURS_API,
        workloads,
        True,
        revoke_pool=count_lines(pools, "revoke"),
        revoked=lambda: revoked_sessions(db),
        reset=lambda: unrevoke_sessions(db),
    )


def report(bench: Bench, workloads: tuple[str, ...]) -> str:
    lines = []
    for workload in workloads:
        medians: dict[str, float] = {}
        for name in ("before", "after", "bare", "pg-ref"):
            found = [m for m in bench.measurements if m.target == name and m.workload == workload]
            if not found:
                continue
            if any(m.errors for m in found):
                raise SystemExit(f"{name} {workload}: errors {[m.error_detail for m in found]}")
            per_round = [m.cpu["server"] * 1e6 / m.good for m in found]
            medians[name] = statistics.median(per_round)
            rates = [round(m.rps) for m in found]
            lines.append(
                f"{workload:7} {name:7} CPU µs/req median {medians[name]:7.1f}  "
                f"rounds {[round(c) for c in per_round]}  req/s {rates}"
            )
        bare = medians["bare"]
        lines.append(
            f"{workload:7} bare/ours by CPU: before {bare / medians['before']:.3f}, "
            f"after {bare / medians['after']:.3f}; after/before "
            f"{medians['after'] / medians['before']:.3f}"
            + (
                f"; ours/pg-ref by CPU: before {medians['pg-ref'] / medians['before']:.3f}, "
                f"after {medians['pg-ref'] / medians['after']:.3f}"
                if "pg-ref" in medians
                else ""
            )
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
