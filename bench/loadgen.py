"""The load generators and the SMTP sink that sign-in mail goes to.

wrk + workload.lua measures the peak (closed loop, as fast as the server answers); the fixed-rate
runs offer a set rate instead: bench/fixed_rate.py (open loop, every workload) and, for /me, hey
(Debian's, `-q` per worker) as a cross-check. All of them go through `_run_measured`, so the
server's CPU, memory and the machine's noise are taken the same way for each.
"""

from __future__ import annotations

import contextlib
import json
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from servers import free_port, machine_busy_seconds, tree_cpu_seconds, tree_rss_bytes

SCRIPT = Path(__file__).resolve().parent / "wrk" / "workload.lua"
FIXED_RATE = Path(__file__).resolve().parent / "fixed_rate.py"
MARKER = "BENCH_RESULT "


@dataclass(frozen=True)
class Api:
    """How a target is spoken to: its /me and logout routes, how it names its session cookie,
    its CSRF cookie and header (None: it has none), and whether its logout checks the Origin."""

    me_path: str
    logout_path: str
    session_cookie: str
    csrf_cookie: str | None = None
    csrf_header: str | None = None
    origin: bool = False

    def wrk_args(self) -> list[str]:
        """The arguments workload.lua takes after MODE POOL_DIR TAG."""
        return [
            self.me_path,
            self.logout_path,
            self.session_cookie,
            self.csrf_cookie or "-",
            self.csrf_header or "-",
            "origin" if self.origin else "-",
        ]

    @classmethod
    def from_args(cls, args: list[str]) -> Api:
        """The inverse of `wrk_args`."""
        me, logout, cookie, csrf_cookie, csrf_header, origin = args
        return cls(
            me,
            logout,
            cookie,
            None if csrf_cookie == "-" else csrf_cookie,
            None if csrf_header == "-" else csrf_header,
            origin == "origin",
        )

    def session_headers(self, token: str, csrf: str) -> dict[str, str]:
        """The session cookie (with the CSRF cookie) and the CSRF header, as workload.lua sends
        them on every request."""
        cookie = f"{self.session_cookie}={token}"
        if self.csrf_cookie:
            cookie += f"; {self.csrf_cookie}={csrf}"
        headers = {"Cookie": cookie}
        if self.csrf_header:
            headers[self.csrf_header] = csrf
        return headers


def body_class(body: bytes) -> str:
    """What a 200 body proves it was, as workload.lua's response() classifies it."""
    if b'"user"' in body:
        return "user"
    if b'"request_id"' in body:
        return "start"
    if b'"ok"' in body or b'"success":true' in body:
        return "ok"
    return "other"


OURS_API = Api("/v1/auth/me", "/v1/auth/logout", "nl_session", "nl_csrf", "X-CSRF-Token")
DJANGO_API = Api("/v1/auth/me", "/v1/auth/logout", "sessionid", "csrftoken", "X-CSRFToken")
# Better Auth's stock routes and cookie; its CSRF defence on a cookie-carrying POST is the
# Origin check against its trusted origins (its own base URL), so logouts send the Origin.
BETTER_AUTH_API = Api(
    "/api/auth/get-session", "/api/auth/sign-out", "better-auth.session_token", origin=True
)


@dataclass(frozen=True)
class LoadShape:
    connections: int
    threads: int
    timeout_s: int = 5


@dataclass(frozen=True)
class LoadRun:
    """One wrk run: the script's result, the server's peak memory, and where the CPU went."""

    result: dict[str, Any]
    peak_rss_bytes: int
    server_cpu_s: float
    wrk_cpu_s: float
    other_cpu_s: float  # everything else on the machine: other processes' noise in this run
    wall_s: float


def _own_and_children_cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped children: here, wrk
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_wrk(
    url: str,
    mode: str,
    pools: Path,
    tag: str,
    api: Api,
    duration_s: int,
    shape: LoadShape,
    server_pid: int,
) -> LoadRun:
    """Run one measurement against the server whose process tree starts at `server_pid`."""
    argv = [
        "wrk",
        "-t",
        str(shape.threads),
        "-c",
        str(shape.connections),
        "-d",
        f"{duration_s}s",
        "--timeout",
        f"{shape.timeout_s}s",
        "-s",
        str(SCRIPT),
        url,
        "--",
        mode,
        str(pools),
        tag,
        *api.wrk_args(),
    ]
    return _run_measured(argv, duration_s, server_pid, marker_result)


def run_fixed_rate(
    url: str,
    mode: str,
    pools: Path,
    api: Api,
    rate: float,
    duration_s: int,
    shape: LoadShape,
    server_pid: int,
) -> LoadRun:
    """Offer `rate` requests per second of `mode` for `duration_s` with bench/fixed_rate.py."""
    argv = [
        sys.executable,
        str(FIXED_RATE),
        url,
        mode,
        str(pools),
        f"{rate:.1f}",
        str(duration_s),
        str(shape.connections),
        str(shape.timeout_s),
        *api.wrk_args(),
    ]
    return _run_measured(argv, duration_s, server_pid, marker_result)


def run_hey(
    url: str,
    api: Api,
    session: tuple[str, str],
    body_size: int,
    rate: float,
    duration_s: int,
    shape: LoadShape,
    server_pid: int,
) -> LoadRun:
    """Offer `rate` GETs of /me per second for `duration_s` with hey: `shape.connections`
    workers, each limited to its share of the rate (hey's -q is per worker), all with one session
    (hey sends one fixed request), whose verified /me body is `body_size` bytes long."""
    workers = shape.connections
    argv = [
        "hey",
        "-z",
        f"{duration_s}s",
        "-c",
        str(workers),
        "-q",
        f"{rate / workers:.3f}",
        "-t",
        str(shape.timeout_s),
        *(arg for k, v in api.session_headers(*session).items() for arg in ("-H", f"{k}: {v}")),
        f"{url}{api.me_path}",
    ]

    def parse(out: str) -> dict[str, Any] | None:
        return hey_result(out, rate, duration_s, body_size)

    return _run_measured(argv, duration_s, server_pid, parse)


def hey_result(out: str, rate: float, duration_s: int, body_size: int) -> dict[str, Any] | None:
    """hey's summary as a workload.lua-shaped result. hey reports no bodies, only their summed
    Content-Length: its 200s count as /me users only if that sum is exactly one verified body per
    200 (any other size makes every 200 `other`). hey drops the sends a busy worker missed, so
    `late` is the requests offered and never sent."""
    seconds: dict[str, float] = {}
    percentiles: dict[int, float] = {}
    statuses: dict[str, int] = {}
    errors = 0
    total_bytes = 0
    section = ""
    for raw in out.splitlines():
        line = raw.strip()
        if line.endswith(":") and not line.startswith("["):
            section = line
        words = line.split()
        if len(words) >= 2 and words[0] in ("Total:", "Slowest:", "Average:"):
            seconds[words[0]] = float(words[1])
        elif words[:2] == ["Total", "data:"]:
            total_bytes = int(words[2])
        elif section == "Latency distribution:" and len(words) == 4 and words[1] == "in":
            percentiles[int(words[0].rstrip("%"))] = float(words[2])
        elif section == "Status code distribution:" and words and words[0].startswith("["):
            statuses[words[0].strip("[]")] = int(words[1])
        elif section == "Error distribution:" and words and words[0].startswith("["):
            errors += int(words[0].strip("[]"))
    if "Total:" not in seconds:
        return None
    ok = statuses.get("200", 0)
    proven = ok if total_bytes == ok * body_size else 0
    responses = sum(statuses.values())
    slowest = seconds.get("Slowest:", 0.0)

    def us(value: float) -> int:
        return round(value * 1e6)

    return {
        "duration_us": us(seconds["Total:"]),
        "requests": responses + errors,
        "bytes": total_bytes,
        "socket_errors": {"connect": 0, "read": errors, "write": 0, "timeout": 0},
        "non_2xx_3xx": responses - ok,
        # hey leaves out a percentile it has too few samples for: then the slowest stands in
        "latency_us": {
            "p50": us(percentiles.get(50, slowest)),
            "p90": us(percentiles.get(90, slowest)),
            "p99": us(percentiles.get(99, slowest)),
            "max": us(slowest),
            "mean": round(seconds.get("Average:", 0.0) * 1e6, 1),
        },
        "statuses": statuses,
        "classes": {"user": proven, "ok": 0, "start": 0, "other": ok - proven},
        "issued": {"me": responses + errors},
        "exhausted": 0,
        "offered_rps": rate,
        "late": max(0, round(rate * duration_s) - responses - errors),
    }


def marker_result(out: str) -> dict[str, Any] | None:
    """The BENCH_RESULT line that workload.lua and fixed_rate.py print."""
    for line in out.splitlines():
        if line.startswith(MARKER):
            return dict(json.loads(line.removeprefix(MARKER)))
    return None


def _run_measured(
    argv: list[str],
    duration_s: int,
    server_pid: int,
    parse: Callable[[str], dict[str, Any] | None],
) -> LoadRun:
    """Run the load generator `argv` and `parse` its output into a workload.lua-shaped result,
    taking the server's CPU and peak memory and the machine's other CPU meanwhile."""
    before = (
        time.monotonic(),
        machine_busy_seconds(),
        tree_cpu_seconds(server_pid),
        _own_and_children_cpu(),
    )
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    deadline = time.monotonic() + duration_s + 60
    while proc.poll() is None and time.monotonic() < deadline:
        peak = max(peak, tree_rss_bytes(server_pid))
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(0.25)
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate()
    server_cpu = tree_cpu_seconds(server_pid) - before[2]
    ours_cpu = _own_and_children_cpu() - before[3]
    busy = machine_busy_seconds() - before[1]
    result = parse(out)
    if result is None:
        raise RuntimeError(
            f"{argv[0]} gave no result (exit {proc.returncode}): {err.strip()[-500:]}"
        )
    return LoadRun(
        result=result,
        peak_rss_bytes=peak,
        server_cpu_s=round(server_cpu, 2),
        wrk_cpu_s=round(ours_cpu, 2),
        other_cpu_s=round(max(0.0, busy - server_cpu - ours_cpu), 2),
        wall_s=round(time.monotonic() - before[0], 2),
    )


def ensure_wrk(log: Callable[[str], None]) -> None:
    """Install Debian's wrk when it is missing."""
    if not apt_install("wrk", _on_path("wrk"), log):
        raise RuntimeError("wrk is missing and apt-get could not install it")


def ensure_hey(log: Callable[[str], None]) -> None:
    """Install Debian's hey (the fixed-rate cross-check on /me) when it is missing."""
    if not apt_install("hey", _on_path("hey"), log):
        raise RuntimeError("hey is missing and apt-get could not install it")


def _on_path(command: str) -> Callable[[], bool]:
    return lambda: shutil.which(command) is not None


def apt_install(package: str, present: Callable[[], bool], log: Callable[[str], None]) -> bool:
    """Install a Debian `package` unless `present()` (waiting for another apt to finish first,
    and updating the package lists if the first try fails); whether it is present after."""
    if present():
        return True
    log(f"installing {package} with apt-get")
    install = ["apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", package]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=False)
        subprocess.run(install, check=False)
    return present()


def warm_up(url: str) -> None:
    """One second of plain requests, so the first measured round does not pay for start-up."""
    subprocess.run(
        ["wrk", "-t", "1", "-c", "4", "-d", "1s", f"{url}/healthz"],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class _CountingHandler:
    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.count += 1
        return "250 OK"


class MailSink:
    """An aiosmtpd server on loopback that accepts and drops mail, counting messages.

    The server's sign-in answers only after the code was handed to SMTP, so the count proves
    each sign-in 200 really delivered a message, and sign-in cost includes that delivery.
    """

    def __init__(self) -> None:
        self._handler = _CountingHandler()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=free_port())

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self._controller.port}"

    @property
    def received(self) -> int:
        return self._handler.count

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
