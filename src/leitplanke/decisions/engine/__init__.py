"""The decision engine: GoRules JDM decision tables, checked, run on zen-engine, exported back.

Pure Python (an import-linter contract keeps Django and the rest of the app out), so the
editor, the API, the simulation and the benchmarks share it.
"""

from .model import (
    CONTENT_TYPE,
    HIT_POLICIES,
    Column,
    InvalidTable,
    Problem,
    Rule,
    Table,
    TestCase,
    cases_to_json,
    describe,
    load,
    to_jdm,
)
from .runtime import EvaluationError, Failure, Match, Result, compile_table, evaluate, evaluate_many, run_tests

__all__ = [
    "CONTENT_TYPE",
    "HIT_POLICIES",
    "Column",
    "EvaluationError",
    "Failure",
    "InvalidTable",
    "Match",
    "Problem",
    "Result",
    "Rule",
    "Table",
    "TestCase",
    "cases_to_json",
    "compile_table",
    "describe",
    "evaluate",
    "evaluate_many",
    "load",
    "run_tests",
    "to_jdm",
]
