"""Case-list export at scale: time to the first byte, total time, size and peak memory of
the CSV and the XLSX export of every case, measured in-process through Django's test client
(the same view code the server runs, without the network).

    .venv/bin/python bench/export_first_byte.py --n 100000 [--db sqlite|postgres] [--keep DIR]

It seeds N demo cases into a scratch data directory (SQLite) or a scratch PostgreSQL
database (127.0.0.1:5432, user postgres), runs each export once, prints one line per format
and the machine's load average, and removes the scratch data unless --keep is given. Bounded:
one export per format; the seed is the `leitplanke seed --cases` fast path.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def measure() -> None:
    """Runs inside the Django environment: one export per format."""
    import django

    django.setup()
    from django.test import Client

    from leitplanke.accounts.models import Role, User
    from leitplanke.accounts.services import user_create

    user = User.objects.filter(email="bench-export@example.org").first() or user_create(
        actor=None,
        email="bench-export@example.org",
        full_name="Bench Export",
        password=secrets.token_urlsafe(16),
        language="en",
        roles=[Role.objects.get(key="quality_manager")],
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    for fmt in ("csv", "xlsx"):  # warm up: imports, URL resolution, first queries
        b"".join(client.get(f"/cases/export.{fmt}", {"q": "no-such-word-anywhere"}).streaming_content)
    results = []
    for fmt in ("csv", "xlsx"):
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        response = client.get(f"/cases/export.{fmt}")
        chunks = iter(response.streaming_content)
        first = next(chunks)
        first_byte = time.perf_counter() - started
        size = len(first) + sum(len(chunk) for chunk in chunks)
        total = time.perf_counter() - started
        results.append(
            {
                "format": fmt,
                "status": response.status_code,
                "rows": int(response["X-Export-Rows"]),
                "first_byte_s": round(first_byte, 3),
                "total_s": round(total, 2),
                "bytes": size,
                "peak_rss_growth_mb": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024, 1),
            }
        )
    print(json.dumps(results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--keep", type=Path, help="use (and keep) this data directory instead of a scratch one")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure()
        return 0
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="leitplanke-export-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leitplanke.config.settings.dev", "LEITPLANKE_DATA_DIR": str(data_dir)}
    database = ""
    if args.db == "postgres":
        database = f"lp_export_bench_{secrets.token_hex(4)}"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    try:
        fresh = not (data_dir / "seeded").exists()
        if fresh:
            subprocess.run([PY, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=900)
            subprocess.run(
                [PY, "manage.py", "leitplanke_seed", "--cases", str(args.n)], cwd=ROOT, env=env, check=True, timeout=3600
            )
            (data_dir / "seeded").touch()
        output = subprocess.run(
            [PY, __file__, "--measure"], cwd=ROOT, env=env, check=True, timeout=1800, capture_output=True, text=True
        ).stdout
        load = os.getloadavg()
        for row in json.loads(output.strip().splitlines()[-1]):
            print(
                f"{args.db} {row['rows']:>9,} rows  {row['format']:<4}  first byte {row['first_byte_s']:>6.3f} s  "
                f"total {row['total_s']:>6.2f} s  {row['bytes'] / 1e6:>6.1f} MB  peak RSS +{row['peak_rss_growth_mb']} MB"
            )
        print(f"load average during the run (1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        if database:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
