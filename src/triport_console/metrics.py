"""Prometheus metrics (spec §2.13): counted in every process, scraped as one.

Recording is on only when `TRIPORT_METRICS_TOKEN` is set; otherwise every call below is a no-op.

Several uvicorn workers are several processes, and a scrape reaches only one of them. So
`triport-console serve` runs prometheus_client's multiprocess mode: it points
`PROMETHEUS_MULTIPROC_DIR` at an emptied directory before any worker starts, each process writes
its values into its own memory-mapped files there, and whichever worker answers `/metrics` adds
up every process's files. Counters of a worker that died stay in the sum (they are still true);
its live-gauge file is removed ("marked dead") at its shutdown, or at the next scrape when it was
killed, so `triport_workers` counts only live ones. Without that variable (a single process
started some other way) the values live in this process's memory.

The hot path pays one dictionary lookup and a few memory-mapped writes per request: label
children are cached, and route labels are templates (`/v1/keys/{id}`), never raw paths.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "(unmatched)"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LOGOUT_OUTCOMES = ("revoked", "nothing_live", "failed", "csrf_refused")
_DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def prepare_multiprocess_dir() -> Path:
    """Called by `serve` before any worker exists: an empty directory for every process's files.

    An operator's PROMETHEUS_MULTIPROC_DIR is used (its old `*.db` files removed: values of a
    previous run must not be added to this one's); otherwise a fresh private temporary one.
    """
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    else:
        path = Path(tempfile.mkdtemp(prefix="triport-metrics-"))
        os.environ[MULTIPROC_ENV] = str(path)
    return path


def remove_private_dir(path: Path) -> None:
    if path.name.startswith("triport-metrics-"):
        shutil.rmtree(path, ignore_errors=True)


class Metrics:
    """What the service counts. The disabled form records nothing and costs a method call."""

    enabled = False

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        pass

    def logout(self, outcome: str) -> None:
        pass

    def sign_in(self, provider: str, outcome: str) -> None:
        pass

    def store_error(self, store: str) -> None:
        pass

    def commit_batch(self, size: int) -> None:
        pass

    def scrape(self) -> bytes:
        return b""

    def close(self) -> None:
        pass


class PrometheusMetrics(Metrics):
    enabled = True

    def __init__(self) -> None:
        # Imported here, not at module load: the multiprocess choice is made when
        # prometheus_client is first imported, which must come after `serve` set the directory.
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self._dir = os.environ.get(MULTIPROC_ENV)
        self._registry = CollectorRegistry(auto_describe=True)
        registry = self._registry
        self._requests = Counter(
            "triport_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self._duration = Histogram(
            "triport_http_request_duration_seconds",
            "Time from the request's arrival to its answer, by route template",
            ["route"],
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        self._logouts = Counter(
            "triport_logouts",
            "Logout outcomes: revoked, nothing_live, failed (logout_failed), csrf_refused",
            ["outcome"],
            registry=registry,
        )
        self._sign_ins = Counter(
            "triport_sign_ins",
            "Completed sign-in attempts by provider and outcome (success or the error code)",
            ["provider", "outcome"],
            registry=registry,
        )
        self._store_errors = Counter(
            "triport_store_errors",
            "Database operations that failed (unreachable, locked past the timeout, or errored)",
            ["store"],
            registry=registry,
        )
        self._batches = Histogram(
            "triport_sqlite_commit_batch_size",
            "Writes committed together by one SQLite group commit",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self._workers = Gauge(
            "triport_workers",
            "Live server processes",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._workers.set(1)
        # Present from the first scrape, at zero; children kept, as `labels()` costs microseconds.
        self._logout_children = {
            outcome: self._logouts.labels(outcome) for outcome in LOGOUT_OUTCOMES
        }
        self._sign_in_children: dict[tuple[str, str], Counter] = {}
        self._request_children: dict[tuple[str, str, int], Counter] = {}
        self._duration_children: dict[str, Histogram] = {}

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        if method not in _METHODS:
            method = "OTHER"
        key = (route, method, status)
        counter = self._request_children.get(key)
        if counter is None:
            counter = self._request_children[key] = self._requests.labels(
                route, method, str(status)
            )
        counter.inc()
        histogram = self._duration_children.get(route)
        if histogram is None:
            histogram = self._duration_children[route] = self._duration.labels(route)
        histogram.observe(seconds)

    def logout(self, outcome: str) -> None:
        self._logout_children[outcome].inc()

    def sign_in(self, provider: str, outcome: str) -> None:
        key = (provider, outcome)
        counter = self._sign_in_children.get(key)
        if counter is None:
            counter = self._sign_in_children[key] = self._sign_ins.labels(provider, outcome)
        counter.inc()

    def store_error(self, store: str) -> None:
        self._store_errors.labels(store).inc()

    def commit_batch(self, size: int) -> None:
        self._batches.observe(size)

    def scrape(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest

        if self._dir is None:
            return generate_latest(self._registry)
        from prometheus_client.multiprocess import MultiProcessCollector

        _mark_dead_processes(self._dir)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self._dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    def close(self) -> None:
        if self._dir is not None:
            from prometheus_client.multiprocess import mark_process_dead

            mark_process_dead(os.getpid(), self._dir)  # type: ignore[no-untyped-call]


def _mark_dead_processes(directory: str) -> None:
    """Drop the live-gauge files of processes that ended without shutting down (SIGKILL)."""
    from prometheus_client.multiprocess import mark_process_dead

    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
        except PermissionError:  # alive, owned by someone else
            pass


# The process's recorder, for code below the edge (the stores) that has no request to carry it.
_active: Metrics = Metrics()


def install(metrics: Metrics) -> Metrics:
    global _active
    _active = metrics
    return metrics


def active() -> Metrics:
    return _active
