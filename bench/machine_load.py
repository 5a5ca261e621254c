"""The machine's load over a whole benchmark run, so that a figure can be trusted or discarded.

`LoadRecorder` samples, in a background thread, every `interval` seconds:
- the 1-minute load average (`os.getloadavg`),
- the CPU split from `/proc/stat` since the previous sample (busy, iowait, steal, as a share
  of all cores),
- optionally, on PostgreSQL, how many backends of the benchmark's database are active and how
  many of them wait on a lock (`pg_stat_activity.wait_event_type = 'Lock'`): the share of
  samples with a waiter shows whether requests queue on a row lock.

It also takes a short baseline before the run starts (the load others put on the machine:
the benchmark's own processes are not running yet) and attributes samples to named phases
(seeding, each scenario by its start time and duration, the peer). `verdict` says whether the
machine was quiet enough for the figures to be compared with other runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

QUIET_BASELINE_BUSY = 0.15  # share of all cores busy before the run: above this, others were working
QUIET_BASELINE_LOAD_PER_CPU = 0.5


def cpu_times() -> tuple[float, float, float, float] | None:
    """(total, busy, iowait, steal) jiffies since boot from /proc/stat, or None off Linux."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [float(value) for value in fields[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (values + [0.0] * 8)[:8]
    # guest and guest_nice are already counted in user and nice
    total = user + nice + system + idle + iowait + irq + softirq + steal
    busy = user + nice + system + irq + softirq
    return total, busy, iowait, steal


@dataclass
class Sample:
    at: float  # time.time()
    load1: float
    busy: float | None = None  # share of all cores, 0..1, since the previous sample
    iowait: float | None = None
    steal: float | None = None
    pg_active: int | None = None
    pg_lock_waiting: int | None = None


@dataclass
class LoadRecorder:
    interval: float = 1.0
    pg_dsn: str | None = None  # the benchmark's database: lock waits are counted there
    samples: list[Sample] = field(default_factory=list)
    phases: list[tuple[str, float, float]] = field(default_factory=list)
    baseline: dict[str, Any] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _started: float = 0.0

    # --- sampling ---------------------------------------------------------------------------

    def measure_baseline(self, seconds: float = 3.0) -> dict[str, Any]:
        """The machine before the benchmark starts anything."""
        before = cpu_times()
        time.sleep(seconds)
        after = cpu_times()
        busy = None
        if before and after and after[0] > before[0]:
            busy = round((after[1] - before[1]) / (after[0] - before[0]), 3)
        self.baseline = {"seconds": seconds, "load1": round(os.getloadavg()[0], 2), "busy": busy}
        return self.baseline

    def start(self) -> None:
        self._started = time.time()
        self._thread = threading.Thread(target=self._run, name="load-recorder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval * 3 + 5)

    def phase(self, name: str, started: float, ended: float) -> None:
        self.phases.append((name, started, ended))

    @contextlib.contextmanager
    def during(self, name: str) -> Any:
        started = time.time()
        try:
            yield
        finally:
            self.phase(name, started, time.time())

    def _run(self) -> None:
        connection = self._pg_connect()
        previous = cpu_times()
        while True:
            stopping = self._stop.wait(self.interval)
            previous = self._sample(previous, connection)  # a last one when stopped: short runs get one too
            if stopping:
                break
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def _sample(self, previous: tuple[float, float, float, float] | None, connection: Any) -> Any:
        now = cpu_times()
        sample = Sample(at=time.time(), load1=os.getloadavg()[0])
        if previous and now and now[0] > previous[0]:
            total = now[0] - previous[0]
            sample.busy = (now[1] - previous[1]) / total
            sample.iowait = (now[2] - previous[2]) / total
            sample.steal = (now[3] - previous[3]) / total
        if connection is not None:
            with contextlib.suppress(Exception):
                row = connection.execute(
                    "SELECT count(*) FILTER (WHERE state = 'active'), "
                    "count(*) FILTER (WHERE wait_event_type = 'Lock') "
                    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()
                sample.pg_active, sample.pg_lock_waiting = int(row[0]), int(row[1])
        self.samples.append(sample)
        return now

    def _pg_connect(self) -> Any:
        if not self.pg_dsn:
            return None
        try:
            import psycopg

            return psycopg.connect(self.pg_dsn, autocommit=True, connect_timeout=10)
        except Exception:
            return None

    # --- summary ----------------------------------------------------------------------------

    def summary(self, samples: list[Sample] | None = None) -> dict[str, Any]:
        samples = self.samples if samples is None else samples
        if not samples:
            return {"samples": 0}

        def spread(values: list[float], digits: int = 2) -> dict[str, float] | None:
            if not values:
                return None
            return {
                "min": round(min(values), digits),
                "mean": round(statistics.fmean(values), digits),
                "max": round(max(values), digits),
            }

        result: dict[str, Any] = {
            "samples": len(samples),
            "seconds": round(samples[-1].at - samples[0].at + self.interval, 1),
            "load1": spread([s.load1 for s in samples]),
            "cpu_busy": spread([s.busy for s in samples if s.busy is not None], 3),
            "cpu_iowait": spread([s.iowait for s in samples if s.iowait is not None], 3),
            "cpu_steal": spread([s.steal for s in samples if s.steal is not None], 3),
        }
        pg = [s for s in samples if s.pg_lock_waiting is not None]
        if pg:
            result["pg_active"] = spread([float(s.pg_active or 0) for s in pg])
            result["pg_lock_waiting"] = spread([float(s.pg_lock_waiting or 0) for s in pg])
            result["pg_samples_with_lock_wait"] = round(sum(1 for s in pg if s.pg_lock_waiting) / len(pg), 3)
        return result

    def report(self) -> dict[str, Any]:
        phases = {}
        for name, started, ended in self.phases:
            inside = [s for s in self.samples if started <= s.at <= ended + self.interval / 2]
            phases[name] = self.summary(inside)
        return {
            "interval_s": self.interval,
            "cpus": os.cpu_count(),
            "started": dt.datetime.fromtimestamp(self._started or time.time(), dt.UTC).isoformat(timespec="seconds"),
            "baseline": self.baseline,
            "whole_run": self.summary(),
            "phases": phases,
            "verdict": self.verdict(),
        }

    def verdict(self) -> str:
        """'quiet' when nothing else ran before the benchmark started; else why not."""
        cpus = os.cpu_count() or 1
        reasons = []
        busy = self.baseline.get("busy")
        if busy is not None and busy > QUIET_BASELINE_BUSY:
            reasons.append(f"{busy:.0%} of the CPUs busy before the run")
        load = self.baseline.get("load1")
        if load is not None and load > QUIET_BASELINE_LOAD_PER_CPU * cpus:
            reasons.append(f"load average {load} on {cpus} CPUs before the run")
        steal = [s.steal for s in self.samples if s.steal is not None]
        if steal and statistics.fmean(steal) > 0.05:
            reasons.append(f"{statistics.fmean(steal):.0%} CPU stolen by the hypervisor")
        return "quiet" if not reasons else "loaded: " + "; ".join(reasons)


def scenario_window(scenario: dict[str, Any]) -> tuple[float, float] | None:
    """(start, end) as time.time() of an httpbench scenario (started_at has whole seconds)."""
    try:
        started = dt.datetime.fromisoformat(scenario["started_at"]).timestamp()
    except (KeyError, ValueError):
        return None
    return started, started + float(scenario.get("duration_s") or 0) + 1.0


def describe(report: dict[str, Any]) -> list[str]:
    """Lines for the terminal and docs/benchmarks.md."""
    lines = [
        f"Machine load (sampled every {report['interval_s']} s over the whole run, {report['cpus']} CPUs): {report['verdict']}."
    ]
    base = report.get("baseline") or {}
    if base:
        busy = f"{base['busy']:.0%}" if base.get("busy") is not None else "?"
        lines.append(f"Before the run: load average {base.get('load1')}, CPUs {busy} busy ({base.get('seconds')} s).")
    for name, part in [("whole run", report["whole_run"]), *report["phases"].items()]:
        if not part.get("samples"):
            continue
        load, busy = part.get("load1") or {}, part.get("cpu_busy") or {}
        text = (
            f"{name}: load average {load.get('mean')} (max {load.get('max')}), "
            f"CPUs {busy.get('mean', 0):.0%} busy on average (max {busy.get('max', 0):.0%})"
        )
        if part.get("pg_samples_with_lock_wait") is not None:
            text += (
                f", a PostgreSQL backend waiting on a lock in {part['pg_samples_with_lock_wait']:.0%} of samples "
                f"(mean {part['pg_lock_waiting']['mean']} waiting of {part['pg_active']['mean']} active)"
            )
        lines.append(text + ".")
    return lines
