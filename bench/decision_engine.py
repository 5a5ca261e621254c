#!/usr/bin/env python3
"""Decision engine benchmark: evaluations per second of a 50-rule goodwill table.

    python bench/decision_engine.py [--n 100000] [--seconds 3]

The table is the shipped energy-billing goodwill table with 43 more rules in front of its
default (thresholds by segment, years and amount), 50 rules in all, hit policy first. The
table is compiled once. Measured: `evaluate` one call at a time without and with the trace,
and `evaluate_many` (zen-engine's native batch) over --n inputs in chunks of 10,000, which is
the path for the what-if simulation (issue 21: ≥ 5,000 per second, 100,000 well under a
minute). Every result names its matched rule in all three.
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from leitplanke.decisions import shipped
from leitplanke.decisions.engine import EvaluationError, evaluate, evaluate_many, load

SEGMENTS = ["private", "business", "premium"]


def fifty_rules() -> dict:
    document = copy.deepcopy(shipped.jdm("goodwill_energy_billing"))
    content = document["nodes"][1]["content"]
    default = content["rules"].pop()
    template = content["rules"][-1]
    for n in range(50 - len(content["rules"]) - 1):
        rule = dict(template)
        rule["_id"] = f"extra-{n}"
        rule["_description"] = f"Extra rule {n}"
        rule["in-segment"] = f'"{SEGMENTS[n % 3]}"'
        rule["in-years_as_customer"] = f">= {20 + n}"
        rule["in-disputed_amount"] = f"[{n * 10}..{n * 10 + 500}]"
        content["rules"].insert(2, rule)
    content["rules"].append(default)
    assert len(content["rules"]) == 50
    return document


def inputs(count: int) -> list[dict]:
    rng = random.Random(21)
    return [
        {
            "disputed_amount": rng.randint(0, 1500),
            "segment": rng.choice(SEGMENTS),
            "years_as_customer": rng.randint(0, 40),
            "complaints_12m": rng.randint(0, 4),
        }
        for _ in range(count)
    ]


def per_second(seconds: float, many: list[dict], call) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call(many[done % len(many)])
        done += 1
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    table = load(fifty_rules())
    sample = inputs(10_000)
    evaluate(table, sample[0])  # compile once, outside the clock
    single = per_second(args.seconds, sample, lambda i: evaluate(table, i))
    traced = per_second(args.seconds, sample, lambda i: evaluate(table, i, trace=True))
    bulk = inputs(args.n)
    start = time.perf_counter()
    results = []
    for offset in range(0, len(bulk), 10_000):
        results.extend(evaluate_many(table, bulk[offset : offset + 10_000]))
    elapsed = time.perf_counter() - start
    assert not any(isinstance(r, EvaluationError) for r in results)
    spot = [evaluate(table, bulk[k]).rule_ids for k in range(0, len(bulk), max(1, len(bulk) // 200))]
    assert spot == [results[k].rule_ids for k in range(0, len(bulk), max(1, len(bulk) // 200))]  # type: ignore[union-attr]
    print(f"rules: {len(table.rules)}")
    print(f"evaluate, one at a time:          {single:>9,.0f} /s")
    print(f"evaluate with trace, one at a time: {traced:>7,.0f} /s")
    print(f"evaluate_many, {args.n:,} in chunks of 10,000: {elapsed:.2f} s = {args.n / elapsed:,.0f} /s")


if __name__ == "__main__":
    main()
