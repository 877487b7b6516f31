"""The load generator (wrk + workload.lua) and the SMTP sink that sign-in mail goes to."""

from __future__ import annotations

import contextlib
import json
import resource
import shutil
import subprocess
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
    for line in out.splitlines():
        if line.startswith(MARKER):
            return LoadRun(
                result=json.loads(line.removeprefix(MARKER)),
                peak_rss_bytes=peak,
                server_cpu_s=round(server_cpu, 2),
                wrk_cpu_s=round(ours_cpu, 2),
                other_cpu_s=round(max(0.0, busy - server_cpu - ours_cpu), 2),
                wall_s=round(time.monotonic() - before[0], 2),
            )
    raise RuntimeError(f"wrk gave no result (exit {proc.returncode}): {err.strip()[-500:]}")


def ensure_wrk(log: Callable[[str], None]) -> None:
    """Install Debian's wrk when it is missing (waiting for another apt to finish first)."""
    if shutil.which("wrk"):
        return
    log("installing wrk with apt-get")
    install = ["apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", "wrk"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(install, check=True)


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
