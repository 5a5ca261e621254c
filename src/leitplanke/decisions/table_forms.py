"""The forms of the decision table editor (Settings → Decision tables, table_views.py).

The grid is one HTML form whose inputs are named by position (``rule-3-in-1`` is the cell of
rule 3 under input column 1). `grid_from_post` reads it back into a `Grid`, `Grid.apply` carries
out the button that was pressed (add/delete/move a rule, add/remove a column), and
`Grid.to_jdm` writes the table node of the stored JDM document. Nothing is checked here beyond
sizes: the engine (`decisions.engine.load`, run by the services on save) reports every problem
with its place, and `place_anchor` turns that place back into the id of the input to mark.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leitplanke.core.forms import Form
from leitplanke.core.text import unstorable_paths
from leitplanke.decisions.engine import CONTENT_TYPE

MAX_RULES = 2000  # the engine's limit
MAX_COLUMNS = 40
MAX_TESTS = 500
MAX_CELL = 2000
MAX_TEXT = 200  # column names and fields
MAX_DESCRIPTION = 2000
MAX_TEST_JSON = 20_000
MAX_UPLOAD = 2 * 1024 * 1024

KIND_CHOICES = [
    ("none", gettext_lazy("No payment")),
    ("goodwill", gettext_lazy("Goodwill")),
    ("redress", gettext_lazy("Redress")),
]
HIT_POLICY_CHOICES = [
    ("first", gettext_lazy("First: the first matching rule")),
    ("collect", gettext_lazy("Collect: every matching rule")),
]


@dataclass
class Column:
    id: str
    name: str
    field: str


@dataclass
class Rule:
    id: str
    description: str
    inputs: list[str]
    outputs: list[str]
    description_de: str = ""  # `_description_de`: shown to German readers when given


@dataclass
class Case:
    """A test case as typed: the JSON of its inputs and expected outputs as text."""

    name: str
    inputs: str
    expected: str


@dataclass
class Grid:
    hit_policy: str = "first"
    inputs: list[Column] = field(default_factory=list)
    outputs: list[Column] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    tests: list[Case] = field(default_factory=list)

    # --- the buttons ------------------------------------------------------------------------

    def apply(self, op: str) -> None:
        """Carries out one button of the editor (``add_rule``, ``delete_rule:3``, ``up:3``,
        ``down:3``, ``add_input``, ``add_output``, ``remove_input:1``, ``remove_output:0``,
        ``delete_test:2``); anything else (``save``) changes nothing."""
        name, _sep, arg = op.partition(":")
        index = int(arg) if arg.isdigit() else -1
        if name == "add_rule" and len(self.rules) < MAX_RULES:
            rule = Rule(self._new_id("r", {r.id for r in self.rules}), "", [""] * len(self.inputs), [""] * len(self.outputs))
            if 0 <= index < len(self.rules):
                self.rules.insert(index + 1, rule)
            else:
                self.rules.append(rule)
        elif name == "delete_rule" and 0 <= index < len(self.rules):
            del self.rules[index]
        elif name == "up" and 0 < index < len(self.rules):
            self.rules[index - 1], self.rules[index] = self.rules[index], self.rules[index - 1]
        elif name == "down" and 0 <= index < len(self.rules) - 1:
            self.rules[index + 1], self.rules[index] = self.rules[index], self.rules[index + 1]
        elif name in ("add_input", "add_output") and len(self.inputs) + len(self.outputs) < MAX_COLUMNS:
            taken = {c.id for c in (*self.inputs, *self.outputs)}
            if name == "add_input":
                self.inputs.append(Column(self._new_id("in", taken), "", ""))
                for rule in self.rules:
                    rule.inputs.append("")
            else:
                self.outputs.append(Column(self._new_id("out", taken), "", ""))
                for rule in self.rules:
                    rule.outputs.append("")
        elif name == "remove_input" and 0 <= index < len(self.inputs):
            del self.inputs[index]
            for rule in self.rules:
                del rule.inputs[index]
        elif name == "remove_output" and 0 <= index < len(self.outputs):
            del self.outputs[index]
            for rule in self.rules:
                del rule.outputs[index]
        elif name == "delete_test" and 0 <= index < len(self.tests):
            del self.tests[index]

    @staticmethod
    def _new_id(prefix: str, taken: set[str]) -> str:
        n = len(taken) + 1
        while f"{prefix}{n}" in taken:
            n += 1
        return f"{prefix}{n}"

    # --- to the stored form ---------------------------------------------------------------

    def to_jdm(self, base: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
        """The JDM document: `base` (the stored one, whose nodes, ids and positions are kept)
        with the table node's content replaced by the grid."""
        content = {
            "hitPolicy": self.hit_policy,
            "inputs": [{"id": c.id, "name": c.name, "field": c.field} for c in self.inputs],
            "outputs": [{"id": c.id, "name": c.name, "field": c.field} for c in self.outputs],
            "rules": [
                {
                    "_id": rule.id,
                    "_description": rule.description,
                    **({"_description_de": rule.description_de} if rule.description_de else {}),
                    **{c.id: value for c, value in zip(self.inputs, rule.inputs, strict=True)},
                    **{c.id: value for c, value in zip(self.outputs, rule.outputs, strict=True)},
                }
                for rule in self.rules
            ],
        }
        document = copy.deepcopy(dict(base)) if isinstance(base, Mapping) else {}
        nodes = document.get("nodes")
        table_node = None
        if isinstance(nodes, list):
            table_node = next((n for n in nodes if isinstance(n, dict) and n.get("type") == "decisionTableNode"), None)
        if table_node is None:
            document = skeleton(name)
            table_node = document["nodes"][1]
        old = table_node.get("content")
        table_node["content"] = {**(old if isinstance(old, dict) else {}), **content}
        return document

    def tests_json(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """The test cases to store, and the JSON errors by input name. A field whose JSON does
        not parse is stored as the text typed (the engine reports that test as malformed), so
        that the draft keeps it; blank test rows are left out."""
        cases: list[dict[str, Any]] = []
        errors: dict[str, str] = {}
        for case in self.tests:
            if not (case.name.strip() or case.inputs.strip() or case.expected.strip()):
                continue
            row: dict[str, Any] = {"name": case.name.strip()}
            for part, text, blank in (("inputs", case.inputs, "{}"), ("expected", case.expected, "{}")):
                try:
                    row[part] = json.loads(text if text.strip() else blank)
                except (ValueError, RecursionError) as error:
                    row[part] = text
                    # keyed by the position among the stored tests (blank rows are left out)
                    errors[f"test-{len(cases)}-{part}"] = _("This is not valid JSON: %(error)s") % {"error": error}
            cases.append(row)
        return cases, errors


def skeleton(name: str) -> dict[str, Any]:
    """An empty table as a JDM document (the GoRules editor's layout of three nodes)."""
    return {
        "contentType": CONTENT_TYPE,
        "nodes": [
            {"id": "input", "type": "inputNode", "name": "Request", "position": {"x": 100, "y": 100}},
            {
                "id": "table",
                "type": "decisionTableNode",
                "name": name or "Decision table",
                "position": {"x": 400, "y": 100},
                "content": {
                    "hitPolicy": "first",
                    "inputs": [],
                    "outputs": [],
                    "rules": [],
                    "passThrough": False,
                    "inputField": None,
                    "outputPath": None,
                    "executionMode": "single",
                },
            },
            {"id": "output", "type": "outputNode", "name": "Response", "position": {"x": 800, "y": 100}},
        ],
        "edges": [
            {"id": "edge-in", "sourceId": "input", "targetId": "table", "type": "edge"},
            {"id": "edge-out", "sourceId": "table", "targetId": "output", "type": "edge"},
        ],
    }


def starter(name: str) -> dict[str, Any]:
    """A new table: one input, one output and one rule to start from."""
    grid = Grid(
        inputs=[Column("in1", "Input", "")],
        outputs=[Column("out1", "Output", "")],
        rules=[Rule("r1", "", [""], [""])],
    )
    return grid.to_jdm(skeleton(name), name)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value, ensure_ascii=False)


def _json_text(value: object) -> str:
    if isinstance(value, str):
        return value  # kept as typed when it did not parse
    return json.dumps(value, ensure_ascii=False)


def grid_from_jdm(jdm: object, tests: object) -> Grid:
    """The grid of a stored document; tolerant of drafts the engine refuses."""
    grid = Grid()
    content: Mapping[str, Any] = {}
    if isinstance(jdm, Mapping) and isinstance(jdm.get("nodes"), list):
        node = next((n for n in jdm["nodes"] if isinstance(n, Mapping) and n.get("type") == "decisionTableNode"), None)
        if node is not None and isinstance(node.get("content"), Mapping):
            content = node["content"]
    grid.hit_policy = str(content.get("hitPolicy")) if content.get("hitPolicy") in ("first", "collect") else "first"
    for part, target in (("inputs", grid.inputs), ("outputs", grid.outputs)):
        raw = content.get(part)
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, Mapping):
                target.append(Column(_text(item.get("id")), _text(item.get("name")), _text(item.get("field"))))
    raw_rules = content.get("rules")
    for item in raw_rules if isinstance(raw_rules, list) else []:
        if isinstance(item, Mapping):
            grid.rules.append(
                Rule(
                    _text(item.get("_id")),
                    _text(item.get("_description")),
                    [_text(item.get(c.id)) for c in grid.inputs],
                    [_text(item.get(c.id)) for c in grid.outputs],
                    _text(item.get("_description_de")),
                )
            )
    for item in tests if isinstance(tests, list) else []:
        if isinstance(item, Mapping):
            grid.tests.append(
                Case(_text(item.get("name")), _json_text(item.get("inputs", {})), _json_text(item.get("expected", {})))
            )
    return grid


def _count(data: Mapping[str, Any], name: str, limit: int) -> int:
    try:
        return max(0, min(int(str(data.get(name, "0"))), limit))
    except ValueError:
        return 0


def grid_from_post(data: Mapping[str, Any]) -> tuple[Grid, dict[str, str]]:
    """The grid as posted, and errors by input name for what is too long or unstorable."""
    errors: dict[str, str] = {}

    def text(name: str, limit: int) -> str:
        value = data.get(name, "")
        value = value if isinstance(value, str) else ""
        if next(unstorable_paths(value), None) is not None:
            errors[name] = _("This text contains characters that cannot be stored.")
            return ""
        if len(value) > limit:
            errors[name] = _("At most %(limit)s characters.") % {"limit": limit}
            return value[:limit]
        return value

    grid = Grid(hit_policy=str(data.get("hit_policy")) if data.get("hit_policy") in ("first", "collect") else "first")
    n_in = _count(data, "inputs", MAX_COLUMNS)
    n_out = _count(data, "outputs", MAX_COLUMNS)
    for part, count, target in (("in", n_in, grid.inputs), ("out", n_out, grid.outputs)):
        for i in range(count):
            column_id = text(f"{part}-{i}-id", 64).strip() or f"{part}{i + 1}"
            target.append(Column(column_id, text(f"{part}-{i}-name", MAX_TEXT), text(f"{part}-{i}-field", MAX_TEXT).strip()))
    # Column ids come back from hidden inputs; two equal ones would share cells.
    seen: set[str] = set()
    for column in (*grid.inputs, *grid.outputs):
        while column.id in seen or column.id.startswith("_"):
            column.id = grid._new_id("c", seen | {c.id for c in (*grid.inputs, *grid.outputs)})
        seen.add(column.id)
    for r in range(_count(data, "rules", MAX_RULES)):
        grid.rules.append(
            Rule(
                text(f"rule-{r}-id", 64).strip() or f"r{r + 1}",
                text(f"rule-{r}-description", MAX_DESCRIPTION),
                [text(f"rule-{r}-in-{i}", MAX_CELL) for i in range(n_in)],
                [text(f"rule-{r}-out-{j}", MAX_CELL) for j in range(n_out)],
                text(f"rule-{r}-description_de", MAX_DESCRIPTION),
            )
        )
    for t in range(_count(data, "tests", MAX_TESTS + 1)):
        grid.tests.append(
            Case(
                text(f"test-{t}-name", MAX_TEXT),
                text(f"test-{t}-inputs", MAX_TEST_JSON),
                text(f"test-{t}-expected", MAX_TEST_JSON),
            )
        )
    return grid, errors


# --- problems: where they are shown -------------------------------------------------------

PLACE = re.compile(r"^rules\[(\d+)\](?: \([^)]*\))?(?:\.(.+))?$")
COLUMN_PLACE = re.compile(r"^(inputs|outputs)\[(\d+)\](?:\.(\w+))?$")
TEST_PLACE = re.compile(r"^tests\[(\d+)\](?:\.(inputs|expected))?")


def place_anchor(place: str, grid: Grid) -> str:
    """The input name (its HTML id is ``id_`` + name) where a problem at `place` is shown, or ""
    when it belongs to the table as a whole."""
    if place == "hitPolicy":
        return "hit_policy"
    match = PLACE.match(place)
    if match:
        r, rest = int(match.group(1)), match.group(2) or ""
        if rest in ("", "_id", "_description"):
            return f"rule-{r}-description"
        if rest == "_description_de":
            return f"rule-{r}-description_de"
        for i, column in enumerate(grid.inputs):
            if column.field == rest:
                return f"rule-{r}-in-{i}"
        for j, column in enumerate(grid.outputs):
            if column.field == rest:
                return f"rule-{r}-out-{j}"
        return f"rule-{r}-description"
    match = COLUMN_PLACE.match(place)
    if match:
        part = "in" if match.group(1) == "inputs" else "out"
        return f"{part}-{match.group(2)}-{'name' if match.group(3) == 'name' else 'field'}"
    match = TEST_PLACE.match(place)
    if match:
        return f"test-{match.group(1)}-{match.group(2) or 'expected'}"
    return ""


# --- the small forms ------------------------------------------------------------------------


class TableMetaForm(Form):
    """Names, description and kind of a draft (above the grid)."""

    name_de = forms.CharField(label=gettext_lazy("Name (German)"), max_length=200)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    decision_kind = forms.ChoiceField(label=gettext_lazy("Kind of decision"), choices=KIND_CHOICES)
    hit_policy = forms.ChoiceField(label=gettext_lazy("Hit policy"), choices=HIT_POLICY_CHOICES)
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)


class NewTableForm(Form):
    key = forms.SlugField(
        label=gettext_lazy("Key"),
        max_length=50,
        help_text=gettext_lazy("Letters, digits, '-' and '_'; fixed once created."),
    )
    name_de = forms.CharField(label=gettext_lazy("Name (German)"), max_length=200)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=200)
    decision_kind = forms.ChoiceField(label=gettext_lazy("Kind of decision"), choices=KIND_CHOICES)


def parse_json_upload(upload: Any, label: str) -> Any:
    """The JSON of an uploaded file, or a ValidationError naming what is wrong with it."""
    if upload.size > MAX_UPLOAD:
        raise forms.ValidationError(
            _("%(file)s is too large (at most %(limit)s MB).") % {"file": label, "limit": MAX_UPLOAD // (1024 * 1024)}
        )
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError:
        raise forms.ValidationError(_("%(file)s is not UTF-8 text.") % {"file": label}) from None
    if next(unstorable_paths(text), None) is not None:
        raise forms.ValidationError(_("%(file)s contains characters that cannot be stored.") % {"file": label})
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise forms.ValidationError(_("%(file)s is not valid JSON: %(error)s") % {"file": label, "error": error}) from None


class ImportForm(NewTableForm):
    # Empty: a new key is named after the JDM's table node; a new version keeps the latest's names.
    name_de = forms.CharField(label=gettext_lazy("Name (German)"), max_length=200, required=False)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=200, required=False)
    decision_kind = forms.ChoiceField(
        label=gettext_lazy("Kind of decision"),
        choices=[("", gettext_lazy("as the latest version (new table: no payment)")), *KIND_CHOICES],
        required=False,
    )
    file = forms.FileField(label=gettext_lazy("GoRules JDM file (JSON)"))
    tests_file = forms.FileField(label=gettext_lazy("Test cases (JSON, optional)"), required=False)

    def clean_file(self) -> Any:
        data = parse_json_upload(self.cleaned_data["file"], _("The table file"))
        if not isinstance(data, dict):
            raise forms.ValidationError(_("The table file must hold a JSON object (a GoRules JDM document)."))
        return data

    def clean_tests_file(self) -> Any:
        upload = self.cleaned_data.get("tests_file")
        if upload is None:
            return []
        data = parse_json_upload(upload, _("The test file"))
        if not isinstance(data, list):
            raise forms.ValidationError(_("The test file must hold a JSON list of test cases."))
        return data


class TryForm(Form):
    inputs = forms.CharField(
        label=gettext_lazy('Inputs (JSON, e.g. {"disputed_amount": 120, "customer": {"segment": "private"}})'),
        max_length=MAX_TEST_JSON,
        widget=forms.Textarea(attrs={"rows": 4, "class": "code", "spellcheck": "false"}),
    )

    def clean_inputs(self) -> dict[str, Any]:
        try:
            data = json.loads(self.cleaned_data["inputs"])
        except (ValueError, RecursionError) as error:
            raise forms.ValidationError(_("This is not valid JSON: %(error)s") % {"error": error}) from None
        if not isinstance(data, dict):
            raise forms.ValidationError(_("The inputs must be a JSON object."))
        return data
