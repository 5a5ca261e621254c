"""What changed between two versions of a decision table: a pure function over JDM documents.

Rules are matched by their `_id`, columns by their `id`, test cases by their name. Works on any
JSON (a draft with problems too): what cannot be read is treated as absent, never an error.
Pure Python (an import-linter contract keeps Django and the rest of the app out).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CellChange:
    column: str  # the column's field (its id when it has no field)
    before: str
    after: str


@dataclass(frozen=True)
class RuleChange:
    rule_id: str
    cells: tuple[CellChange, ...] = ()
    description: tuple[str, str] | None = None  # (before, after) when it changed
    position: tuple[int, int] | None = None  # (before, after) when the rule moved
    description_de: tuple[str, str] | None = None  # the German description (`_description_de`), when it changed


@dataclass(frozen=True)
class ColumnRef:
    kind: str  # "input" or "output"
    id: str
    field: str
    name: str


@dataclass(frozen=True)
class TableDiff:
    hit_policy: tuple[str, str] | None = None
    columns_added: tuple[ColumnRef, ...] = ()
    columns_removed: tuple[ColumnRef, ...] = ()
    columns_changed: tuple[tuple[ColumnRef, ColumnRef], ...] = ()  # same id, other field or name
    rules_added: tuple[str, ...] = ()
    rules_removed: tuple[str, ...] = ()
    rules_changed: tuple[RuleChange, ...] = ()
    tests_added: tuple[str, ...] = ()
    tests_removed: tuple[str, ...] = ()
    tests_changed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return any(
            (
                self.hit_policy,
                self.columns_added,
                self.columns_removed,
                self.columns_changed,
                self.rules_added,
                self.rules_removed,
                self.rules_changed,
                self.tests_added,
                self.tests_removed,
                self.tests_changed,
            )
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["changed"] = self.changed
        return data


def _content(jdm: object) -> Mapping[str, Any]:
    if not isinstance(jdm, Mapping):
        return {}
    nodes = jdm.get("nodes")
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, Mapping) and node.get("type") == "decisionTableNode":
            content = node.get("content")
            return content if isinstance(content, Mapping) else {}
    return {}


def _columns(content: Mapping[str, Any]) -> dict[str, ColumnRef]:
    columns: dict[str, ColumnRef] = {}
    for kind, section in (("input", "inputs"), ("output", "outputs")):
        raw = content.get(section)
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, Mapping) and isinstance(item.get("id"), str) and item["id"] not in columns:
                columns[item["id"]] = ColumnRef(kind, item["id"], _text(item.get("field")), _text(item.get("name")))
    return columns


def _rules(content: Mapping[str, Any]) -> dict[str, tuple[int, Mapping[str, Any]]]:
    rules: dict[str, tuple[int, Mapping[str, Any]]] = {}
    raw = content.get("rules")
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        if isinstance(item, Mapping) and isinstance(item.get("_id"), str) and item["_id"] not in rules:
            rules[item["_id"]] = (index, item)
    return rules


def _tests(tests: object) -> dict[str, Any]:
    named: dict[str, Any] = {}
    for index, item in enumerate(tests if isinstance(tests, list) else []):
        if isinstance(item, Mapping):
            name = _text(item.get("name")) or f"test {index + 1}"
            named.setdefault(name, {"inputs": item.get("inputs"), "expected": item.get("expected")})
    return named


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def compare(before_jdm: object, before_tests: object, after_jdm: object, after_tests: object) -> TableDiff:
    """What changed from `before` to `after` (two JDM documents and their test cases)."""
    old, new = _content(before_jdm), _content(after_jdm)
    old_policy, new_policy = _text(old.get("hitPolicy")), _text(new.get("hitPolicy"))
    old_columns, new_columns = _columns(old), _columns(new)
    columns_changed = tuple(
        (old_columns[cid], new_columns[cid]) for cid in old_columns if cid in new_columns and old_columns[cid] != new_columns[cid]
    )
    labels = {cid: column.field or cid for cid, column in {**old_columns, **new_columns}.items()}
    old_rules, new_rules = _rules(old), _rules(new)
    # Positions among the rules both versions share: a rule moved only if its order relative
    # to the others changed (adding a rule above it is not a move).
    shared = [rid for rid in old_rules if rid in new_rules]
    old_rank = {rid: rank for rank, rid in enumerate(shared)}
    new_rank = {rid: rank for rank, rid in enumerate(sorted(shared, key=lambda rid: new_rules[rid][0]))}
    rules_changed = []
    for rid in shared:
        (old_index, old_rule), (new_index, new_rule) = old_rules[rid], new_rules[rid]
        column_ids = [cid for cid in (*old_columns, *new_columns) if not cid.startswith("_")]
        column_ids += [key for key in (*old_rule, *new_rule) if not key.startswith("_") and key not in column_ids]
        cells = tuple(
            CellChange(labels.get(cid, cid), _text(old_rule.get(cid)), _text(new_rule.get(cid)))
            for cid in dict.fromkeys(column_ids)
            if _text(old_rule.get(cid)) != _text(new_rule.get(cid))
        )
        old_text, new_text = _text(old_rule.get("_description")), _text(new_rule.get("_description"))
        description = (old_text, new_text) if old_text != new_text else None
        old_de, new_de = _text(old_rule.get("_description_de")), _text(new_rule.get("_description_de"))
        description_de = (old_de, new_de) if old_de != new_de else None
        position = (old_index, new_index) if old_rank[rid] != new_rank[rid] else None
        if cells or description or position or description_de:
            rules_changed.append(RuleChange(rid, cells, description, position, description_de))
    old_tests, new_tests = _tests(before_tests), _tests(after_tests)
    return TableDiff(
        hit_policy=(old_policy, new_policy) if old_policy != new_policy else None,
        columns_added=tuple(column for cid, column in new_columns.items() if cid not in old_columns),
        columns_removed=tuple(column for cid, column in old_columns.items() if cid not in new_columns),
        columns_changed=columns_changed,
        rules_added=tuple(rid for rid in new_rules if rid not in old_rules),
        rules_removed=tuple(rid for rid in old_rules if rid not in new_rules),
        rules_changed=tuple(rules_changed),
        tests_added=tuple(name for name in new_tests if name not in old_tests),
        tests_removed=tuple(name for name in old_tests if name not in new_tests),
        tests_changed=tuple(name for name in old_tests if name in new_tests and old_tests[name] != new_tests[name]),
    )
