"""What a case's deadline clocks add to its creation through the API: CPU time and statements
per `POST /api/v1/cases`, in-process through Django's test client, for a case type with
clocks (a complaint: three in the shipped set-up) and one without (feedback).

    DJANGO_SETTINGS_MODULE=leitplanke.config.settings.dev LEITPLANKE_DATA_DIR=… [DATABASE_URL=…] \\
        .venv/bin/python bench/create_clocks.py [--runs 500] [--rounds 5] [--profile complaint|feedback]
        [--only complaint|feedback]

Runs against the database the environment names (seed it first, e.g. `leitplanke seed
--cases 20000 --clocks`; every run adds its creates to it). Each round creates `--runs` cases
of each type, interleaved in blocks, and takes the CPU time of this process per create
(`time.process_time()`: on SQLite that includes the database's work, on PostgreSQL the
server's CPU is not in it; the PostgreSQL backend's CPU is read from /proc when the server runs
on the same machine). Prints per type the minimum over rounds of the mean CPU per create,
the median wall time, the backend's mean CPU per create, and the statements per create (Django's query log: every
statement, BEGIN/COMMIT not included on PostgreSQL). `--profile TYPE` prints cProfile's top
functions for `--runs` creates of that type instead. With `--only TYPE --runs N --rounds 1`
it is small enough to run under `valgrind --tool=callgrind` (instruction counts do not
depend on what else the machine runs).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import time

TYPES = ("complaint", "feedback")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", choices=TYPES)
    parser.add_argument("--only", choices=TYPES)
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumulative)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from leitplanke.accounts import services as accounts
    from leitplanke.accounts.models import Role, User

    user = User.objects.filter(email="bench-clocks@example.org").first() or accounts.user_create(
        actor=None,
        email="bench-clocks@example.org",
        full_name="Bench Clocks",
        password=secrets.token_urlsafe(16),
        language="de",
        roles=[Role.objects.get(key="quality_manager")],
    )
    _token, plain = accounts.api_token_create(actor=user, name="bench-clocks", scopes=["read", "write"])
    client = Client(HTTP_HOST="127.0.0.1")
    counter = iter(range(1, 10**9))

    def create(case_type: str) -> dict[str, str]:
        n = next(counter)
        body = {
            "case_type": case_type,
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
        return dict(response.headers)

    types = (args.only,) if args.only else TYPES
    for case_type in types:  # warm-up: imports, URL resolution, compiled statements, caches
        for _ in range(3):
            create(case_type)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.runs):
            create(args.profile)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(50)
        print(out.getvalue())
        return 0
    statements: dict[str, int] = {}
    header: dict[str, str] = {}
    for case_type in types:
        with CaptureQueriesContext(connection) as captured:
            headers = create(case_type)
        statements[case_type] = len(captured.captured_queries)
        header[case_type] = headers.get("X-Queries", "")

    def backend_cpu() -> float:
        """CPU seconds of this connection's PostgreSQL backend (same machine), else 0."""
        if connection.vendor != "postgresql":
            return 0.0
        try:
            with open(f"/proc/{backend_pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    backend_pid = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend_pid = cursor.fetchone()[0]
    server: dict[str, float] = dict.fromkeys(types, 0.0)
    cpu: dict[str, list[float]] = {t: [] for t in types}
    wall: dict[str, list[float]] = {t: [] for t in types}
    block = 50
    for _ in range(args.rounds):
        spent = dict.fromkeys(types, 0.0)
        for start in range(0, args.runs, block):
            for case_type in types:
                server_before = backend_cpu()
                for _ in range(min(block, args.runs - start)):
                    started, started_cpu = time.perf_counter(), time.process_time()
                    create(case_type)
                    spent[case_type] += time.process_time() - started_cpu
                    wall[case_type].append((time.perf_counter() - started) * 1000)
                server[case_type] += backend_cpu() - server_before
        for case_type in types:
            cpu[case_type].append(spent[case_type] * 1000 / args.runs)
    load = os.getloadavg()
    for case_type in types:
        print(
            f"{connection.vendor:<10} {case_type:<10} CPU per create: min {min(cpu[case_type]):.3f} ms "
            f"(rounds: {', '.join(f'{v:.3f}' for v in cpu[case_type])}), wall median "
            f"{statistics.median(wall[case_type]):.2f} ms, database backend CPU "
            f"{server[case_type] * 1000 / (args.runs * args.rounds):.2f} ms (mean), {statements[case_type]} statements "
            f"(X-Queries {header[case_type]})"
        )
    print(f"load average (1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
