#!/usr/bin/env python3
"""Process engine benchmark: transition evaluations per second on one core.

    python bench/process_engine.py [--seconds 3]

A 12-state definition (the shipped complaint process with five more states, a guard on
most transitions, required fields and a checklist) is compiled once; one evaluation is
`available_transitions` for a state (every transition out of it, with its reasons) and,
counted separately, `apply` of one transition. Pure Python, no database. Target (issue
20): at least 5,000 transition evaluations per second.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import itertools

from leitplanke.processes.catalogue import STANDARD_FIELDS
from leitplanke.processes.engine import apply, available_transitions, compile_process
from leitplanke.processes.shipped import COMPLAINT


def twelve_states() -> dict:
    definition = copy.deepcopy(COMPLAINT)
    extra = ["triage", "legal_review", "redress", "approval", "follow_up"]
    for key in extra:
        definition["states"].append({"key": key, "kind": "open", "label_de": key, "label_en": key})
    chain = ["in_progress", *extra, "resolved"]
    for source, target in itertools.pairwise(chain):
        definition["transitions"].append(
            {
                "key": f"{source}_to_{target}",
                "from": [source],
                "to": target,
                "label_de": target,
                "label_en": target,
                "roles": ["agent", "team_lead"],
                "guard": 'customer.segment in ["business", "premium"] and case.priority >= 2 or case.severity == "critical"',
                "requires": ["outcome"],
            }
        )
    for step in definition["transitions"]:
        step.setdefault("guard", "case.priority >= 1 and customer.is_vulnerable != true")
    return definition


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    definition = twelve_states()
    process = compile_process(definition, STANDARD_FIELDS)
    assert len(process.states) == 12, len(process.states)
    context = {"case.priority": 3, "case.severity": "major", "customer.segment": "business", "case.outcome": ""}
    states = [s.key for s in process.states if process.transitions_from(s.key)]
    roles = ["agent"]

    count = evaluations = 0
    start = time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        for state in states:
            evaluations += len(available_transitions(process, state, context, roles, fields=STANDARD_FIELDS))
            count += 1
    elapsed = time.perf_counter() - start
    print(f"available_transitions: {count / elapsed:,.0f} calls/s, {evaluations / elapsed:,.0f} transition evaluations/s")

    applied = 0
    full = {**context, "case.outcome": "upheld"}
    start = time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        apply(process, "legal_review", "legal_review_to_redress", full, roles)
        applied += 1
    elapsed = time.perf_counter() - start
    print(f"apply: {applied / elapsed:,.0f} transitions/s")


if __name__ == "__main__":
    main()
