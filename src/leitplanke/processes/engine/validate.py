"""Validation of a process definition: every problem at once, each with its place.

A place names where the problem is, by key where there is one (``states.closed.label_en``,
``transitions.close.guard``, ``transitions[4].to``); `code` is stable (the Django side
translates by it), `message` is English for logs and the command line, `params` fill the
translated text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .expr import GuardSyntaxError, compile_guard
from .model import ASSIGN_TO, CLOCK_ACTIONS, EFFECT_TYPES, ESCALATION_ACTIONS, KINDS, FieldSpec, InvalidDefinition, Process, build

MESSAGES = {
    "not_an_object": "must be an object",
    "not_a_list": "must be a list",
    "missing": "is missing",
    "empty_text": "the {language} text is missing",
    "duplicate_key": "the key {key} is used twice",
    "bad_key": "a key is made of letters, digits, '_' and '-' (at most 50)",
    "unknown_kind": "the kind must be one of open, waiting, resolved, closed",
    "unknown_state": "there is no state {state}",
    "no_states": "a process needs at least one state",
    "unreachable": "the state {state} cannot be reached from the initial state",
    "dead_end": "the state {state} has no way out and is not a closed state",
    "no_closed_state": "a process needs a closed state",
    "guard_syntax": "the guard does not parse: {error}",
    "unknown_field": "there is no field {field}",
    "not_settable": "the field {field} cannot be set by a transition",
    "unknown_effect": "unknown effect type {type}",
    "unknown_action": "unknown action {action}",
    "unknown_role": "there is no role {role}",
    "unknown_clock": "there is no clock (deadline rule) {clock}",
    "unknown_table": "there is no published decision table {table}",
    "bad_level": "the level must be a whole number from 1 to 9",
    "bad_threshold": 'escalate_on lists "warning" and "breach" only',
    "bad_choice": "{value} is not one of the field's values",
    "bad_assign_to": 'assign_to is "team_lead", "handler" or empty (keep the responsible person)',
    "assign_to_without_handler": 'assign_to "handler" needs a role in handled_by',
}


@dataclass(frozen=True)
class Problem:
    place: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return MESSAGES.get(self.code, self.code).format(**self.params)

    def as_dict(self) -> dict[str, Any]:
        return {"place": self.place, "code": self.code, "message": self.message, "params": dict(self.params)}


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, place: str, code: str, **params: Any) -> None:
        self.problems.append(Problem(place, code, params))


def _key_ok(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 50 and all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in value)


def _place(section: str, index: int, item: Any) -> str:
    if isinstance(item, Mapping) and _key_ok(item.get("key")):
        return f"{section}.{item['key']}"
    return f"{section}[{index}]"


def _labels(out: _Collector, place: str, item: Mapping[str, Any], prefix: str = "label") -> None:
    for language, name in (("de", "German"), ("en", "English")):
        value = item.get(f"{prefix}_{language}")
        if not isinstance(value, str) or not value.strip():
            out.add(f"{place}.{prefix}_{language}", "empty_text", language=name)


def _list(out: _Collector, place: str, value: Any, *, required: bool = False) -> list[Any]:
    if value is None:
        if required:
            out.add(place, "missing")
        return []
    if not isinstance(value, list):
        out.add(place, "not_a_list")
        return []
    return value


def _case_field(name: str) -> str:
    return name if name.startswith(("case.", "customer.")) else f"case.{name}"


def validate(
    definition: Any,
    known_fields: Mapping[str, FieldSpec],
    *,
    known_roles: Iterable[str] | None = None,
    known_clocks: Iterable[str] | None = None,
    known_tables: Iterable[str] | None = None,
) -> list[Problem]:
    """All problems of a definition (empty if it is valid). `known_fields` by path;
    roles, clocks and decision tables (the keys with a published version) are checked only
    when their lists are given."""
    out = _Collector()
    if not isinstance(definition, Mapping):
        out.add("", "not_an_object")
        return out.problems
    roles = set(known_roles) if known_roles is not None else None
    clocks = set(known_clocks) if known_clocks is not None else None
    tables = set(known_tables) if known_tables is not None else None

    # --- states ------------------------------------------------------------------------
    states = _list(out, "states", definition.get("states"), required=True)
    if "states" in definition and isinstance(definition.get("states"), list) and not states:
        out.add("states", "no_states")
    state_kinds: dict[str, str] = {}
    for index, state in enumerate(states):
        place = _place("states", index, state)
        if not isinstance(state, Mapping):
            out.add(place, "not_an_object")
            continue
        key = state.get("key")
        if key is None:
            out.add(f"{place}.key", "missing")
        elif not _key_ok(key):
            out.add(f"{place}.key", "bad_key")
        elif key in state_kinds:
            out.add(f"states[{index}].key", "duplicate_key", key=key)
        _labels(out, place, state)
        kind = state.get("kind")
        if kind not in KINDS:
            out.add(f"{place}.kind", "unknown_kind")
        if isinstance(key, str) and _key_ok(key) and key not in state_kinds:
            state_kinds[key] = str(kind) if kind in KINDS else ""
        for clock in _list(out, f"{place}.pauses", state.get("pauses")):
            if not isinstance(clock, str) or (clocks is not None and clock not in clocks):
                out.add(f"{place}.pauses", "unknown_clock", clock=clock)

    initial = definition.get("initial")
    if initial is None:
        out.add("initial", "missing")
    elif initial not in state_kinds and state_kinds:
        out.add("initial", "unknown_state", state=initial)

    # --- transitions ---------------------------------------------------------------------
    transitions = _list(out, "transitions", definition.get("transitions"), required=True)
    seen: set[str] = set()
    edges: dict[str, set[str]] = {}
    for index, transition in enumerate(transitions):
        place = _place("transitions", index, transition)
        if not isinstance(transition, Mapping):
            out.add(place, "not_an_object")
            continue
        key = transition.get("key")
        if key is None:
            out.add(f"{place}.key", "missing")
        elif not _key_ok(key):
            out.add(f"{place}.key", "bad_key")
        elif key in seen:
            out.add(f"transitions[{index}].key", "duplicate_key", key=key)
        else:
            seen.add(key)
        _labels(out, place, transition)
        sources = transition.get("from")
        if isinstance(sources, str):
            sources = [sources]
        sources = _list(out, f"{place}.from", sources, required=True)
        if "from" in transition and not sources and isinstance(transition.get("from"), list):
            out.add(f"{place}.from", "missing")
        for source in sources:
            if source not in state_kinds:
                out.add(f"{place}.from", "unknown_state", state=source)
        target = transition.get("to")
        if target is None:
            out.add(f"{place}.to", "missing")
        elif target not in state_kinds:
            out.add(f"{place}.to", "unknown_state", state=target)
        else:
            for source in sources:
                if source in state_kinds:
                    edges.setdefault(source, set()).add(target)
        for role in _list(out, f"{place}.roles", transition.get("roles")):
            if not isinstance(role, str) or (roles is not None and role not in roles):
                out.add(f"{place}.roles", "unknown_role", role=role)
        guard = transition.get("guard")
        if guard not in (None, ""):
            if not isinstance(guard, str):
                out.add(f"{place}.guard", "guard_syntax", error="not a text")
            else:
                try:
                    compiled = compile_guard(guard)
                except GuardSyntaxError as error:
                    out.add(f"{place}.guard", "guard_syntax", error=str(error))
                else:
                    for path in compiled.fields:
                        if path not in known_fields:
                            out.add(f"{place}.guard", "unknown_field", field=path)
        for name in _list(out, f"{place}.requires", transition.get("requires")):
            path = _case_field(str(name))
            spec = known_fields.get(path)
            if spec is None:
                out.add(f"{place}.requires", "unknown_field", field=name)
            elif not spec.settable:
                out.add(f"{place}.requires", "not_settable", field=name)
        item_keys: set[str] = set()
        for number, item in enumerate(_list(out, f"{place}.checklist", transition.get("checklist"))):
            item_place = _place(f"{place}.checklist", number, item)
            if not isinstance(item, Mapping):
                out.add(item_place, "not_an_object")
                continue
            if not _key_ok(item.get("key")):
                out.add(f"{item_place}.key", "bad_key")
            elif item["key"] in item_keys:
                out.add(f"{item_place}.key", "duplicate_key", key=item["key"])
            else:
                item_keys.add(item["key"])
            _labels(out, item_place, item)
        for number, effect in enumerate(_list(out, f"{place}.effects", transition.get("effects"))):
            _effect(out, f"{place}.effects[{number}]", effect, known_fields, clocks, tables)

    # --- escalation levels ------------------------------------------------------------
    levels: set[Any] = set()
    for index, level in enumerate(_list(out, "escalation_levels", definition.get("escalation_levels"))):
        place = f"escalation_levels[{index}]"
        if not isinstance(level, Mapping):
            out.add(place, "not_an_object")
            continue
        level_number = level.get("level")
        if not isinstance(level_number, int) or isinstance(level_number, bool) or not 1 <= level_number <= 9:
            out.add(f"{place}.level", "bad_level")
        elif level_number in levels:
            out.add(f"{place}.level", "duplicate_key", key=level_number)
        else:
            levels.add(level_number)
        _labels(out, place, level)
        handler = level.get("handled_by")
        if handler not in (None, "") and (not isinstance(handler, str) or (roles is not None and handler not in roles)):
            out.add(f"{place}.handled_by", "unknown_role", role=handler)
        assign_to = level.get("assign_to")
        if assign_to is not None and (not isinstance(assign_to, str) or assign_to not in ASSIGN_TO):
            out.add(f"{place}.assign_to", "bad_assign_to", value=assign_to)
        elif assign_to == "handler" and handler in (None, ""):
            out.add(f"{place}.assign_to", "assign_to_without_handler")

    escalate_on = definition.get("escalate_on")
    if escalate_on is not None and (
        not isinstance(escalate_on, list) or any(t not in ("warning", "breach") for t in escalate_on)
    ):
        out.add("escalate_on", "bad_threshold")

    # --- the graph: reachable states, dead ends ---------------------------------------
    if initial in state_kinds:
        reached = {initial}
        frontier = [initial]
        while frontier:
            for target in edges.get(frontier.pop(), ()):
                if target not in reached:
                    reached.add(target)
                    frontier.append(target)
        for key in state_kinds:
            if key not in reached:
                out.add(f"states.{key}", "unreachable", state=key)
    for key, kind in state_kinds.items():
        if kind and kind != "closed" and not edges.get(key):
            out.add(f"states.{key}", "dead_end", state=key)
    if state_kinds and "closed" not in state_kinds.values():
        out.add("states", "no_closed_state")
    return out.problems


def _effect(
    out: _Collector,
    place: str,
    effect: Any,
    known_fields: Mapping[str, FieldSpec],
    clocks: set[str] | None,
    tables: set[str] | None,
) -> None:
    if not isinstance(effect, Mapping):
        out.add(place, "not_an_object")
        return
    kind = effect.get("type")
    if kind not in EFFECT_TYPES:
        out.add(f"{place}.type", "unknown_effect", type=kind)
        return
    if kind == "set_field":
        name = effect.get("field")
        spec = known_fields.get(_case_field(str(name))) if isinstance(name, str) else None
        if not isinstance(name, str) or not name:
            out.add(f"{place}.field", "missing")
        elif spec is None:
            out.add(f"{place}.field", "unknown_field", field=name)
        elif not spec.settable or spec.path.startswith("case.custom."):
            out.add(f"{place}.field", "not_settable", field=name)
        elif "value" in effect and not _settable_value_ok(spec, effect.get("value")):
            out.add(f"{place}.value", "bad_choice", value=effect.get("value"))
        if "value" not in effect:
            out.add(f"{place}.value", "missing")
    elif kind == "send_template":
        if not _key_ok(effect.get("template")):
            out.add(f"{place}.template", "missing")
    elif kind == "clock":
        if effect.get("action") not in CLOCK_ACTIONS:
            out.add(f"{place}.action", "unknown_action", action=effect.get("action"))
        clock = effect.get("clock")
        if not isinstance(clock, str) or not clock:
            out.add(f"{place}.clock", "missing")
        elif clocks is not None and clock not in clocks:
            out.add(f"{place}.clock", "unknown_clock", clock=clock)
    elif kind == "escalation":
        action = effect.get("action")
        if action not in ESCALATION_ACTIONS:
            out.add(f"{place}.action", "unknown_action", action=action)
        elif action == "set":
            level = effect.get("level")
            if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 9:
                out.add(f"{place}.level", "bad_level")
    elif kind == "webhook":
        endpoint = effect.get("endpoint")
        if not isinstance(endpoint, str) or not endpoint.strip():
            out.add(f"{place}.endpoint", "missing")
    elif kind == "decide":
        table = effect.get("table")
        if not isinstance(table, str) or not table:
            out.add(f"{place}.table", "missing")
        elif not _key_ok(table) or (tables is not None and table not in tables):
            out.add(f"{place}.table", "unknown_table", table=table)


def _settable_value_ok(spec: FieldSpec, value: Any) -> bool:
    """A value an effect may set: one of the choices; an amount from 0 with two decimals;
    text; or nothing (clears the field) where a field may be empty."""
    if value is None or value == "":
        return spec.kind in ("text", "money") or (spec.kind == "choice" and spec.path not in REQUIRED_CHOICES)
    if spec.choices:
        return value in spec.choices and not isinstance(value, bool)
    if spec.kind == "money":
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return False
        return amount.is_finite() and Decimal(0) <= amount < Decimal("1e10") and amount == amount.quantize(Decimal("0.01"))
    if spec.kind == "text":
        return isinstance(value, str) and len(value) <= 10_000
    return False


# Choice fields that always hold a value (an effect cannot clear them).
REQUIRED_CHOICES = ("case.priority", "case.severity", "case.currency")


def compile_process(
    definition: Mapping[str, Any],
    known_fields: Mapping[str, FieldSpec],
    *,
    known_roles: Iterable[str] | None = None,
    known_clocks: Iterable[str] | None = None,
    known_tables: Iterable[str] | None = None,
) -> Process:
    """The runtime form of a valid definition; InvalidDefinition lists the problems otherwise."""
    problems = validate(definition, known_fields, known_roles=known_roles, known_clocks=known_clocks, known_tables=known_tables)
    if problems:
        raise InvalidDefinition(problems)
    return build(definition)
