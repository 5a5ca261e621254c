#!/usr/bin/env python3
"""What-if simulation benchmark (issue 21: 100,000 past decisions well under a minute,
≥ 5,000 evaluations per second).

    python bench/whatif.py [--n 100000] [--db sqlite|postgres] [--consistency]

1. A scratch database (SQLite in a temporary data dir, or leitplanke_whatif_<pid> on
   127.0.0.1:5432), migrated.
2. N synthetic past decisions on 2,000 cases (customers in three segments) over the last
   twelve months, recommended by the shipped energy-billing goodwill table (v1): their input
   snapshots and recommendations are what `evaluate_many` gave for v1 (not timed).
3. A draft v2 (10 % → 12 % for customers of 3+ years; billing review from EUR 800 on).
4. Timed: the simulation's task body (`simulation_services.simulation_run`) over the twelve
   months — read the snapshots, evaluate v2 in native batches of 5,000, compare, store the
   progress after each batch and the result. With --consistency also the consistency page's
   four aggregations over the same records (a quality manager: all teams).

Prints JSON with the figures; the scratch database is removed.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

SEGMENTS = ["private", "business", "premium"]


def setup(db: str, scratch: Path) -> str | None:
    os.environ["LEITPLANKE_DATA_DIR"] = str(scratch)
    os.environ["DJANGO_SETTINGS_MODULE"] = "leitplanke.config.settings.dev"
    os.environ.setdefault("LEITPLANKE_DEBUG", "0")
    os.environ["LEITPLANKE_LOG_LEVEL"] = "WARNING"
    name = None
    if db == "postgres":
        import psycopg

        name = f"leitplanke_whatif_{os.getpid()}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return name


def drop(name: str | None) -> None:
    if name is None:
        return
    from django.db import connections

    connections.close_all()
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(n: int) -> dict[str, object]:
    from django.db import transaction
    from django.utils import timezone

    from leitplanke.accounts.models import Role, Team, User
    from leitplanke.cases.models import Case, CaseType
    from leitplanke.customers.models import Customer
    from leitplanke.decisions import engine, shipped
    from leitplanke.decisions.models import DecisionRecord, DecisionTable

    rng = random.Random(21)
    now = timezone.now()
    with transaction.atomic():
        teams = [Team.objects.create(name=f"Bench team {i}") for i in range(4)]
        agents = []
        for i in range(20):
            user = User.objects.create(email=f"whatif-{i}@example.org", full_name=f"Agent {i}")
            user.teams.add(teams[i % 4])
            agents.append(user)
        owner = User.objects.create(email="whatif-owner@example.org", full_name="Process owner")
        owner.roles.add(Role.objects.get(key="administrator"))
        case_type = CaseType.objects.order_by("id").first() or CaseType.objects.create(key="complaint", name_de="B", name_en="C")
        customers = Customer.objects.bulk_create(
            Customer(customer_number=f"W-{i:05d}", display_name=f"Kunde {i}", segment=SEGMENTS[i % 3]) for i in range(2000)
        )
        cases = Case.objects.bulk_create(
            Case(
                reference=f"W-{i:06d}",
                case_type=case_type,
                subject="Rechnung",
                channel="email",
                received_at=now - dt.timedelta(days=rng.uniform(0, 365)),
                status="new",
                customer=customers[i],
            )
            for i in range(2000)
        )
        v1 = DecisionTable.objects.create(
            key="goodwill_energy_billing",
            version=1,
            status="published",
            name_de="Kulanz",
            name_en="Goodwill",
            decision_kind="goodwill",
            jdm=shipped.jdm("goodwill_energy_billing"),
            tests=shipped.tests("goodwill_energy_billing"),
        )
        document = copy.deepcopy(v1.jdm)
        for rule in document["nodes"][1]["content"]["rules"]:
            if rule["_id"] == "established":
                rule["out-recommended_amount"] = "round(disputed_amount * 0.12)"
            if rule["_id"] == "large-amount":
                rule["in-disputed_amount"] = "> 800"
        v2 = DecisionTable.objects.create(
            key="goodwill_energy_billing",
            version=2,
            status="draft",
            name_de="Kulanz",
            name_en="Goodwill",
            decision_kind="goodwill",
            jdm=document,
        )
    table = engine.load(v1.jdm, v1.tests)
    started = time.perf_counter()
    for offset in range(0, n, 5000):
        size = min(5000, n - offset)
        picks = [rng.randrange(2000) for _ in range(size)]
        inputs = [
            {
                "disputed_amount": rng.randint(0, 1500),
                "segment": SEGMENTS[p % 3],
                "years_as_customer": rng.randint(0, 30),
                "complaints_12m": rng.randint(0, 4),
            }
            for p in picks
        ]
        answers = engine.evaluate_many(table, inputs)
        rows = []
        for pick, snapshot, answer in zip(picks, inputs, answers, strict=True):
            assert not isinstance(answer, engine.EvaluationError)
            outputs = answer.outputs
            agent = agents[pick % 20]
            rows.append(
                DecisionRecord(
                    case=cases[pick],
                    table=v1,
                    inputs=snapshot,
                    recommendation=outputs,
                    matched_rules=[{"position": m.index, "id": m.rule_id} for m in answer.matches],
                    recommended_min=Decimal(str(outputs["min_amount"])),
                    recommended_max=Decimal(str(outputs["max_amount"])),
                    kind="goodwill",
                    amount=Decimal(str(outputs["recommended_amount"])),
                    decided_by=agent,
                    decided_at=now - dt.timedelta(days=rng.uniform(0, 360)),
                    team=teams[pick % 20 % 4],
                    deviates=rng.random() < 0.08,
                )
            )
        with transaction.atomic():
            DecisionRecord.objects.bulk_create(rows)
    return {"owner": owner, "v2": v2, "seed_seconds": round(time.perf_counter() - started, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--consistency", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="whatif-") as scratch:
        name = setup(args.db, Path(scratch))
        try:
            from django.db import connection
            from django.utils import timezone

            from leitplanke.decisions import simulation_services
            from leitplanke.decisions.models import Simulation

            seeded = seed(args.n)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
            today = timezone.localdate()
            simulation_services.enqueue_on_commit = lambda *a, **k: None  # type: ignore[assignment]
            run = simulation_services.simulation_start(
                actor=seeded["owner"],
                table_id=seeded["v2"].pk,
                start=today - dt.timedelta(days=365),
                end=today,  # type: ignore[attr-defined]
            )
            started = time.perf_counter()
            simulation_services.simulation_run(simulation_id=run.pk)
            seconds = time.perf_counter() - started
            done = Simulation.objects.get(pk=run.pk)
            assert done.status == "done", done.error
            evaluated = done.result["evaluated"]
            figures: dict[str, object] = {
                "db": args.db,
                "n": args.n,
                "seed_seconds": seeded["seed_seconds"],
                "simulation_seconds": round(seconds, 2),
                "evaluated": evaluated,
                "per_second": round(evaluated / seconds),
                "changed": done.result["changed"],
                "counts": done.result["counts"],
                "totals": done.result["totals"],
            }
            if args.consistency:
                from leitplanke.decisions import analytics_selectors
                from leitplanke.decisions.analytics_selectors import ConsistencyFilter

                flt = ConsistencyFilter(start=today - dt.timedelta(days=365), end=today)
                started = time.perf_counter()
                page = analytics_selectors.consistency(actor=seeded["owner"], flt=flt, lang="de")
                figures["consistency_seconds"] = round(time.perf_counter() - started, 2)
                figures["consistency_total"] = page.total
            print(json.dumps(figures, indent=2))
        finally:
            drop(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
