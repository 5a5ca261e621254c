"""Running a table: one evaluation, many evaluations, and the table's test cases.

A table is compiled by zen-engine once (on first use, kept with the table) and evaluated
many times. The compiled table carries one extra output, ``_rule``, with the position of
each rule, so every result names the matched rules even without zen's trace; with
``trace=True`` each match also carries the input values the rule was checked against.
`evaluate_many` hands a whole list to zen-engine's batch call, which runs it in native code
without a Python round trip per evaluation (the path for simulations).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import zen

from .model import Table, TestCase, to_jdm

_KEY = "table"


class EvaluationError(ValueError):
    """The inputs could not be evaluated (not an object, or a value zen-engine cannot take)."""


@dataclass(frozen=True)
class Match:
    index: int
    rule_id: str
    description: str
    outputs: Mapping[str, Any]
    # With trace=True: the values of the input columns the rule was checked against.
    seen: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Result:
    hit_policy: str
    matches: tuple[Match, ...]

    @property
    def outputs(self) -> Any:
        """first: the matched rule's outputs ({} when no rule matched); collect: a list of them."""
        if self.hit_policy == "first":
            return dict(self.matches[0].outputs) if self.matches else {}
        return [dict(match.outputs) for match in self.matches]

    @property
    def rule_ids(self) -> list[str]:
        return [match.rule_id for match in self.matches]


@dataclass(frozen=True)
class Failure:
    name: str
    expected: Any
    actual: Any
    error: str = ""


@dataclass
class _Compiled:
    decision: Any
    engine: Any
    extras: dict[str, Any] = field(default_factory=dict)


def compile_table(table: Table) -> _Compiled:
    """Compile the table once; later calls return the same compiled decision."""
    compiled = table.__dict__.get("_compiled")
    if compiled is None:
        jdm = to_jdm(table, rule_column=True)
        engine = zen.ZenEngine({"loader": {"type": "static", "content": {_KEY: jdm}}})
        compiled = _Compiled(decision=engine.create_decision(json.dumps(jdm)), engine=engine)
        object.__setattr__(table, "_compiled", compiled)
    return compiled


def _result(table: Table, raw: Any, trace: Mapping[str, Any] | None) -> Result:
    rows = raw if isinstance(raw, list) else ([raw] if raw else [])
    seen_by_index: dict[int, Any] = {}
    if trace is not None:
        data = trace.get(table.nodes.table_id, {}).get("traceData")
        for item in data if isinstance(data, list) else [data] if data else []:
            seen_by_index[int(item.get("index", -1))] = item.get("reference_map")
    matches = []
    for row in rows:
        outputs = dict(row)
        index = int(outputs.pop("_rule"))
        rule = table.rules[index]
        matches.append(Match(index, rule.id, rule.description, outputs, seen_by_index.get(index)))
    return Result(table.hit_policy, tuple(matches))


def evaluate(table: Table, inputs: Mapping[str, Any], *, trace: bool = False) -> Result:
    """Evaluate the table for one set of inputs."""
    if not isinstance(inputs, Mapping):
        raise EvaluationError("the inputs must be an object")
    decision = compile_table(table).decision
    try:
        response = decision.evaluate(dict(inputs), {"trace": True} if trace else None)
    except Exception as error:  # zen-engine raises plain Exception for values it cannot take (NaN, huge integers)
        raise EvaluationError(str(error)) from None
    return _result(table, response.get("result"), response.get("trace") if trace else None)


def evaluate_many(table: Table, many: Sequence[object]) -> list[Result | EvaluationError]:
    """Evaluate the table for each set of inputs in one native batch, in order.

    An entry that is not an object is an EvaluationError in its place. zen-engine's batch
    path takes NaN as null where the single call refuses it; an integer beyond 64 bits makes the
    batch fail as a whole, and then each entry is evaluated alone.
    """
    engine = compile_table(table).engine
    positions = [index for index, inputs in enumerate(many) if isinstance(inputs, Mapping)]
    requests = [{"key": _KEY, "context": dict(many[index])} for index in positions]  # type: ignore[call-overload]
    results: list[Result | EvaluationError] = [EvaluationError("the inputs must be an object")] * len(many)
    try:
        answers = engine.evaluate_batch(requests)
    except Exception:  # one value the batch cannot convert (an integer beyond 64 bits) spoils it: one by one
        for index in positions:
            try:
                results[index] = evaluate(table, many[index])  # type: ignore[arg-type]
            except EvaluationError as error:
                results[index] = error
        return results
    for index, answer in zip(positions, answers, strict=True):
        if answer.get("success"):
            results[index] = _result(table, answer["data"].get("result"), None)
        else:
            results[index] = EvaluationError(str(answer.get("error")))
    return results


def _same(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> bool:
    return all(actual.get(name) == value for name, value in expected.items())


def run_tests(table: Table, cases: Iterable[TestCase] | None = None) -> list[Failure]:
    """Run the test cases (the table's own by default); every failing one, with expected and actual."""
    failures = []
    for case in table.tests if cases is None else cases:
        expected: Any = [dict(row) for row in case.expected] if isinstance(case.expected, tuple) else dict(case.expected)
        try:
            actual = evaluate(table, case.inputs).outputs
        except EvaluationError as error:
            failures.append(Failure(case.name, expected, None, str(error)))
            continue
        if isinstance(expected, list):
            passed = len(expected) == len(actual) and all(_same(e, a) for e, a in zip(expected, actual, strict=True))
        else:
            passed = _same(expected, actual)
        if not passed:
            failures.append(Failure(case.name, expected, actual))
    return failures
