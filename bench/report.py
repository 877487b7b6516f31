"""Turning wrk results into verified measurements, and measurements into the table and JSON."""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from loadgen import LoadRun

# What a 200 body must prove for each workload (see workload.lua's response()); None: anything.
EXPECTED_CLASSES: dict[str, tuple[str, ...]] = {
    "me": ("user",),
    "logout": ("ok",),
    "mixed": ("user", "ok", "start"),
}


@dataclass(frozen=True)
class Checks:
    """Facts gathered outside wrk that a measurement's 200s must agree with."""

    body_classes: tuple[str, ...] | None  # None: the target answers a constant (bare, pg-ref)
    revoked: int | None = None  # session rows revoked (or deleted) during the run
    mails: int | None = None  # messages the SMTP sink received during the run


@dataclass(frozen=True)
class Measurement:
    section: str  # "main" | "scaling" | FIXED_RATE | FIXED_RATE_HEY
    store: str
    workers: int
    sessions: int
    workload: str
    target: str
    round: int
    duration_s: float
    responses: int
    good: int
    errors: int
    error_detail: dict[str, int]
    rps: float  # good responses per second: errors never count as speed
    p50_ms: float
    p99_ms: float
    rss_mb: float
    issued: dict[str, int]
    cpu: dict[str, float]  # seconds: server, wrk (+ this runner and its mail sink), other
    # fixed-rate runs only: the rate offered, and the sends that were late (see fixed_rate.py)
    # or, with hey, never made
    offered_rps: float | None = None
    late: int | None = None
    p99_due_ms: float | None = None  # open loop: p99 from when each request was due


def evaluate(run: LoadRun, checks: Checks, **where: Any) -> Measurement:
    """Count as good only 2xx answers whose body proves the intended route answered, and only
    as many logouts (sign-ins) as the database shows revocations (the sink shows mails)."""
    result = run.result
    statuses = {int(k): v for k, v in result["statuses"].items()}
    classes: dict[str, int] = result["classes"]
    responses = sum(statuses.values())
    success = sum(v for k, v in statuses.items() if 200 <= k < 300)
    good = (
        success
        if checks.body_classes is None
        else sum(classes.get(c, 0) for c in checks.body_classes)
    )
    detail = {
        "socket": sum(result["socket_errors"].values()),
        "non_2xx": responses - success,
        "unexpected_body": success - good,
        "not_revoked": 0,
        "not_delivered": 0,
        "pool_exhausted": int(result["exhausted"]),
    }
    if checks.revoked is not None:
        detail["not_revoked"] = max(0, classes.get("ok", 0) - checks.revoked)
    if checks.mails is not None:
        detail["not_delivered"] = max(0, classes.get("start", 0) - checks.mails)
    good -= detail["not_revoked"] + detail["not_delivered"]
    duration_s = result["duration_us"] / 1e6
    latency = result["latency_us"]
    return Measurement(
        duration_s=round(duration_s, 3),
        responses=responses,
        good=good,
        errors=sum(v for k, v in detail.items() if k != "pool_exhausted"),
        error_detail=detail,
        rps=round(good / duration_s, 1) if duration_s else 0.0,
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        rss_mb=round(run.peak_rss_bytes / 2**20, 1),
        issued=result["issued"],
        cpu={"server": run.server_cpu_s, "wrk": run.wrk_cpu_s, "other": run.other_cpu_s},
        offered_rps=result.get("offered_rps"),
        late=result.get("late"),
        p99_due_ms=result["due_latency_us"]["p99"] / 1000 if "due_latency_us" in result else None,
        **where,
    )


@dataclass(frozen=True)
class Row:
    """The median over rounds of one (section, store, workers, sessions, workload, target)."""

    section: str
    store: str
    workers: int
    sessions: int
    workload: str
    target: str
    rounds: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    rss_mb: float
    noise_pct: float  # CPU used by other processes during the runs, % of the machine (median)
    cpu_us: float  # server CPU time per good response, in µs (median): robust to noise
    rps_rounds: list[float]
    # ours ÷ reference in req/s, and the same in CPU efficiency (reference µs ÷ our µs per
    # request): one pair per entry of REFERENCES
    vs_bare: float | None = None
    vs_django: float | None = None
    vs_better_auth: float | None = None
    vs_pg_ref: float | None = None
    cpu_vs_bare: float | None = None
    cpu_vs_django: float | None = None
    cpu_vs_better_auth: float | None = None
    cpu_vs_pg_ref: float | None = None
    offered_rps: float | None = None  # fixed-rate rows: the rate offered (median)
    late: int | None = None  # fixed-rate rows: late (or, with hey, missed) sends, all rounds
    p99_due_ms: float | None = None  # open-loop rows: p99 from when each request was due

    def ratios(self, reference: Reference) -> tuple[float | None, float | None]:
        """Ours ÷ `reference`: by req/s, and by CPU efficiency."""
        return (
            getattr(self, f"vs_{reference.field}"),
            getattr(self, f"cpu_vs_{reference.field}"),
        )


@dataclass(frozen=True)
class Reference:
    """A target ours is compared with, in a column of its own."""

    target: str  # its name in the measurements
    field: str  # Row.vs_<field> and Row.cpu_vs_<field>
    digits: int  # decimals shown

    @property
    def column(self) -> str:
        return f"ours/{self.target} (cpu)"


REFERENCES = (
    Reference("bare", "bare", 2),
    Reference("django", "django", 1),
    Reference("better-auth", "better_auth", 1),
    Reference("pg-ref", "pg_ref", 2),
)


def _key(m: Measurement | Row) -> tuple[str, str, int, int, str, str]:
    return (m.section, m.store, m.workers, m.sessions, m.workload, m.target)


def summarise(measurements: Iterable[Measurement]) -> list[Row]:
    groups: dict[tuple[str, str, int, int, str, str], list[Measurement]] = {}
    for m in measurements:
        groups.setdefault(_key(m), []).append(m)
    rows = [
        Row(
            section=k[0],
            store=k[1],
            workers=k[2],
            sessions=k[3],
            workload=k[4],
            target=k[5],
            rounds=len(ms),
            rps=round(statistics.median(m.rps for m in ms), 1),
            p50_ms=round(statistics.median(m.p50_ms for m in ms), 3),
            p99_ms=round(statistics.median(m.p99_ms for m in ms), 3),
            errors=sum(m.errors for m in ms),
            rss_mb=max(m.rss_mb for m in ms),
            noise_pct=round(statistics.median(_noise_pct(m) for m in ms), 1),
            cpu_us=round(statistics.median(_cpu_us(m) for m in ms), 1),
            rps_rounds=[m.rps for m in ms],
            offered_rps=_median_or_none([m.offered_rps for m in ms]),
            late=None if ms[0].late is None else sum(m.late or 0 for m in ms),
            p99_due_ms=_median_or_none([m.p99_due_ms for m in ms]),
        )
        for k, ms in groups.items()
    ]
    return [_with_ratios(row, rows) for row in rows]


def _median_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def _noise_pct(m: Measurement) -> float:
    return 100 * m.cpu["other"] / (m.duration_s * (os.cpu_count() or 1)) if m.duration_s else 0.0


def _cpu_us(m: Measurement) -> float:
    return 1e6 * m.cpu["server"] / m.good if m.good else 0.0


def _with_ratios(row: Row, rows: list[Row]) -> Row:
    if row.target != "ours":
        return row

    ratios: dict[str, float | None] = {}
    for reference in REFERENCES:
        other = next((o for o in rows if _key(o) == (*_key(row)[:5], reference.target)), None)
        ok = other is not None and other.rps > 0 and row.cpu_us > 0
        name = reference.field
        ratios[f"vs_{name}"] = round(row.rps / other.rps, 3) if ok and other else None
        ratios[f"cpu_vs_{name}"] = round(other.cpu_us / row.cpu_us, 3) if ok and other else None
    return Row(**{**asdict(row), **ratios})


COLUMNS = (
    "store",
    "W",
    "sessions",
    "workload",
    "target",
    "req/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "RSS MB",
    "CPU µs/req",
    "noise %",
)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _pair(rps: float | None, cpu: float | None, digits: int = 2) -> str:
    """A ratio by throughput, with the CPU-efficiency ratio in brackets."""
    return "" if rps is None or cpu is None else f"{rps:.{digits}f} ({cpu:.{digits}f})"


def table(rows: Iterable[Row]) -> str:
    """One fixed-width (and Markdown-compatible) table, rows in run order; a reference's ratio
    column only when some row has that ratio."""
    rows = list(rows)
    references = [ref for ref in REFERENCES if any(r.ratios(ref)[0] is not None for r in rows)]
    columns = [*COLUMNS, *(ref.column for ref in references)]
    lines = [
        [
            r.store,
            str(r.workers),
            f"{r.sessions:,}",
            r.workload,
            r.target,
            f"{r.rps:,.0f}",
            _fmt(r.p50_ms),
            _fmt(r.p99_ms),
            str(r.errors),
            _fmt(r.rss_mb, 0),
            _fmt(r.cpu_us, 0),
            _fmt(r.noise_pct, 0),
            *(_pair(*r.ratios(ref), ref.digits) for ref in references),
        ]
        for r in rows
    ]
    return _render(columns, lines)


# The fixed-rate sections (latency at half the peak) and the load generator each one names.
FIXED_RATE = "fixed-rate"
FIXED_RATE_HEY = "fixed-rate-hey"
GENERATORS = {FIXED_RATE: "fixed_rate.py", FIXED_RATE_HEY: "hey"}
LATENCY_COLUMNS = (
    "store",
    "W",
    "workload",
    "target",
    "load generator",
    "offered req/s",
    "req/s",
    "p50 ms",
    "p99 ms",
    "p99 from due ms",
    "late",
    "errors",
    "CPU µs/req",
)


def latency_table(rows: Iterable[Row]) -> str:
    """The fixed-rate rows: what was offered, what was answered, and how fast."""
    lines = [
        [
            r.store,
            str(r.workers),
            r.workload,
            r.target,
            GENERATORS[r.section],
            f"{r.offered_rps or 0:,.0f}",
            f"{r.rps:,.0f}",
            _fmt(r.p50_ms),
            _fmt(r.p99_ms),
            _fmt(r.p99_due_ms),
            str(r.late),
            str(r.errors),
            _fmt(r.cpu_us, 0),
        ]
        for r in rows
    ]
    return _render(list(LATENCY_COLUMNS), lines)


def _render(columns: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(c), *(len(line[i]) for line in lines)) for i, c in enumerate(columns)]

    def render(cells: Iterable[str]) -> str:
        return "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([render(columns), rule, *(render(line) for line in lines)])


def target_checks(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """The issue's targets, each with the value reached and whether it was met."""
    checks: list[dict[str, Any]] = []

    def check(
        row: Row,
        what: str,
        value: float | None,
        goal: float,
        at_least: bool,
        cpu: float | None = None,
    ) -> None:
        if value is None:
            return
        met = value >= goal if at_least else value <= goal
        checks.append(
            {
                "store": row.store,
                "workers": row.workers,
                "workload": row.workload,
                "target": what,
                "goal": goal,
                "value": value,
                "met": met,
                "cpu_value": cpu,
            }
        )

    for row in rows:
        if row.section != "main" or row.target != "ours" or row.workload == "mixed":
            continue
        if row.store == "sqlite":
            check(
                row,
                "ours/bare",
                row.vs_bare,
                0.5 if row.workload == "logout" else 0.6,
                True,
                row.cpu_vs_bare,
            )
            check(row, "ours/django", row.vs_django, 20.0, True, row.cpu_vs_django)
        if row.store == "postgres" and row.workload == "logout":
            check(row, "ours/pg-ref", row.vs_pg_ref, 0.8, True, row.cpu_vs_pg_ref)
        check(row, "p99 ms", row.p99_ms, 5.0, False)
    return checks


def checks_text(checks: Iterable[dict[str, Any]]) -> str:
    return "\n".join(
        f"- {c['store']} W={c['workers']} {c['workload']}: {c['target']} = {c['value']} "
        f"(goal {'>=' if c['target'] != 'p99 ms' else '<='} {c['goal']}): "
        f"{'met' if c['met'] else 'MISSED'}"
        + (f" (by CPU per request: {c['cpu_value']})" if c["cpu_value"] is not None else "")
        for c in checks
    )


def markdown(results: dict[str, Any]) -> str:
    """The results block of BENCHMARKS.md: machine, main table, targets, scaling."""
    machine = results["machine"]
    config = results["config"]
    rows = [Row(**r) for r in results["rows"]]
    main = [r for r in rows if r.section == "main"]
    scaling = [r for r in rows if r.section == "scaling"]
    latency = [r for r in rows if r.section in GENERATORS]
    parts = [
        f"Run of {results['started_at']} ({results['elapsed_s']:.0f} s): "
        f"{machine['nproc']} cores ({machine['cpu_model']}), {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}, Python {machine['python']}, SQLite {machine['sqlite']}, "
        f"{machine['wrk'].split(' Copyright')[0]}"
        + (f", hey {machine['hey']}" if machine.get("hey") else "")
        + f"; fsync p50 {machine['fsync_ms']['p50']} ms, "
        f"p99 {machine['fsync_ms']['p99']} ms. {config['sessions']:,} sessions, "
        f"{config['rounds']} rounds of {config['duration']} s, {config['connections']} "
        f"connections, {config['threads']} wrk threads."
        + "".join(f" {name}: {about}." for name, about in machine.get("peers", {}).items()),
        "",
        table(main),
        "",
        "Targets of issue 8 (ratios by req/s; by CPU per request in brackets):",
        "",
        checks_text(results["targets"]),
    ]
    if latency:
        parts += [
            "",
            "Latency at a fixed offered load, half of ours' peak req/s above (same store, W and "
            f"workload), {config['duration']} s per row:",
            "",
            latency_table(latency),
        ]
    if scaling:
        parts += ["", f"Scaling (ours, {config['scaling_workers']} worker):", "", table(scaling)]
    return "\n".join(parts)
