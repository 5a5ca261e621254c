"""The example tables Leitplanke ships, as GoRules JDM files with their test cases.

``<key>.json`` is the table exactly as the GoRules editor exports it (it opens there
unchanged); ``<key>.tests.json`` holds its test cases (given inputs → expected outputs).
"""

from __future__ import annotations

import json
from pathlib import Path

from leitplanke.decisions.engine import Table, load

HERE = Path(__file__).resolve().parent
KEYS = ("goodwill_energy_billing", "card_fee_refund", "priority_scoring", "routing", "sufficient_solution")


def jdm(key: str) -> dict:
    if key not in KEYS:
        raise KeyError(key)
    return json.loads((HERE / f"{key}.json").read_text(encoding="utf-8"))


def tests(key: str) -> list:
    if key not in KEYS:
        raise KeyError(key)
    return json.loads((HERE / f"{key}.tests.json").read_text(encoding="utf-8"))


def table(key: str) -> Table:
    """The shipped table with its test cases (raises InvalidTable if a file was broken)."""
    return load(jdm(key), tests(key))
