"""Creating a case through the web form against the API: time, CPU time and queries per
request, measured in-process through Django's test client (the same view code the server
runs, without the network; no test-environment template instrumentation is installed, so
rendering costs what it costs in the server).

    .venv/bin/python bench/form_create.py [--n 10000] [--db sqlite|postgres] [--runs 40] [--keep DIR]
                                         [--profile api_post|form_get|form_post]

It seeds N demo cases into a scratch data directory (SQLite) or a scratch PostgreSQL database
with the `leitplanke seed --cases` fast path, then runs each step `--runs` times after a
warm-up: `POST /api/v1/cases` (Bearer token), `GET /cases/new/` and `POST /cases/new/` (the
form, answered by a redirect). It prints the median wall time and the median CPU time of this
process per request (on SQLite that includes the database's work; on PostgreSQL the server's
CPU is not in it), the queries per request and the load average. `--profile STEP` prints
cProfile's top functions for that step instead.
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
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def measure(runs: int, profile: str | None) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone

    from leitplanke.accounts import services as accounts
    from leitplanke.accounts.models import Role, User
    from leitplanke.cases.models import CaseType

    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    override_settings(STORAGES=storages).enable()
    user = User.objects.filter(email="bench-form@example.org").first() or accounts.user_create(
        actor=None,
        email="bench-form@example.org",
        full_name="Bench Form",
        password=secrets.token_urlsafe(16),
        language="de",
        roles=[Role.objects.get(key="quality_manager")],
    )
    _token, plain = accounts.api_token_create(actor=user, name="bench-form", scopes=["read", "write"])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    complaint = CaseType.objects.get(key="complaint")
    counter = iter(range(1, 10**6))

    def api_post() -> None:
        n = next(counter)
        body = {
            "case_type": "complaint",
            "subject": f"Benchmark-Beschwerde {n}",
            "description": f"Vom Benchmark angelegt, Durchlauf {n}. Zählerstand falsch übernommen.",
            "channel": "web_form",
            "priority": 3,
            "language": "de",
        }
        response = client.post(
            "/api/v1/cases", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}"
        )
        assert response.status_code == 201, response.content[:300]

    def form_get() -> None:
        response = client.get("/cases/new/")
        assert response.status_code == 200

    def form_post() -> None:
        n = next(counter)
        data = {
            "case_type": complaint.pk,
            "subject": f"Benchmark-Beschwerde {n}",
            "description": f"Vom Benchmark angelegt, Durchlauf {n}. Zählerstand falsch übernommen.",
            "channel": "web_form",
            "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "language": "de",
            "priority": 3,
            "severity": "minor",
        }
        # As a browser sends it (the test client's default is multipart).
        response = client.post("/cases/new/", urlencode(data), content_type="application/x-www-form-urlencoded")
        assert response.status_code == 302, response.content.decode()[-2000:]

    steps = {"api_post": api_post, "form_get": form_get, "form_post": form_post}
    for step in steps.values():  # warm-up: imports, URL resolution, caches
        step()
        step()
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(runs):
            steps[profile]()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        print(json.dumps({"profile": out.getvalue()}))
        return
    results = []
    for name, step in steps.items():
        with CaptureQueriesContext(connection) as captured:
            step()
            queries = len(captured.captured_queries)  # the next request clears the log
        wall, cpu = [], []
        for _ in range(runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            step()
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
        results.append(
            {
                "step": name,
                "wall_ms": round(statistics.median(wall), 2),
                "cpu_ms": round(statistics.median(cpu), 2),
                "queries": queries,
            }
        )
    print(json.dumps({"results": results}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--keep", type=Path, help="use (and keep) this data directory")
    parser.add_argument("--profile", choices=["api_post", "form_get", "form_post"])
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.runs, args.profile)
        return 0
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="leitplanke-form-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leitplanke.config.settings.dev", "LEITPLANKE_DATA_DIR": str(data_dir)}
    database = ""
    if args.db == "postgres":
        marker = data_dir / "database"
        database = marker.read_text() if marker.exists() else f"lp_form_bench_{secrets.token_hex(4)}"
        if not marker.exists():
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
            marker.write_text(database)
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    try:
        if not (data_dir / "seeded").exists():
            subprocess.run([PY, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=900)
            subprocess.run(
                [PY, "manage.py", "leitplanke_seed", "--cases", str(args.n)], cwd=ROOT, env=env, check=True, timeout=3600
            )
            (data_dir / "seeded").touch()
        command = [PY, __file__, "--measure", "--runs", str(args.runs)] + (["--profile", args.profile] if args.profile else [])
        output = subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=1800, capture_output=True, text=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        load = os.getloadavg()
        if "profile" in result:
            print(result["profile"])
        for row in result.get("results", []):
            print(
                f"{args.db} N={args.n:,}  {row['step']:<10} wall median {row['wall_ms']:>7.2f} ms  "
                f"CPU median {row['cpu_ms']:>7.2f} ms  {row['queries']:>3} queries"
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
