"""The engine's table problems and test failures in the user's language.

The engine (pure Python) names each problem by a stable code with parameters and keeps English
for logs; `check_result` stores code, params and the English message, and these are the
translated texts, looked up by code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

PROBLEMS: dict[str, Any] = {
    "not_an_object": _("must be an object"),
    "not_a_list": _("must be a list"),
    "missing": _("is missing"),
    "bad_content_type": _("the content type must be application/vnd.gorules.decision"),
    "node_count": _("a table has exactly one input node, one decision table node and one output node (found %(found)s)"),
    "unsupported_node": _("the node type %(type)s is not supported (only inputNode, decisionTableNode, outputNode)"),
    "bad_edges": _("the edges must lead from the input node to the table and from the table to the output node"),
    "bad_hit_policy": _("the hit policy must be first or collect"),
    "no_inputs": _("a table needs at least one input column"),
    "no_outputs": _("a table needs at least one output column"),
    "no_rules": _("a table needs at least one rule"),
    "too_many_rules": _("a table has at most %(limit)s rules"),
    "bad_input_field": _("an input field is a name or a dotted path of names (letters, digits, '_')"),
    "bad_output_field": _("an output field is a name of letters, digits and '_', starting with a letter"),
    "bad_column_id": _("a column id must not start with '_' (rule keys starting with '_' are the rule's own)"),
    "duplicate_column_id": _("the column id %(id)s is used twice"),
    "duplicate_field": _("the field %(field)s is used by two columns"),
    "duplicate_rule_id": _("the rule id %(id)s is used twice"),
    "not_text": _("a cell holds text"),
    "too_long": _("a cell holds at most %(limit)s characters"),
    "unknown_column": _("the rule has a cell for a column %(column)s that the table does not have"),
    "cell_syntax": _("the cell does not compile: %(error)s"),
    "bad_test": _("a test case has a name, inputs (an object) and expected outputs (an object, or a list for collect)"),
    "unknown_output": _("the table has no output %(field)s"),
    "engine_error": _("the engine could not run the table: %(error)s"),
}


def problem_text(problem: Mapping[str, Any]) -> str:
    """A stored problem ({place, code, params, message}) in the active language."""
    template = PROBLEMS.get(str(problem.get("code", "")))
    if template is None:
        return str(problem.get("message", ""))
    try:
        return str(template) % dict(problem.get("params") or {})
    except (KeyError, TypeError, ValueError):
        return str(problem.get("message", ""))


def failure_text(failure: Mapping[str, Any]) -> str:
    """A failed test case in the active language."""
    if failure.get("error"):
        return gettext("The test case could not be evaluated: %(error)s") % {"error": failure["error"]}
    return gettext("Expected %(expected)s, got %(actual)s.") % {
        "expected": _short(failure.get("expected")),
        "actual": _short(failure.get("actual")),
    }


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 300 else text[:297] + "…"


def _problem_pointer(place: str) -> str:
    return place if place.startswith("tests") else f"jdm/{place}"


def problem_errors(result: Mapping[str, Any]) -> dict[str, list[str]]:
    """The check's problems as field errors: pointer (`jdm/<place>`) → translated messages."""
    errors: dict[str, list[str]] = {}
    for problem in result.get("problems", []):
        errors.setdefault(_problem_pointer(str(problem.get("place", ""))), []).append(problem_text(problem))
    return errors


def failure_errors(result: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for failure in result.get("failures", []):
        errors.setdefault(f"tests/{failure.get('name', '')}", []).append(failure_text(failure))
    return errors
