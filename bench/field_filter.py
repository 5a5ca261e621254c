"""Case-list filters by a custom field's range (the demo's disputed amount on complaints) at
several sizes: the list page `/cases/?case_type=complaint&cf.amount_disputed.min=…` measured
in-process through Django's test client (the same view code the server runs, without the
network), with the query plans of the queries that filter.

    .venv/bin/python bench/field_filter.py --n 100000 [--n 1000000] [--db sqlite|postgres] [--runs 9]
    .venv/bin/python bench/field_filter.py --n 100000 --src /path/to/other/checkout/src   # before/after

For each N it seeds N demo cases into a scratch data directory (SQLite) or a scratch
PostgreSQL database (127.0.0.1:5432, user postgres) with the `leitplanke seed --cases` fast
path, then requests the list page `--runs` times per range (after one warm-up) and prints the
median and the fastest time and the number of queries. The seed gives complaints on payment topics a
disputed amount of 5–899 EUR (whole euros; about 17 % of cases): "rare" (899 EUR and more, about 1 in 900 of
those), "narrow" (850–899 EUR, about 6 %: driven by the matches up to about 200,000
cases, beyond that the page walks), "absent" (5,000 EUR and more) and "common" (5 EUR and
more: every amount). `--src` runs seed and measurement with the `leitplanke` package of
another checkout (e.g. the code before a change). The machine's load average is printed with
the figures. Scratch data is removed unless --keep is given.
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
FIELD = "cf.amount_disputed"
RANGES = {
    "rare": {f"{FIELD}.min": "899"},
    "narrow": {f"{FIELD}.min": "850", f"{FIELD}.max": "899"},
    "absent": {f"{FIELD}.min": "5000"},
    "common": {f"{FIELD}.min": "5"},
}


def _explain(sql: str, params: tuple) -> str:
    from django.db import connection

    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        rows = cursor.fetchall()
    return "\n".join(f"    {row[-1] if connection.vendor == 'sqlite' else row[0]}" for row in rows)


def measure(runs: int) -> None:
    """Runs inside the Django environment: the list page per range, `runs` times each."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from leitplanke.accounts.models import Role, User
    from leitplanke.accounts.services import user_create
    from leitplanke.cases import list_selectors

    user = User.objects.filter(email="bench-filter@example.org").first() or user_create(
        actor=None,
        email="bench-filter@example.org",
        full_name="Bench Filter",
        password=secrets.token_urlsafe(16),
        language="en",
        roles=[Role.objects.get(key="quality_manager")],
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    # The scratch data directory has no collected static files: plain static URLs.
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    override_settings(STORAGES=storages).enable()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # both databases: fresh statistics after the seed
    results = []
    for label, filters in RANGES.items():
        params = {"case_type": "complaint", **filters}
        response = client.get("/cases/", params)  # warm-up
        assert response.status_code == 200, response.status_code
        shown = len(list_selectors.case_list_page(actor=user, params=params, cursor=None).items)
        count = list_selectors.case_count_estimate(actor=user, params=params)
        with CaptureQueriesContext(connection) as captured:
            client.get("/cases/", params)
        filtering = [
            (q["sql"], q.get("params") or ())
            for q in captured.captured_queries
            if q["sql"].startswith("SELECT") and ("casefieldvalue" in q["sql"] or 'FROM "cases_case"' in q["sql"])
        ]
        query_count = len(captured.captured_queries)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get("/cases/", params)
            times.append((time.perf_counter() - started) * 1000)
        results.append(
            {
                "label": label,
                "filters": filters,
                "median_ms": round(statistics.median(times), 1),
                "min_ms": round(min(times), 1),
                "queries": query_count,
                "shown": shown,
                "count": f"{count.value}{'+' if count.capped else ''}",
                "plans": [{"sql": sql[:300], "plan": _safe_explain(sql)} for sql, _params in filtering],
            }
        )
    print(json.dumps(results))


def _safe_explain(sql: str) -> str:
    """EXPLAIN of a captured query (its parameters are inlined in the captured text)."""
    try:
        return _explain(sql, ())
    except Exception as error:
        return f"    (no plan: {error})"


def run_one(n: int, db: str, runs: int, keep: Path | None, src: Path | None) -> list[dict]:
    data_dir = keep or Path(tempfile.mkdtemp(prefix="leitplanke-filter-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leitplanke.config.settings.dev", "LEITPLANKE_DATA_DIR": str(data_dir)}
    if src:
        env["PYTHONPATH"] = str(src.resolve())
    database = ""
    if db == "postgres":
        marker = data_dir / "database"
        database = marker.read_text() if marker.exists() else f"lp_filter_bench_{secrets.token_hex(4)}"
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
    parser.add_argument("--src", type=Path, help="the src directory of another checkout to measure (before/after)")
    parser.add_argument("--plans", action="store_true", help="print the query plans")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.runs)
        return 0
    sizes = args.n or [100_000]
    if args.keep and len(sizes) > 1:
        parser.error("--keep takes one --n")
    for n in sizes:
        rows = run_one(n, args.db, args.runs, args.keep, args.src)
        load = os.getloadavg()
        for row in rows:
            print(
                f"{args.db} N={n:>9,}  {row['label']:<6} {json.dumps(row['filters']):<62} median {row['median_ms']:>7.1f} ms  "
                f"min {row['min_ms']:>7.1f} ms  {row['queries']} queries  {row['shown']} shown, count {row['count']}"
            )
            if args.plans:
                for plan in row["plans"]:
                    print(f"  {plan['sql']}\n{plan['plan']}")
        print(f"load average after N={n:,} (1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
