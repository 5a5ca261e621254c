#!/usr/bin/env python3
"""Deadline clocks at scale (issue 20): the escalation job and the list by next due time
with N open cases and three clocks each, on PostgreSQL.

    python bench/escalation.py --database NAME [--n 1000000] [--backlog 500] [--requests 400]

`--database` names a database on 127.0.0.1:5432 (user postgres). If it does not exist it is
created, migrated and seeded with `leitplanke seed --cases N` (minutes at a million); if it
exists (for example one kept by `bench/run.py --keep`) it is reused. Then, in SQL:

1. every case is made open ("in_progress") and gets the three clocks of a complaint (the
   complaint type's rule versions), started up to 40 days ago, due 28 days later, warned
   five days before — 3·N running clocks spread over time like a live system's;
2. the thresholds that passed before the job's last run (one interval, 60 s, ago) are
   marked handled, as a running system would have; `cases_case.next_due_at` and
   `next_warn_at` are set from the clocks; VACUUM ANALYZE.

Measured, each in-process through the real job (`clock_services.escalate_due_clocks`):

- "steady": one run, which finds what crossed a threshold in the last minute;
- "backlog": the last `--backlog` warnings and breaches un-handled again (a run after an
  outage), one run (the job handles up to 500 per threshold per run);
- "idle": a run with nothing due;
- the candidate queries' plans (EXPLAIN ANALYZE), which must read the partial indexes.

Then gunicorn (2 sync workers, 127.0.0.1) and the peers' httpbench: the case list sorted by
next due for a quality manager (sees all N), the overdue filter, and an agent's default
list (next due first). The machine's load is recorded as in bench/run.py. Changes the
database it is given (cases opened, clocks replaced): use a scratch copy.
"""

# The SQL below is built from this file's own constants and the rule ids the database gave.
# ruff: noqa: S608
from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine_load import LoadRecorder, describe
from run import (
    BENCH,
    PEERS,
    PYTHON,
    RESULTS,
    browser_login,
    free_port,
    log,
    run,
    server_env,
    start_server,
    stop_process,
    wait_ready,
)

INTERVAL_S = 60  # the job's schedule (cases.tasks.escalate_deadlines)
DEMO_PASSWORD = "Rheinfeld-Demo-2026"
AGENT = "agent@demo.leitplanke.example"  # Jonas Becker, agent in the energy team


def psql(dsn_db: str, sql: str) -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", dsn_db, "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=3600,
    ).stdout.strip()


def database_exists(name: str) -> bool:
    return psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def prepare_clocks(db: str) -> dict[str, float]:
    """Every case open with three running clocks; past thresholds handled (see module doc)."""
    timings = {}
    rules = psql(
        db,
        "SELECT string_agg(r.id::text || ':' || r.key, ',') FROM deadlines_deadlinerule r "
        "JOIN cases_casetype t ON t.key = 'complaint' "
        "WHERE r.key IN (SELECT jsonb_array_elements_text(t.deadline_rules::jsonb)) "
        "AND r.version = (SELECT max(version) FROM deadlines_deadlinerule x WHERE x.key = r.key)",
    )
    pairs = [item.split(":", 1) for item in rules.split(",")][:3]
    log(f"clocks of the rules {pairs}")
    values = ", ".join(f"({rule_id}, '{key}', {index})" for index, (rule_id, key) in enumerate(pairs))
    steps = [
        (
            "open_cases",
            "UPDATE cases_case SET status = 'in_progress', status_kind = 'open', closed_at = NULL "
            "WHERE status_kind <> 'open' OR status <> 'in_progress'",
        ),
        ("drop_clocks", "TRUNCATE cases_caseclock"),
        (
            "insert_clocks",
            # Started up to 40 days ago (hash of the id, so runs are repeatable), each rule
            # a few hours apart; due 28 days after the start, warning 5 days before that.
            "INSERT INTO cases_caseclock (case_id, rule_id, rule_key, jurisdiction, time_zone, started_at, due_at, "
            "warn_at, pauses, extensions, state, explanation) "
            "SELECT c.id, r.rule_id, r.rule_key, 'DE-NW', 'Europe/Berlin', s.started, "
            "s.started + interval '28 days', s.started + interval '23 days', '[]', '[]', 'running', '{}' "
            "FROM cases_case c CROSS JOIN (VALUES " + values + ") AS r(rule_id, rule_key, n) "
            "CROSS JOIN LATERAL (SELECT now() - (abs(hashint8(c.id * 3 + r.n)) % (40 * 86400)) * interval '1 second' "
            "AS started) s",
        ),
        (
            "mark_handled",
            f"UPDATE cases_caseclock SET warned_at = CASE WHEN warn_at <= now() - interval '{INTERVAL_S} seconds' "
            f"THEN warn_at END, breach_notified_at = CASE WHEN due_at <= now() - interval '{INTERVAL_S} seconds' "
            "THEN due_at END",
        ),
        (
            "case_next_due",
            "UPDATE cases_case c SET next_due_at = m.due, next_warn_at = m.warn FROM (SELECT case_id, min(due_at) AS due, "
            "min(warn_at) AS warn FROM cases_caseclock GROUP BY case_id) m WHERE m.case_id = c.id",
        ),
        ("vacuum_analyze", "VACUUM ANALYZE"),
    ]
    for name, sql in steps:
        started = time.monotonic()
        psql(db, sql)
        timings[name] = round(time.monotonic() - started, 1)
        log(f"{name}: {timings[name]} s")
    return timings


def job_runs(env: dict[str, str], backlog: int) -> dict[str, Any]:
    """The job in a child process with the benchmark's environment (Django set up there)."""
    code = f"""
import json, time, django
django.setup()
from django.db import connection
from django.utils import timezone
from leitplanke.cases.clock_services import escalate_due_clocks
from leitplanke.cases.models import CaseClock

def timed():
    started = time.perf_counter()
    handled = escalate_due_clocks()
    return {{"seconds": round(time.perf_counter() - started, 3), "handled": handled}}

def plans():
    out = {{}}
    with connection.cursor() as cursor:
        for name, field, mark in (("warning", "warn_at", "warned_at"), ("breach", "due_at", "breach_notified_at")):
            cursor.execute(
                f"EXPLAIN (ANALYZE, BUFFERS) SELECT id, case_id FROM cases_caseclock WHERE state = 'running' "
                f"AND {{mark}} IS NULL AND {{field}} <= now() ORDER BY {{field}}, id LIMIT 500"
            )
            out[name] = [row[0] for row in cursor.fetchall()]
    return out

result = {{"clocks": CaseClock.objects.count(), "plans_before": plans(), "steady": timed()}}
with connection.cursor() as cursor:
    for field, mark in (("warn_at", "warned_at"), ("due_at", "breach_notified_at")):
        cursor.execute(
            f"UPDATE cases_caseclock SET {{mark}} = NULL WHERE id IN (SELECT id FROM cases_caseclock "
            f"WHERE state = 'running' AND {{field}} <= now() ORDER BY {{field}} DESC LIMIT {backlog})"
        )
result["backlog"] = timed()
result["idle"] = timed()
print("RESULT " + json.dumps(result))
"""
    out = run([PYTHON, "-c", code], env, 1800, capture=True)
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def list_plan(base: str, qm_cookie: str, agent_cookie: str, requests: int) -> dict[str, Any]:
    def scenario(name: str, path: str, cookie: str) -> dict[str, Any]:
        return {
            "name": name,
            "concurrency": 4,
            "requests": requests,
            "duration_s": 60,
            "steps": [{"path": path, "headers": {"Cookie": cookie}, "expect": [200]}],
        }

    return {
        "base_url": base,
        "headers": {},
        "scenarios": [
            scenario("list_next_due_all", "/cases/?sort=due", qm_cookie),
            scenario("list_overdue", "/cases/?sort=due&deadline=overdue", qm_cookie),
            scenario("list_agent_default", "/cases/", agent_cookie),
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--backlog", type=int, default=500)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--skip-prepare", action="store_true", help="the clocks are in place already")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="leitplanke-escalation-"))
    env = {**server_env(scratch), "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}"}
    recorder = LoadRecorder(interval=0.5, pg_dsn=f"postgresql://postgres@127.0.0.1:5432/{args.database}")
    baseline = recorder.measure_baseline()
    log(f"machine before the run: load average {baseline['load1']}, CPUs {baseline['busy']} busy")
    recorder.start()
    result: dict[str, Any] = {"database": args.database}
    server = None
    try:
        if not database_exists(args.database):
            psql("postgres", f'CREATE DATABASE "{args.database}"')
            run([PYTHON, "-m", "leitplanke.cli", "migrate"], env, 600)
            started = time.time()
            run([PYTHON, "-m", "leitplanke.cli", "seed", "--cases", str(args.n)], env, max(900, args.n / 100))
            recorder.phase("seed", started, time.time())
        result["cases"] = int(psql(args.database, "SELECT count(*) FROM cases_case"))
        if not args.skip_prepare:
            started = time.time()
            result["prepare_seconds"] = prepare_clocks(args.database)
            recorder.phase("prepare", started, time.time())
        started = time.time()
        result["job"] = job_runs(env, args.backlog)
        recorder.phase("job", started, time.time())
        log(json.dumps({k: v for k, v in result["job"].items() if k != "plans_before"}))
        run([PYTHON, "manage.py", "collectstatic", "--no-input", "-v", "0"], env, 300)
        password = secrets.token_urlsafe(16) + "-Aa1"
        run([PYTHON, str(BENCH / "prepare.py"), "escalation-bench@bench.leitplanke.example", password], env, 600)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(env, scratch, port)
        wait_ready(base + "/healthz", server, 60)
        plan = list_plan(
            base,
            browser_login(base, "escalation-bench@bench.leitplanke.example", password),
            browser_login(base, AGENT, DEMO_PASSWORD),
            args.requests,
        )
        plan_file, raw_file = scratch / "plan.json", scratch / "httpbench.json"
        plan_file.write_text(json.dumps(plan), encoding="utf-8")
        started = time.time()
        run([PYTHON, str(PEERS / "httpbench.py"), "--plan", str(plan_file), "--out", str(raw_file)], env, 900)
        recorder.phase("list", started, time.time())
        result["list"] = {s["name"]: s for s in json.loads(raw_file.read_text(encoding="utf-8"))["scenarios"]}
    finally:
        stop_process(server)
        recorder.stop()
    result["machine"] = {"load": recorder.report()}
    for line in describe(result["machine"]["load"]):
        log(line)
    out = RESULTS / f"escalation-postgres-{result.get('cases', args.n)}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    for name, s in result.get("list", {}).items():
        latency = s.get("latency_ms", {})
        log(f"{name}: {s.get('rps')} req/s, p50 {latency.get('p50')} ms, p95 {latency.get('p95')} ms")
    log(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
