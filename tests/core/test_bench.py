"""The benchmark harness (bench/run.py): where it runs and what it records."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_bench() -> ModuleType:
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
