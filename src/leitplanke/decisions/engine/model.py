"""Decision tables: the JDM subset Leitplanke accepts, checked as a whole, and exported back.

A table arrives as GoRules JDM JSON (the format of the GoRules editor): an input node, one
decision table node and an output node, joined by two edges. `load` checks the graph, the
columns, the rules and every cell, compiles each cell with zen-engine's own parser, and
reports every problem at once with its place; `to_jdm` writes the same table back.

A problem's place names the rule by position and id and the column by field
(``rules[3] (r-small).disputed_amount``); `code` is stable (the Django side will translate
by it), `message` is English for logs and the command line, `params` fill a translated text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import zen

CONTENT_TYPE = "application/vnd.gorules.decision"
HIT_POLICIES = ("first", "collect")

# Input fields may be paths into nested inputs (customer.segment); output fields are flat
# names so that the result is a flat mapping. A leading "_" is kept for the engine's own column.
INPUT_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}(\.[A-Za-z][A-Za-z0-9_]{0,62}){0,4}$")
OUTPUT_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
MAX_RULES = 2000
MAX_CELL = 2000

MESSAGES = {
    "not_an_object": "must be an object",
    "not_a_list": "must be a list",
    "missing": "is missing",
    "bad_content_type": "the content type must be " + CONTENT_TYPE,
    "node_count": "a table has exactly one input node, one decision table node and one output node (found {found})",
    "unsupported_node": "the node type {type} is not supported (only inputNode, decisionTableNode, outputNode)",
    "bad_edges": "the edges must lead from the input node to the table and from the table to the output node",
    "bad_hit_policy": "the hit policy must be first or collect",
    "no_inputs": "a table needs at least one input column",
    "no_outputs": "a table needs at least one output column",
    "no_rules": "a table needs at least one rule",
    "too_many_rules": "a table has at most {limit} rules",
    "bad_input_field": "an input field is a name or a dotted path of names (letters, digits, '_')",
    "bad_output_field": "an output field is a name of letters, digits and '_', starting with a letter",
    "bad_column_id": "a column id must not start with '_' (rule keys starting with '_' are the rule's own)",
    "duplicate_column_id": "the column id {id} is used twice",
    "duplicate_field": "the field {field} is used by two columns",
    "duplicate_rule_id": "the rule id {id} is used twice",
    "not_text": "a cell holds text",
    "too_long": "a cell holds at most {limit} characters",
    "unknown_column": "the rule has a cell for a column {column} that the table does not have",
    "cell_syntax": "the cell does not compile: {error}",
    "bad_test": "a test case has a name, inputs (an object) and expected outputs (an object, or a list for collect)",
    "unknown_output": "the table has no output {field}",
}


@dataclass(frozen=True)
class Problem:
    place: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return MESSAGES[self.code].format(**self.params)

    def __str__(self) -> str:
        return f"{self.place}: {self.message}"


class InvalidTable(ValueError):
    """The JDM document is not a table Leitplanke can run; `problems` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class Column:
    id: str
    name: str
    field: str


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    # Cell text per column id, in column order; "" is an empty cell (input: any value; output: not set).
    cells: Mapping[str, str]
    # The German description (`_description_de`; the GoRules editor keeps a rule's own `_` keys).
    description_de: str = ""

    def describe(self, language: str) -> str:
        return describe(self.description, self.description_de, language)


def describe(description: str, description_de: str, language: str) -> str:
    """A rule's description in `language`: the German one for "de" when there is one, else
    `_description` (English, or whatever the table's author wrote)."""
    return description_de if language[:2] == "de" and description_de else description


@dataclass(frozen=True)
class TestCase:
    __test__ = False  # not a pytest class

    name: str
    inputs: Mapping[str, Any]
    # first: the expected outputs (only the named fields are compared); collect: a list of them.
    expected: Mapping[str, Any] | tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Nodes:
    """Ids, names and editor positions of the three nodes and two edges, kept for the export."""

    input_id: str = "input"
    input_name: str = "Request"
    table_id: str = "table"
    output_id: str = "output"
    output_name: str = "Response"
    edge_in_id: str = "edge-in"
    edge_out_id: str = "edge-out"
    positions: tuple[tuple[float, float], ...] = ((100.0, 100.0), (400.0, 100.0), (800.0, 100.0))


@dataclass(frozen=True)
class Table:
    name: str
    hit_policy: str
    inputs: tuple[Column, ...]
    outputs: tuple[Column, ...]
    rules: tuple[Rule, ...]
    tests: tuple[TestCase, ...] = ()
    nodes: Nodes = Nodes()

    def __getstate__(self) -> dict[str, Any]:
        # The compiled zen decision (kept on the table by the runtime) is native and cannot be
        # pickled or copied; a copy compiles again on its first evaluation.
        state = dict(self.__dict__)
        state.pop("_compiled", None)
        return state


def _rule_place(index: int, rule_id: object) -> str:
    return f"rules[{index}] ({rule_id})" if isinstance(rule_id, str) and rule_id else f"rules[{index}]"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _position(node: Mapping[str, Any]) -> tuple[float, float]:
    position = node.get("position")
    if isinstance(position, Mapping):
        x, y = position.get("x"), position.get("y")
        if isinstance(x, int | float) and isinstance(y, int | float) and not isinstance(x, bool) and not isinstance(y, bool):
            return (float(x), float(y))
    return (0.0, 0.0)


def _check_cell(text: str, unary: bool) -> str | None:
    """The compiler's complaint about a cell, or None. An empty input cell matches anything.

    zen-engine 2.1.3's ``validate_unary_expression`` rejects valid unary tests such as
    ``>= 3``, so cells are compiled (``compile_unary_expression`` / ``compile_expression``),
    the same parser the decision table runs.
    """
    if not text.strip():
        return None
    try:
        (zen.compile_unary_expression if unary else zen.compile_expression)(text)
    except Exception as error:  # zen-engine raises plain Exception: a JSON line, then a native backtrace
        first = str(error).split("\n", 1)[0]
        try:
            detail = json.loads(first)
        except ValueError:
            return first
        return str(detail.get("source", first)) if isinstance(detail, dict) else first
    return None


def _columns(raw: object, place: str, pattern: re.Pattern[str], problems: list[Problem]) -> list[Column]:
    if not isinstance(raw, list):
        problems.append(Problem(place, "not_a_list"))
        return []
    columns: list[Column] = []
    seen_fields: set[str] = set()
    for index, item in enumerate(raw):
        where = f"{place}[{index}]"
        if not isinstance(item, Mapping):
            problems.append(Problem(where, "not_an_object"))
            continue
        column_id, name, column_field = item.get("id"), _text(item.get("name")), item.get("field")
        if not isinstance(column_id, str) or not column_id:
            problems.append(Problem(f"{where}.id", "missing"))
            continue
        if column_id.startswith("_"):
            problems.append(Problem(f"{where}.id", "bad_column_id"))
            continue
        if not isinstance(column_field, str) or not pattern.match(column_field):
            problems.append(Problem(f"{where}.field", "bad_input_field" if place == "inputs" else "bad_output_field"))
            column_field = str(column_field)  # kept, so that the column's cells are still checked
        if column_field in seen_fields:
            problems.append(Problem(f"{where}.field", "duplicate_field", {"field": column_field}))
        seen_fields.add(column_field)
        columns.append(Column(id=column_id, name=name or column_field, field=column_field))
    return columns


def _tests(raw: object, hit_policy: str, output_fields: set[str], problems: list[Problem]) -> list[TestCase]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(Problem("tests", "not_a_list"))
        return []
    cases: list[TestCase] = []
    for index, item in enumerate(raw):
        where = f"tests[{index}]"
        expected = item.get("expected") if isinstance(item, Mapping) else None
        shape_ok = isinstance(item, Mapping) and isinstance(item.get("inputs"), Mapping)
        if hit_policy == "collect":
            shape_ok = shape_ok and isinstance(expected, list) and all(isinstance(row, Mapping) for row in expected)
        else:
            shape_ok = shape_ok and isinstance(expected, Mapping)
        if not shape_ok or not isinstance(item, Mapping) or not isinstance(expected, list | Mapping):
            problems.append(Problem(where, "bad_test"))
            continue
        rows: list[Any] = expected if isinstance(expected, list) else [expected]
        for row in rows:
            for name in row:
                if name not in output_fields:
                    problems.append(Problem(f"{where}.expected.{name}", "unknown_output", {"field": name}))
        cases.append(
            TestCase(
                name=_text(item.get("name")) or f"test {index + 1}",
                inputs=dict(item["inputs"]),
                expected=tuple(dict(row) for row in expected) if isinstance(expected, list) else dict(expected),
            )
        )
    return cases


def load(jdm: object, tests: object = None) -> Table:
    """Check a JDM document (and optional test cases) and return the table, or raise InvalidTable."""
    problems: list[Problem] = []
    if not isinstance(jdm, Mapping):
        raise InvalidTable([Problem("document", "not_an_object")])
    content_type = jdm.get("contentType")
    if content_type is not None and content_type != CONTENT_TYPE:
        problems.append(Problem("contentType", "bad_content_type"))
    raw_nodes, raw_edges = jdm.get("nodes"), jdm.get("edges")
    if not isinstance(raw_nodes, list) or not all(isinstance(node, Mapping) for node in raw_nodes):
        raise InvalidTable([*problems, Problem("nodes", "not_a_list")])
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for index, node in enumerate(raw_nodes):
        node_type = node.get("type")
        if node_type not in ("inputNode", "decisionTableNode", "outputNode"):
            problems.append(Problem(f"nodes[{index}].type", "unsupported_node", {"type": node_type}))
            continue
        by_type.setdefault(str(node_type), []).append(node)
    counts = {kind: len(by_type.get(kind, [])) for kind in ("inputNode", "decisionTableNode", "outputNode")}
    if any(count != 1 for count in counts.values()):
        found = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        raise InvalidTable([*problems, Problem("nodes", "node_count", {"found": found})])
    input_node, table_node, output_node = (by_type[kind][0] for kind in ("inputNode", "decisionTableNode", "outputNode"))
    ids = [str(node.get("id") or "") for node in (input_node, table_node, output_node)]
    edges = raw_edges if isinstance(raw_edges, list) else []
    pairs = {
        (edge.get("sourceId"), edge.get("targetId")): str(edge.get("id") or "") for edge in edges if isinstance(edge, Mapping)
    }
    if not all(ids) or len(edges) != 2 or set(pairs) != {(ids[0], ids[1]), (ids[1], ids[2])}:
        problems.append(Problem("edges", "bad_edges"))

    content = table_node.get("content")
    if not isinstance(content, Mapping):
        raise InvalidTable([*problems, Problem("nodes.table.content", "not_an_object")])
    hit_policy = content.get("hitPolicy")
    if hit_policy not in HIT_POLICIES:
        problems.append(Problem("hitPolicy", "bad_hit_policy"))
    inputs = _columns(content.get("inputs"), "inputs", INPUT_FIELD, problems)
    outputs = _columns(content.get("outputs"), "outputs", OUTPUT_FIELD, problems)
    if isinstance(content.get("inputs"), list) and not content["inputs"]:
        problems.append(Problem("inputs", "no_inputs"))
    if isinstance(content.get("outputs"), list) and not content["outputs"]:
        problems.append(Problem("outputs", "no_outputs"))
    column_ids = [column.id for column in (*inputs, *outputs)]
    for column_id in sorted({c for c in column_ids if column_ids.count(c) > 1}):
        problems.append(Problem("columns", "duplicate_column_id", {"id": column_id}))
    unary = {column.id: True for column in inputs} | {column.id: False for column in outputs}
    fields = {column.id: column.field for column in (*inputs, *outputs)}

    raw_rules = content.get("rules")
    rules: list[Rule] = []
    if not isinstance(raw_rules, list):
        problems.append(Problem("rules", "not_a_list"))
        raw_rules = []
    elif not raw_rules:
        problems.append(Problem("rules", "no_rules"))
    elif len(raw_rules) > MAX_RULES:
        problems.append(Problem("rules", "too_many_rules", {"limit": MAX_RULES}))
        raw_rules = []
    seen_rule_ids: set[str] = set()
    for index, raw_rule in enumerate(raw_rules):
        if not isinstance(raw_rule, Mapping):
            problems.append(Problem(f"rules[{index}]", "not_an_object"))
            continue
        rule_id = raw_rule.get("_id")
        place = _rule_place(index, rule_id)
        if not isinstance(rule_id, str) or not rule_id:
            problems.append(Problem(f"{place}._id", "missing"))
        elif rule_id in seen_rule_ids:
            problems.append(Problem(f"{place}._id", "duplicate_rule_id", {"id": rule_id}))
        seen_rule_ids.add(str(rule_id))
        cells: dict[str, str] = {}
        for key, value in raw_rule.items():
            if key.startswith("_"):
                continue
            if key not in unary:
                problems.append(Problem(f"{place}.{key}", "unknown_column", {"column": key}))
                continue
            cell_place = f"{place}.{fields[key]}"
            if value is None:
                value = ""
            if not isinstance(value, str):
                problems.append(Problem(cell_place, "not_text"))
                continue
            if len(value) > MAX_CELL:
                problems.append(Problem(cell_place, "too_long", {"limit": MAX_CELL}))
                continue
            error = _check_cell(value, unary[key])
            if error is not None:
                problems.append(Problem(cell_place, "cell_syntax", {"error": error}))
            cells[key] = value
        ordered = {column_id: cells.get(column_id, "") for column_id in unary}
        rules.append(
            Rule(
                id=str(rule_id or ""),
                description=_text(raw_rule.get("_description")),
                cells=ordered,
                description_de=_text(raw_rule.get("_description_de")),
            )
        )

    cases = _tests(tests, str(hit_policy), {column.field for column in outputs}, problems)
    if problems:
        raise InvalidTable(problems)
    nodes = Nodes(
        input_id=ids[0],
        input_name=_text(input_node.get("name")) or "Request",
        table_id=ids[1],
        output_id=ids[2],
        output_name=_text(output_node.get("name")) or "Response",
        edge_in_id=pairs[(ids[0], ids[1])] or "edge-in",
        edge_out_id=pairs[(ids[1], ids[2])] or "edge-out",
        positions=tuple(_position(node) for node in (input_node, table_node, output_node)),
    )
    return Table(
        name=_text(table_node.get("name")) or "Decision table",
        hit_policy=str(hit_policy),
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        rules=tuple(rules),
        tests=tuple(cases),
        nodes=nodes,
    )


def to_jdm(table: Table, *, rule_column: bool = False) -> dict[str, Any]:
    """The table as a JDM document the GoRules editor opens.

    With `rule_column` the table gets one more output, ``_rule``, holding each rule's
    position: the runtime uses it to know the matched rule without asking for the trace.
    """
    nodes = table.nodes
    outputs = [{"id": column.id, "name": column.name, "field": column.field} for column in table.outputs]
    if rule_column:
        outputs.append({"id": "_leitplanke_rule", "name": "Rule", "field": "_rule"})
    rules = []
    for index, rule in enumerate(table.rules):
        row: dict[str, Any] = {"_id": rule.id, "_description": rule.description}
        if rule.description_de:
            row["_description_de"] = rule.description_de
        row.update(rule.cells)
        if rule_column:
            row["_leitplanke_rule"] = str(index)
        rules.append(row)
    positions = [{"x": x, "y": y} for x, y in nodes.positions]
    return {
        "contentType": CONTENT_TYPE,
        "nodes": [
            {"id": nodes.input_id, "type": "inputNode", "name": nodes.input_name, "position": positions[0]},
            {
                "id": nodes.table_id,
                "type": "decisionTableNode",
                "name": table.name,
                "position": positions[1],
                "content": {
                    "hitPolicy": table.hit_policy,
                    "inputs": [{"id": column.id, "name": column.name, "field": column.field} for column in table.inputs],
                    "outputs": outputs,
                    "rules": rules,
                    "passThrough": False,
                    "inputField": None,
                    "outputPath": None,
                    "executionMode": "single",
                },
            },
            {"id": nodes.output_id, "type": "outputNode", "name": nodes.output_name, "position": positions[2]},
        ],
        "edges": [
            {"id": nodes.edge_in_id, "sourceId": nodes.input_id, "targetId": nodes.table_id, "type": "edge"},
            {"id": nodes.edge_out_id, "sourceId": nodes.table_id, "targetId": nodes.output_id, "type": "edge"},
        ],
    }


def cases_to_json(table: Table) -> list[dict[str, Any]]:
    """The table's test cases in the shape `load` reads."""
    return [
        {
            "name": case.name,
            "inputs": dict(case.inputs),
            "expected": [dict(row) for row in case.expected] if isinstance(case.expected, tuple) else dict(case.expected),
        }
        for case in table.tests
    ]
