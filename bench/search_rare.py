"""Case-list search for a rare word, an absent word and a common word at several sizes:
the list page `/cases/?q=<word>` measured in-process through Django's test client (the same
view code the server runs, without the network), with the query plans of its search queries.

    .venv/bin/python bench/search_rare.py --n 10000 --n 100000 [--db sqlite|postgres] [--runs 9]

For each N it seeds N demo cases into a scratch data directory (SQLite) or a scratch
PostgreSQL database (127.0.0.1:5432, user postgres) with the `leitplanke seed --cases` fast
path, then requests the list page `--runs` times per word (after one warm-up) and prints the
median and the fastest time, the number of queries, and EXPLAIN of the queries that search.
The rare word is the meter number of the oldest case (one match, at the far end of the list's
sort order); the absent word is found in no case; "Zählerstand" is in about 18 % of cases.
The machine's load average is printed with the figures. Scratch data is removed unless
--keep is given.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ABSENT = "Quellwasserkarussell"
COMMON = "Zählerstand"


def _rare_word() -> str:
    import re

    from leitplanke.cases.models import CaseSearchDocument

    documents = CaseSearchDocument.objects.filter(text__contains="1ESY").order_by("case__received_at", "case_id")
    for text in documents.values_list("text", flat=True)[:50]:
        if match := re.search(r"1ESY\d{8}", text):
            return match.group(0)
    raise SystemExit("no meter number in the seeded data")


def _explain(sql: str) -> str:
    from django.db import connection

    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        rows = cursor.fetchall()
    if connection.vendor == "sqlite":
        return "\n".join(f"    {row[-1]}" for row in rows)
    return "\n".join(f"    {row[0]}" for row in rows)


def measure(runs: int) -> None:
    """Runs inside the Django environment: the list page per word, `runs` times each."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from leitplanke.accounts.models import Role, User
    from leitplanke.accounts.services import user_create

    user = User.objects.filter(email="bench-search@example.org").first() or user_create(
        actor=None,
        email="bench-search@example.org",
        full_name="Bench Search",
        password=secrets.token_urlsafe(16),
        language="en",
        roles=[Role.objects.get(key="quality_manager")],
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    # The scratch data directory has no collected static files: plain static URLs.
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    override_settings(STORAGES=storages).enable()
    words = {"rare": _rare_word(), "absent": ABSENT, "common": COMMON}
    results = []
    for label, word in words.items():
        response = client.get("/cases/", {"q": word})  # warm-up
        assert response.status_code == 200, response.status_code
        with CaptureQueriesContext(connection) as captured:
            client.get("/cases/", {"q": word})
        searching = [
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].startswith("SELECT") and ("search" in q["sql"] or 'FROM "cases_case"' in q["sql"])
        ]
        query_count = len(captured.captured_queries)  # the next request clears the log
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get("/cases/", {"q": word})
            times.append((time.perf_counter() - started) * 1000)
        results.append(
            {
                "label": label,
                "word": word,
                "median_ms": round(statistics.median(times), 1),
                "min_ms": round(min(times), 1),
                "queries": query_count,
                "plans": [{"sql": sql[:300], "plan": _explain(sql)} for sql in searching],
            }
        )
    print(json.dumps(results))


def run_one(n: int, db: str, runs: int, keep: Path | None) -> list[dict]:
    data_dir = keep or Path(tempfile.mkdtemp(prefix="leitplanke-search-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leitplanke.config.settings.dev", "LEITPLANKE_DATA_DIR": str(data_dir)}
    database = ""
    if db == "postgres":
        marker = data_dir / "database"
        database = marker.read_text() if marker.exists() else f"lp_search_bench_{secrets.token_hex(4)}"
        if not marker.exists():
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
            marker.write_text(database)
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    try:
        if not (data_dir / "seeded").exists():
            subprocess.run([PY, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=900)
            subprocess.run([PY, "manage.py", "leitplanke_seed", "--cases", str(n)], cwd=ROOT, env=env, check=True, timeout=3600)
            (data_dir / "seeded").touch()
        output = subprocess.run(
            [PY, __file__, "--measure", "--runs", str(runs)],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=1800,
            capture_output=True,
            text=True,
        ).stdout
        return json.loads(output.strip().splitlines()[-1])
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            if database:
                subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, action="append", help="number of cases (repeat for several sizes)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--keep", type=Path, help="with one --n: use (and keep) this data directory")
    parser.add_argument("--plans", action="store_true", help="print the query plans")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.runs)
        return 0
    sizes = args.n or [10_000, 100_000]
    if args.keep and len(sizes) > 1:
        parser.error("--keep takes one --n")
    for n in sizes:
        rows = run_one(n, args.db, args.runs, args.keep)
        load = os.getloadavg()
        for row in rows:
            print(
                f"{args.db} N={n:>9,}  {row['label']:<6} {row['word']!r:<24} median {row['median_ms']:>7.1f} ms  "
                f"min {row['min_ms']:>7.1f} ms  {row['queries']} queries"
            )
            if args.plans:
                for plan in row["plans"]:
                    print(f"  {plan['sql']}\n{plan['plan']}")
        print(f"load average after N={n:,} (1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
