from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from leitplanke.demo import seed

DEMO_CASES = 2000


class Command(BaseCommand):
    help = (
        "Load the demo organisation (idempotent) and, on the first run, 2,000 demo cases; "
        "--cases N bulk-generates N more cases (fast path, for benchmarks)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the demo is loaded already")
        parser.add_argument("--cases", type=int, default=None, help="bulk-generate this many cases")
        parser.add_argument("--seed", type=int, default=42, help="random seed for generated cases")
        parser.add_argument(
            "--clocks", action="store_true", help="with --cases: start the deadline clocks of the open cases (benchmarks)"
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="rows per insert transaction")

    def handle(self, *args: Any, if_empty: bool, cases: int | None, clocks: bool = False, **options: Any) -> None:
        # Imported here: the demo cases module pulls in the case models.
        from leitplanke.demo.cases import demo_cases_present, seed_demo_cases
        from leitplanke.demo.maturity import seed_maturity

        if cases is not None and cases < 0:
            raise CommandError("--cases must be 0 or more")
        if if_empty and seed.is_seeded() and demo_cases_present():
            self.stdout.write("Demo data present; nothing to do.")
            return
        seed.seed_organisation()
        seed_maturity()
        from leitplanke.demo.authority import seed_authority

        seed_authority()
        self.stdout.write(self.style.SUCCESS("Demo organisation loaded."))
        count = cases if cases is not None else (0 if demo_cases_present() else DEMO_CASES)
        if not count:
            if cases is None:
                self._seed_decisions()
                self._seed_routing()
            return

        def progress(done: int, total: int, seconds: float) -> None:
            if total >= 50_000:
                self.stdout.write(f"  {done:,}/{total:,} cases, {seconds:.1f} s, {done / max(seconds, 0.001):,.0f}/s")

        result = seed_demo_cases(count, options["seed"], batch_size=options["batch_size"], progress=progress)
        # The demo's open cases get their clocks; a benchmark's bulk load only when asked
        # (the list's "next due first" and the escalation job need them).
        if cases is None or clocks:
            from leitplanke.demo.clocks import seed_demo_clocks

            clocks_started = time.monotonic()
            self.stdout.write(f"Started {seed_demo_clocks():,} deadline clocks of open demo cases.")
            self.stdout.write(f"clocks_seconds={time.monotonic() - clocks_started:.1f}")
        if cases is None:  # the demo (not a benchmark's bulk load): a few decision records
            from leitplanke.demo.live_decisions import seed_decisions

            self.stdout.write(f"Recorded {seed_decisions()} demo decisions.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {result.cases:,} cases ({result.customers:,} customers, {result.interactions:,} timeline entries) "
                f"in {result.seconds:.1f} s ({result.rate:,.0f} cases/s)."
            )
        )
        if cases is None:
            self._seed_decisions()
            self._seed_routing()
        self.stdout.write(f"seed_cases_seconds={result.seconds}")
        self.stdout.write(f"analyze_seconds={settle_after_bulk_load()}")

    def _seed_routing(self) -> None:
        """After the demo's cases (they keep the process version they started on): complaints
        acknowledged from now on are routed by the demo routing table (demo/routing.py)."""
        from leitplanke.demo.routing import seed_routing_step

        if seed_routing_step():
            self.stdout.write("Published the demo routing table and the complaint process that decides with it.")

    def _seed_decisions(self) -> None:
        """A year of demo decision records (the consistency page) and a draft goodwill table (the simulation)."""
        from leitplanke.demo.decisions import seed_demo_decisions

        made = seed_demo_decisions()
        if made:
            self.stdout.write(f"Seeded {made:,} decision records.")


def settle_after_bulk_load() -> float:
    """After a bulk load the planner's statistics are stale, and PostgreSQL would catch up
    while the system is in use: autovacuum analysing the new tables, the checkpointer writing
    gigabytes of dirty pages (and every first change of a page after that checkpoint logging
    the whole page). Benchmarks measured that, not the steady state. So refresh the
    statistics now, as after any bulk load, and on PostgreSQL ask for a checkpoint (allowed
    for superusers and, from PostgreSQL 15, members of pg_checkpoint; skipped otherwise).
    Returns the seconds taken."""
    import contextlib

    from django.db import DatabaseError, connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        # VACUUM cannot run inside a transaction (the tests run the command in one).
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute("VACUUM (ANALYZE)")
            # Not permitted for this role: the checkpointer will get there by itself.
            with contextlib.suppress(DatabaseError):
                cursor.execute("CHECKPOINT")
        else:
            cursor.execute("ANALYZE")
    return round(time.monotonic() - started, 1)
