"""Where does ours spend a request? py-spy on one server worker under the benchmark's load.

    python bench/profile.py [--store sqlite] [--workload me] [--seconds 10] [--sessions 100000]

Seeds and serves ours exactly as run.py does (one worker), drives it with the same wrk script,
and samples the worker with py-spy (`pip install py-spy` in the project venv). Writes the
collapsed stacks (`<out>.folded`, input for any flame-graph tool) and prints the functions with
the most samples, on their own (self) and with what they call (total).
"""

from __future__ import annotations

import argparse
import collections
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import run
from loadgen import OURS_API, LoadShape, MailSink, ensure_wrk, run_wrk, warm_up
from seeding import create_database, drop_database, migrate, seed

RATE = 250  # samples per second
_LINE = re.compile(r":\d+\)$")


def summarise(folded: Path, top: int, requests: int, rate: int) -> str:
    """Top functions by self and total samples, from py-spy's collapsed stacks, in µs of sampled
    (wall) time per request: comparable across runs and workloads, unlike percentages."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in folded.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [_LINE.sub(")", frame) for frame in stack.split(";")]  # per function
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    per_request = 1e6 / rate / max(1, requests)
    lines = [
        f"{samples} samples, {requests} requests: "
        f"{samples * per_request:.1f} µs sampled per request"
    ]
    for title, counter in (("self", own), ("total", total)):
        lines.append(f"\nTop {top} by {title} (µs per request, % of samples):")
        lines.extend(
            f"{n * per_request:8.1f} {100 * n / samples:6.1f}%  {frame}"
            for frame, n in counter.most_common(top)
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workload", choices=["me", "logout", "mixed"], default="me")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--gil",
        action="store_true",
        help="only samples holding the GIL: Python work, not waits in C",
    )
    parser.add_argument("--out", type=Path, default=run.BENCH / "results" / "profile")
    args = parser.parse_args()
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        sys.exit(f"py-spy is missing: {sys.executable} -m pip install py-spy")
    ensure_wrk(run.log)
    workdir = run.BENCH / "results" / f"profile-work-{secrets.token_hex(3)}"
    workdir.mkdir(parents=True)
    sink = MailSink()
    sink.start()
    db = create_database(args.store, workdir)
    server = run.ours_server(db, 1, sink, workdir / "ours.log")
    try:
        migrate(db, Path(sys.executable).parent / "triport-console", run.ours_env(db))
        seed(db, args.sessions, workdir / "pools", 2)
        server.start()
        warm_up(server.url)
        folded = args.out.with_suffix(".folded")
        folded.parent.mkdir(parents=True, exist_ok=True)
        spy = subprocess.Popen(
            [
                str(py_spy),
                "record",
                "--pid",
                str(server.pid),
                "--rate",
                str(RATE),
                "--duration",
                str(args.seconds),
                "--format",
                "raw",
                "--threads",
                "--output",
                str(folded),
                *(["--gil"] if args.gil else []),
            ],
            stdout=subprocess.DEVNULL,
        )
        load = run_wrk(
            server.url,
            args.workload,
            workdir / "pools",
            "profile",
            OURS_API,
            args.seconds + 2,
            LoadShape(32, 2),
            server.pid,
        )
        spy.wait(60)
        rate = load.result["requests"] / (load.result["duration_us"] / 1e6)
        run.log(f"{args.workload} on {args.store} under py-spy: {rate:,.0f} req/s")
        print(summarise(folded, args.top, int(rate * args.seconds), RATE))
        print(f"\ncollapsed stacks: {folded}")
    finally:
        server.stop()
        sink.stop()
        drop_database(db)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
