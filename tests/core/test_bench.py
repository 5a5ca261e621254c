"""The benchmark harness (bench/run.py): where it runs and what it records."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_bench() -> ModuleType:
    if str(REPO / "bench") not in sys.path:  # run.py imports its sibling machine_load, as when run as a script
        sys.path.insert(0, str(REPO / "bench"))
    spec = importlib.util.spec_from_file_location("bench_run", REPO / "bench" / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_peer_harness_gets_the_port_of_the_run(tmp_path: Path) -> None:
    bench = load_bench()
    command = bench.peer_command(1000, "postgres", 8108, tmp_path / "peer.json")
    assert command[0].endswith("django-helpdesk/run.sh")
    assert command[command.index("--port") + 1] == "8108"
    assert command[command.index("--db") + 1] == "postgres"


@pytest.mark.skipif(not (load_bench().PEERS / "django-helpdesk" / "run.sh").exists(), reason="peer harness not beside the repo")
def test_peer_harness_takes_a_port_option() -> None:
    usage = subprocess.run(
        ["bash", str(load_bench().PEERS / "django-helpdesk" / "run.sh"), "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert usage.returncode == 0 and "--port P" in usage.stdout


def test_make_bench_passes_its_port_only_when_given() -> None:
    env = {key: value for key, value in os.environ.items() if key not in {"PORT", "MAKEFLAGS"}}

    def dry_run(*args: str) -> str:
        result = subprocess.run(
            ["make", "-n", "bench", "N=1000", *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
        )
        return [line for line in result.stdout.splitlines() if "bench/run.py" in line][-1]

    assert "--port 8108" in dry_run("PORT=8108")
    assert "--port" not in dry_run()


def load_machine_load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("machine_load", REPO / "bench" / "machine_load.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_load_recorder_samples_the_machine_over_the_run() -> None:
    machine_load = load_machine_load()
    recorder = machine_load.LoadRecorder(interval=0.05)
    recorder.measure_baseline(0.1)
    recorder.start()
    with recorder.during("busy"):
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            sum(i * i for i in range(10_000))
    recorder.stop()
    report = recorder.report()
    assert report["whole_run"]["samples"] >= 1
    assert report["whole_run"]["load1"]["max"] >= 0
    if Path("/proc/stat").exists():
        assert 0 <= report["whole_run"]["cpu_busy"]["mean"] <= 1
        assert report["baseline"]["busy"] is not None
    assert "busy" in report["phases"]
    assert report["verdict"] == "quiet" or report["verdict"].startswith("loaded: ")
    lines = machine_load.describe(report)
    assert lines[0].startswith("Machine load (sampled every 0.05 s over the whole run")


def test_load_verdict_discards_a_run_on_a_busy_machine() -> None:
    machine_load = load_machine_load()
    busy = machine_load.LoadRecorder(baseline={"seconds": 3, "load1": 7.9, "busy": 1.0})
    busy.samples = [machine_load.Sample(at=1.0, load1=8.0, busy=1.0, iowait=0.0, steal=0.0, pg_active=2, pg_lock_waiting=1)]
    assert busy.verdict().startswith("loaded: 100% of the CPUs busy before the run")
    summary = busy.summary()
    assert summary["pg_samples_with_lock_wait"] == 1.0 and summary["pg_lock_waiting"]["mean"] == 1.0
    quiet = machine_load.LoadRecorder(baseline={"seconds": 3, "load1": 0.1, "busy": 0.02})
    assert quiet.verdict() == "quiet"


def test_scenarios_are_placed_in_time_by_their_start_and_duration() -> None:
    machine_load = load_machine_load()
    window = machine_load.scenario_window({"started_at": "2026-12-03T00:00:00+00:00", "duration_s": 30.5})
    assert window is not None and window[1] - window[0] == pytest.approx(31.5)
    assert machine_load.scenario_window({}) is None
