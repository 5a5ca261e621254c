"""Recording a decision over the API, in process: CPU time, wall time and queries per request
(issue 21), through Django's test client — the same view and service code the server runs,
without the network, gunicorn or httpbench (so it needs no quiet machine to compare two
versions of the code; `bench/decision_record.py` measures over HTTP).

    .venv/bin/python bench/decision_record_inprocess.py [--cases 300] [--db sqlite|postgres] [--runs 200]
                                                        [--keep DIR] [--profile plain|keyed]

It seeds the demo organisation (`leitplanke seed --cases N`, with its authority limits) into a
scratch data directory (SQLite) or a scratch PostgreSQL database, publishes the shipped goodwill
table as `bench/decision_record.py` does, and then posts `POST /api/v1/cases/{id}/decisions` as
the demo agent on his team's cases (the same body as the HTTP benchmark), `--runs` times after
a warm-up, without (`plain`) and with an `Idempotency-Key` (`keyed`). It prints per scenario
the median and p90 CPU time of this process per request (on SQLite that includes the
database's work; on PostgreSQL the server's CPU is not in it), the median wall time, the
queries of a final and of a pending decision (awaiting approval: the table asks for it on a
customer's third complaint, or the customer's yearly limit is used up) and the load average.
`--profile STEP` prints cProfile's top functions for that scenario instead.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
AGENT = "agent@demo.leitplanke.example"
BODY = {
    "table_key": "goodwill_energy_billing",
    "context": {"disputed_amount": 300},
    "kind": "goodwill",
    "amount": "5.00",
    "currency": "EUR",
    "action": "goodwill_credit",
    "message_to_customer": "Wir schreiben Ihnen 5 Euro gut.",
    "justification": "Benchmark",
}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(runs: int, profile: str | None) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from leitplanke.accounts import services as accounts
    from leitplanke.accounts.models import User
    from leitplanke.cases.models import Case
    from leitplanke.demo.live_decisions import _published_table

    _published_table()
    agent = User.objects.get(email=AGENT)
    _token, plain = accounts.api_token_create(actor=agent, name="bench-inprocess", scopes=["read", "write"])
    teams = list(agent.teams.values_list("pk", flat=True))
    mine = Case.objects.filter(team_id__in=teams, customer__isnull=False).order_by("pk")
    case_ids = list(mine.values_list("pk", flat=True)[:200])
    client = Client(HTTP_HOST="127.0.0.1")
    body = json.dumps(BODY)
    counter = iter(range(10**7))

    def post(keyed: bool) -> dict[str, Any]:
        case_id = case_ids[next(counter) % len(case_ids)]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
        if keyed:
            headers["HTTP_IDEMPOTENCY_KEY"] = str(uuid.uuid4())
        response = client.post(f"/api/v1/cases/{case_id}/decisions", body, content_type="application/json", **headers)
        assert response.status_code == 201, response.content[:500]
        return response.json()  # type: ignore[no-any-return]

    scenarios = {"plain": False, "keyed": True}
    for keyed in scenarios.values():  # warm-up: imports, URL resolution, caches, compiled statements
        for _ in range(5):
            post(keyed)
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(runs):
            post(scenarios[profile])
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
        out.write("\n--- by own time ---\n")
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
        print(json.dumps({"profile": out.getvalue()}))
        return
    results = []
    for name, keyed in scenarios.items():
        queries: dict[str, int] = {}
        wall, cpu = [], []
        by_status: dict[str, list[float]] = {}
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started, started_cpu = time.perf_counter(), time.process_time()
                data = post(keyed)
                spent = (time.process_time() - started_cpu) * 1000
                wall.append((time.perf_counter() - started) * 1000)
            cpu.append(spent)
            by_status.setdefault(data["status"], []).append(spent)
            queries.setdefault(data["status"], len(captured.captured_queries))
        results.append(
            {
                "scenario": name,
                "cpu_ms": round(statistics.median(cpu), 2),
                "cpu_p90_ms": round(_percentile(cpu, 0.9), 2),
                "wall_ms": round(statistics.median(wall), 2),
                "queries": queries,
                "by_status": {status: {"n": len(v), "cpu_ms": round(statistics.median(v), 2)} for status, v in by_status.items()},
            }
        )
    print(json.dumps({"results": results}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="use (and keep) this data directory")
    parser.add_argument("--profile", choices=["plain", "keyed"])
    parser.add_argument("--seed-only", action="store_true", help="with --keep: seed the directory, measure nothing")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.runs, args.profile)
        return 0
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="leitplanke-decision-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leitplanke.config.settings.dev",
        "LEITPLANKE_DATA_DIR": str(data_dir),
        "LEITPLANKE_SECRET_KEY": secrets.token_urlsafe(50),
        "LEITPLANKE_DEBUG": "0",
        "LEITPLANKE_LOG_LEVEL": "WARNING",
        "LEITPLANKE_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    database = ""
    if args.db == "postgres":
        marker = data_dir / "database"
        database = marker.read_text() if marker.exists() else f"lp_decision_bench_{secrets.token_hex(4)}"
        if not marker.exists():
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
            marker.write_text(database)
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    try:
        if not (data_dir / "seeded").exists():
            subprocess.run([PY, "-m", "leitplanke.cli", "migrate"], cwd=ROOT, env=env, check=True, timeout=900)
            subprocess.run(
                [PY, "-m", "leitplanke.cli", "seed", "--cases", str(args.cases)], cwd=ROOT, env=env, check=True, timeout=1800
            )
            (data_dir / "seeded").touch()
        if args.seed_only:
            return 0
        command = [PY, __file__, "--measure", "--runs", str(args.runs)] + (["--profile", args.profile] if args.profile else [])
        output = subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=1800, capture_output=True, text=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        load = os.getloadavg()
        if "profile" in result:
            print(result["profile"])
        for row in result.get("results", []):
            statuses = ", ".join(f"{s} {v['n']}× {v['cpu_ms']:.2f} ms" for s, v in row["by_status"].items())
            queries = ", ".join(f"{s} {n}" for s, n in row["queries"].items())
            print(
                f"{args.db} {row['scenario']:<6} CPU median {row['cpu_ms']:>6.2f} ms (p90 {row['cpu_p90_ms']:.2f})  "
                f"wall median {row['wall_ms']:>6.2f} ms  queries: {queries}  [{statuses}]"
            )
        print(f"load average (1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            if database:
                subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
