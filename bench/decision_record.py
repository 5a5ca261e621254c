#!/usr/bin/env python3
"""Recording decisions over the API (issue 21, target ≥ 200 per second with 2 workers).

    python bench/decision_record.py [--cases 300] [--requests 3000] [--db sqlite|postgres]

Steps (each bounded by a timeout; gunicorn and the scratch data are always removed):
 1. scratch data dir (SQLite) or database leitplanke_decisions_<pid> (PostgreSQL)
 2. migrate, `leitplanke seed --cases N` (the demo organisation with its authority limits),
    the shipped goodwill table published, an API token for the demo agent Jonas Becker
 3. gunicorn, 2 sync workers, 127.0.0.1, DEBUG off (bench/run.py's server environment)
 4. while /work/wt/QUIET exists (other work on the machine waits): the peers' httpbench,
    `POST /api/v1/cases/{id}/decisions` on the agent's cases — the goodwill table evaluated
    for the case, its customer and the context, the authority checked, the record, the
    timeline entry, the audit event and the case's closing amount written — once with an
    Idempotency-Key per request and once without
 5. bench/results/decision-record-<db>.json; the machine check and `uptime` printed

Bounded: at most `--requests` timed requests and 60 s per scenario.

The same requests in process (CPU time and statements per request, no server, no quiet
machine needed to compare two versions of the code): `bench/decision_record_inprocess.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine_load import LoadRecorder, describe
from run import (
    PEERS,
    PYTHON,
    RESULTS,
    free_port,
    log,
    machine_check_seconds,
    run,
    server_env,
    start_server,
    stop_process,
    wait_ready,
)

QUIET = Path("/work/wt/QUIET")
AGENT = "agent@demo.leitplanke.example"

PREPARE = """
import json, django
django.setup()
from leitplanke.accounts import services as accounts
from leitplanke.accounts.models import User
from leitplanke.cases.models import Case
from leitplanke.demo.live_decisions import _published_table

_published_table()
agent = User.objects.get(email=%(agent)r)
_token, plain = accounts.api_token_create(actor=agent, name="bench", scopes=["read", "write"])
teams = list(agent.teams.values_list("pk", flat=True))
ids = list(Case.objects.filter(team_id__in=teams, customer__isnull=False).values_list("pk", flat=True)[:200])
print("RESULT " + json.dumps({"token": plain, "case_ids": ids}))
"""


MINE = f"bench/decision_record.py pid {os.getpid()}\n"
# The peers' client beside the main checkout (a worktree's ../shared may lack it).
PEERS_DIR = PEERS if (PEERS / "httpbench.py").exists() else Path("/work/shared/peers")


def _quiet_off(*_args: Any) -> None:
    """Removes /work/wt/QUIET only if this run wrote it (never another benchmark's)."""
    try:
        if QUIET.read_text(encoding="utf-8") == MINE:
            QUIET.unlink()
    except OSError:
        pass


def _claim_quiet() -> None:
    """Creates /work/wt/QUIET once no other benchmark holds it (exclusive create, no race)."""
    while True:
        _wait_for_quiet()
        try:
            handle = os.open(QUIET, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(MINE)
        return


def _wait_for_quiet() -> None:
    while QUIET.exists():  # another benchmark is measuring: no load from here meanwhile
        log("waiting for /work/wt/QUIET to go")
        time.sleep(30)


def plan(base: str, token: str, case_ids: list[int], requests: int) -> dict[str, Any]:
    body = {
        "table_key": "goodwill_energy_billing",
        "context": {"disputed_amount": 300},
        "kind": "goodwill",
        "amount": "5.00",
        "currency": "EUR",
        "action": "goodwill_credit",
        "message_to_customer": "Wir schreiben Ihnen 5 Euro gut.",
        "justification": "Benchmark",
    }

    def scenario(name: str, headers: dict[str, str]) -> dict[str, Any]:
        return {
            "name": name,
            "concurrency": 4,
            "requests": requests,
            "duration_s": 60,
            "warmup": 20,
            "vars": {"case": {"choice": case_ids}},
            "steps": [
                {
                    "method": "POST",
                    "path": "/api/v1/cases/${case}/decisions",
                    "json": body,
                    "headers": {"Content-Type": "application/json", **headers},
                    "expect": [201],
                }
            ],
        }

    return {
        "base_url": base,
        "headers": {"Authorization": f"Bearer {token}"},
        "scenarios": [
            scenario("decision_record_idempotent", {"Idempotency-Key": "${uuid}"}),
            scenario("decision_record", {}),
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="leitplanke-decisions-"))
    env = server_env(scratch)
    database = f"leitplanke_decisions_{os.getpid()}"
    if args.db == "postgres":
        from run import pg_admin

        pg_admin(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    signal.signal(signal.SIGTERM, lambda *_: (_quiet_off(), sys.exit(1)))
    recorder = LoadRecorder(interval=0.5)
    result: dict[str, Any] = {"db": args.db, "cases": args.cases, "workers": 2}
    server = None
    try:
        _wait_for_quiet()
        run([PYTHON, "-m", "leitplanke.cli", "migrate"], env, 600)
        run([PYTHON, "-m", "leitplanke.cli", "seed", "--cases", str(args.cases)], env, 900)
        out = run([PYTHON, "-c", PREPARE % {"agent": AGENT}], env, 300, capture=True)
        prepared = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[len("RESULT ") :])
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(env, scratch, port)
        wait_ready(base + "/healthz", server, 60)
        plan_file, raw_file = scratch / "plan.json", scratch / "httpbench.json"
        plan_file.write_text(json.dumps(plan(base, prepared["token"], prepared["case_ids"], args.requests)), encoding="utf-8")
        _claim_quiet()
        try:
            result["machine_check_seconds_before"] = machine_check_seconds()
            result["uptime_before"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
            recorder.start()
            started = time.time()
            run([PYTHON, str(PEERS_DIR / "httpbench.py"), "--plan", str(plan_file), "--out", str(raw_file)], env, 600)
            recorder.phase("decisions", started, time.time())
            recorder.stop()
            result["machine_check_seconds_after"] = machine_check_seconds()
            result["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        finally:
            _quiet_off()
        result["scenarios"] = {s["name"]: s for s in json.loads(raw_file.read_text(encoding="utf-8"))["scenarios"]}
        count = (
            "import django; django.setup(); from collections import Counter; "
            "from leitplanke.decisions.models import DecisionRecord; "
            "print(dict(Counter(DecisionRecord.objects.values_list('status', flat=True))))"
        )
        result["records_by_status"] = run([PYTHON, "-c", count], env, 120, capture=True).strip()
    finally:
        stop_process(server)
        recorder.stop()
        _quiet_off()
        shutil.rmtree(scratch, ignore_errors=True)
        if args.db == "postgres":
            from run import pg_admin

            pg_admin(f'DROP DATABASE IF EXISTS "{database}"')
    result["machine"] = {"load": recorder.report()}
    for line in describe(result["machine"]["load"]):
        log(line)
    RESULTS.mkdir(exist_ok=True)
    out_file = RESULTS / f"decision-record-{args.db}.json"
    out_file.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    for name, s in result.get("scenarios", {}).items():
        latency = s.get("latency_ms", {})
        log(
            f"{name}: {s.get('requests')} requests, {s.get('errors')} errors, {s.get('rps')} req/s, "
            f"p50 {latency.get('p50')} ms, p95 {latency.get('p95')} ms, queries p50 {(s.get('queries') or {}).get('p50')}"
        )
    before, after = result.get("machine_check_seconds_before"), result.get("machine_check_seconds_after")
    log(f"machine check {before} s before, {after} s after")
    log(f"uptime before: {result.get('uptime_before')}")
    log(f"uptime after: {result.get('uptime_after')}")
    log(f"records: {result.get('records_by_status')}")
    log(f"written {out_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
