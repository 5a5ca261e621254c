#!/usr/bin/env python3
"""Decision-table API and bulk evaluation benchmark (issue 21's targets).

    python bench/decision_api.py [--requests 3000] [--seconds 40] [--n 100000] [--port P]

1. API: a fresh SQLite database (migrated; the shipped tables are published by the migration),
   the 50-rule goodwill table of `bench/decision_engine.py` imported and published as
   `goodwill_bench`, gunicorn with 2 sync workers on 127.0.0.1 (as `bench/run.py` starts it),
   and `POST /api/v1/decision-tables/goodwill_bench/evaluate` measured with the shared
   client (peers/httpbench.py): random inputs, bearer token of an agent, at concurrency 2 and 4,
   and with `?trace=true`. Target: p95 ≤ 20 ms with 2 workers.
2. Bulk (in process, the what-if simulation's path; target ≥ 5,000/s): --n inputs through
   `engine.evaluate_many` in chunks, and through zen-engine's `async_evaluate` gathered in
   batches; every path turns each answer into a `Result` naming its matched rule, and the
   paths are checked to agree.

Bounded: each HTTP scenario stops after --requests or --seconds; the bulk part after --n.
Prints the machine check (bench/run.py's fixed Python loop) and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

import run  # noqa: E402  (bench/run.py: server environment, gunicorn helpers)
from decision_engine import SEGMENTS, fifty_rules, inputs  # noqa: E402

KEY = "goodwill_bench"
PEERS = run.PEERS if run.PEERS.exists() else Path("/work/shared/peers")

PREPARE = """
import json, sys
import django
django.setup()
from leitplanke.accounts import services as accounts
from leitplanke.accounts.models import Role
from leitplanke.decisions import engine, table_services
sys.path.insert(0, {bench!r})
from decision_engine import fifty_rules, inputs

jdm = fifty_rules()
table = engine.load(jdm)
tests = [
    {{"name": f"case {{k}}", "inputs": case, "expected": engine.evaluate(table, case).outputs}}
    for k, case in enumerate(inputs(5))
]
owner = accounts.user_create(actor=None, email="owner@bench.example", full_name="Bench Owner",
                             password="x-Bench-12345", roles=[Role.objects.get(key="process_owner")])
agent = accounts.user_create(actor=None, email="agent@bench.example", full_name="Bench Agent",
                             password="x-Bench-12345", roles=[Role.objects.get(key="agent")])
draft = table_services.table_create(actor=owner, key={key!r}, name_de="Kulanz (50 Regeln)", name_en="Goodwill (50 rules)",
                                    decision_kind="goodwill", jdm=jdm, tests=tests, strict=True)
table_services.table_publish(actor=owner, table=draft, revision=draft.revision)
_token, plain = accounts.api_token_create(actor=agent, name="bench", scopes=["read"])
print(json.dumps({{"token": plain, "rules": len(table.rules)}}))
"""


def http_part(args: argparse.Namespace) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="leitplanke-decision-bench-"))
    env = run.server_env(scratch)
    env.pop("DATABASE_URL", None)
    server: subprocess.Popen | None = None
    try:
        run.run([run.PYTHON, "-m", "leitplanke.cli", "migrate"], env, 600, capture=True)
        prepared = run.run([run.PYTHON, "-c", PREPARE.format(bench=str(BENCH), key=KEY)], env, 300, capture=True)
        info = json.loads(prepared.strip().splitlines()[-1])
        port = args.port or run.free_port()
        base = f"http://127.0.0.1:{port}"
        server = run.start_server(env, scratch, port)
        run.wait_ready(base + "/healthz", server, 60)
        headers = {"Authorization": f"Bearer {info['token']}", "Accept": "application/json"}
        body = {
            "inputs": {
                "disputed_amount": "${amount}",
                "segment": "${segment}",
                "years_as_customer": "${years}",
                "complaints_12m": "${complaints}",
            }
        }
        variables = {
            "amount": {"randint": [0, 1500]},
            "segment": {"choice": SEGMENTS},
            "years": {"randint": [0, 40]},
            "complaints": {"randint": [0, 4]},
        }
        path = f"/api/v1/decision-tables/{KEY}/evaluate"

        def scenario(name: str, concurrency: int, requests: int, url: str) -> dict[str, Any]:
            return {
                "name": name,
                "concurrency": concurrency,
                "requests": requests,
                "duration_s": args.seconds,
                "timeout_s": 30,
                "warmup": 20,
                "vars": variables,
                "steps": [{"method": "POST", "path": url, "headers": headers, "json": body, "expect": [200]}],
            }

        plan = {
            "base_url": base,
            "headers": {},
            "scenarios": [
                scenario("evaluate_c2", 2, args.requests, path),
                scenario("evaluate_c4", 4, args.requests, path),
                scenario("evaluate_trace_c2", 2, max(1, args.requests // 3), path + "?trace=true"),
            ],
        }
        plan_file, raw_file = scratch / "plan.json", scratch / "httpbench.json"
        plan_file.write_text(json.dumps(plan), encoding="utf-8")
        budget = 3 * (args.seconds + 60) + 60
        run.run([run.PYTHON, str(PEERS / "httpbench.py"), "--plan", str(plan_file), "--out", str(raw_file)], env, budget)
        result = json.loads(raw_file.read_text(encoding="utf-8"))
        return {"rules": info["rules"], "scenarios": result["scenarios"]}
    finally:
        run.stop_process(server)
        shutil.rmtree(scratch, ignore_errors=True)


def bulk_part(args: argparse.Namespace) -> dict[str, Any]:
    from leitplanke.decisions.engine import EvaluationError, compile_table, evaluate, evaluate_many, load
    from leitplanke.decisions.engine.runtime import _result

    table = load(fifty_rules())
    evaluate(table, {"disputed_amount": 1})  # compile outside the clock
    many = inputs(args.n)
    out: dict[str, Any] = {"n": args.n}

    def timed(label: str, work: Any) -> list[Any]:
        started = time.perf_counter()
        results = work()
        elapsed = time.perf_counter() - started
        assert len(results) == len(many) and not any(isinstance(r, EvaluationError) for r in results)
        out[label] = {"seconds": round(elapsed, 2), "per_second": round(len(many) / elapsed)}
        print(f"{label:<40} {elapsed:6.2f} s  {len(many) / elapsed:>9,.0f} /s", flush=True)
        return results

    def chunks(size: int) -> list[Any]:
        results: list[Any] = []
        for offset in range(0, len(many), size):
            results.extend(evaluate_many(table, many[offset : offset + size]))
        return results

    decision = compile_table(table).decision

    def gathered(size: int) -> list[Any]:
        async def batch(part: list[dict[str, Any]]) -> list[Any]:
            answers = await asyncio.gather(*(decision.async_evaluate(item) for item in part))
            return [_result(table, answer.get("result"), None) for answer in answers]

        async def whole() -> list[Any]:
            results: list[Any] = []
            for offset in range(0, len(many), size):
                results.extend(await batch(many[offset : offset + size]))
            return results

        return asyncio.run(whole())

    reference = timed("evaluate_many, chunks of 10,000", lambda: chunks(10_000))
    timed("evaluate_many, chunks of 1,000", lambda: chunks(1_000))
    for size in (1_000, 10_000):
        results = timed(f"async_evaluate gathered, batches of {size:,}", lambda size=size: gathered(size))
        assert [r.rule_ids for r in results] == [r.rule_ids for r in reference]
        assert [r.outputs for r in results] == [r.outputs for r in reference]
    single_n = min(len(many), 20_000)
    started = time.perf_counter()
    for item in many[:single_n]:
        evaluate(table, item)
    elapsed = time.perf_counter() - started
    out["evaluate, one at a time"] = {"seconds": round(elapsed, 2), "per_second": round(single_n / elapsed), "n": single_n}
    print(f"{'evaluate, one at a time (' + str(single_n) + ')':<40} {elapsed:6.2f} s  {single_n / elapsed:>9,.0f} /s")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per HTTP scenario (at most)")
    parser.add_argument("--seconds", type=float, default=40, help="seconds per HTTP scenario (at most)")
    parser.add_argument("--n", type=int, default=100_000, help="inputs for the bulk part")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "decision-api.json")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leitplanke.config.settings.dev")
    load_before = os.getloadavg()
    check = run.machine_check_seconds()
    print(f"machine check (10M-step Python loop): {check} s; load average {load_before}", flush=True)
    result: dict[str, Any] = {"machine_check_seconds": check, "load_before": [round(x, 2) for x in load_before]}
    if not args.skip_http:
        result["http"] = http_part(args)
        for scenario in result["http"]["scenarios"]:
            latency = scenario["latency_ms"]
            print(
                f"{scenario['name']:<20} {scenario['requests']:>6} req  {scenario['rps']:>8.1f} req/s  "
                f"p50 {latency['p50']:.1f} ms  p95 {latency['p95']:.1f} ms  p99 {latency['p99']:.1f} ms  "
                f"errors {scenario['errors']}",
                flush=True,
            )
    result["bulk"] = bulk_part(args)
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    result["machine_check_after_seconds"] = run.machine_check_seconds()
    print(f"machine check after: {result['machine_check_after_seconds']} s; load average {result['load_after']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
