"""The editor's changes to one part of a draft: states, the initial state, transitions, a
step's checklist and effects, the escalation levels.

Each function returns a change for `services.definition_change`, which applies it to the
definition as stored under the lock (so a change never works on a stale copy) and saves
and audits the result. A change refuses what would break the definition's references
(deleting a state that steps still use, or the initial state) with a DomainError in the
user's language; everything else the engine checks (validate.py) shows as a problem of the
draft, as for the JSON editor.

Renaming a key (`state_save` and `step_save` with a new key) changes every reference in the
same change: a state is named by the initial state, the steps' `from` and `to`, and by the
guards that compare `case.status` with it (a case's status is its state's key); a step's
key is named by nothing else in a definition. Cases run on published versions only, so a
draft's rename moves no case; `leitplanke processes migrate-cases` then needs the mapping
old=new for an open state renamed (docs/processes.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from leitplanke.core.errors import NotFound, ValidationFailed

from .engine.expr import rename_value
from .engine.validate import _key_ok

Change = Callable[[dict[str, Any]], dict[str, Any]]


def _items(data: dict[str, Any], section: str) -> list[Any]:
    items = data.setdefault(section, [])
    if not isinstance(items, list):
        raise ValidationFailed(
            _("The part “%(section)s” of the JSON is not a list; correct it there first.") % {"section": section}
        )
    return items


def _index(items: list[Any], key: str) -> int | None:
    return next((i for i, item in enumerate(items) if isinstance(item, Mapping) and item.get("key") == key), None)


def _sources(transition: Mapping[str, Any]) -> list[Any]:
    sources = transition.get("from")
    if isinstance(sources, str):
        return [sources]
    return list(sources) if isinstance(sources, list) else []


def _texts(target: dict[str, Any], values: Mapping[str, Any], names: tuple[str, ...]) -> None:
    """Writes the texts that are given and drops the empty ones (as the step form does)."""
    for name in names:
        if values.get(name):
            target[name] = values[name]
        else:
            target.pop(name, None)


def _new_key(items: list[Any], old: str | None, new: Any, taken: str) -> None:
    """Refuses a key that is not one (the rule of validate.py) or that another item has."""
    if not isinstance(new, str) or not _key_ok(new):
        raise ValidationFailed(field_errors={"key": [_("A key is made of letters, digits, '_' and '-' (at most 50).")]})
    if new != old and _index(items, new) is not None:
        raise ValidationFailed(field_errors={"key": [taken]})


def _rename_state(data: dict[str, Any], old: str, new: str) -> None:
    """Every reference to the state `old` in the definition now names `new`."""
    if data.get("initial") == old:
        data["initial"] = new
    for transition in _items(data, "transitions"):
        if not isinstance(transition, dict):
            continue
        sources = transition.get("from")
        if sources == old:
            transition["from"] = new
        elif isinstance(sources, list):
            transition["from"] = [new if source == old else source for source in sources]
        if transition.get("to") == old:
            transition["to"] = new
        if isinstance(transition.get("guard"), str):
            transition["guard"] = rename_value(transition["guard"], "case.status", old, new)


def state_save(values: Mapping[str, Any], *, key: str | None = None) -> Change:
    """Adds a state (`key` None: its key is values["key"]) or changes one; a changed key
    (values["key"] other than `key`) renames the state and every reference to it."""

    def change(data: dict[str, Any]) -> dict[str, Any]:
        states = _items(data, "states")
        entry = {
            "kind": values["kind"],
            "label_de": values["label_de"],
            "label_en": values["label_en"],
            "pauses": list(values.get("pauses") or []),
        }
        if key is None:
            if _index(states, values["key"]) is not None:
                raise ValidationFailed(field_errors={"key": [_("There is already a state with this key.")]})
            states.append({"key": values["key"], **entry})
            if not data.get("initial"):
                data["initial"] = values["key"]
        else:
            index = _index(states, key)
            if index is None:
                raise NotFound()
            new = values.get("key") or key
            if new != key:
                _new_key(states, key, new, _("There is already a state with this key."))
                _rename_state(data, key, new)
            states[index] = {**states[index], "key": new, **entry}
        return data

    return change


def state_delete(key: str) -> Change:
    def change(data: dict[str, Any]) -> dict[str, Any]:
        states = _items(data, "states")
        index = _index(states, key)
        if index is None:
            raise NotFound()
        if data.get("initial") == key:
            raise ValidationFailed(
                _("The state %(state)s is the initial state; choose another initial state first.") % {"state": key}
            )
        used = [
            str(t.get("key"))
            for t in _items(data, "transitions")
            if isinstance(t, Mapping) and (t.get("to") == key or key in _sources(t))
        ]
        if used:
            raise ValidationFailed(
                _("The state %(state)s is still used by the steps %(steps)s; delete them or change them first.")
                % {"state": key, "steps": ", ".join(used)}
            )
        del states[index]
        return data

    return change


def initial_set(key: str) -> Change:
    def change(data: dict[str, Any]) -> dict[str, Any]:
        if _index(_items(data, "states"), key) is None:
            raise ValidationFailed(field_errors={"initial": [_("There is no state %(state)s.") % {"state": key}]})
        data["initial"] = key
        return data

    return change


def transition_add(values: Mapping[str, Any]) -> Change:
    def change(data: dict[str, Any]) -> dict[str, Any]:
        transitions = _items(data, "transitions")
        if _index(transitions, values["key"]) is not None:
            raise ValidationFailed(field_errors={"key": [_("There is already a step with this key.")]})
        transitions.append(
            {
                "key": values["key"],
                "from": list(values["sources"]),
                "to": values["target"],
                "label_de": values["label_de"],
                "label_en": values["label_en"],
            }
        )
        return data

    return change


def transition_delete(key: str) -> Change:
    def change(data: dict[str, Any]) -> dict[str, Any]:
        transitions = _items(data, "transitions")
        index = _index(transitions, key)
        if index is None:
            raise NotFound()
        del transitions[index]
        return data

    return change


def step_save(
    key: str,
    values: Mapping[str, Any],
    *,
    checklist: list[dict[str, Any]] | None = None,
    effects: list[dict[str, Any]] | None = None,
) -> Change:
    """One step's labels, roles, guard, required fields; its checklist and effects when
    given (None leaves them as they are). A values["key"] other than `key` renames the step
    (nothing else in a definition names a step)."""

    def change(data: dict[str, Any]) -> dict[str, Any]:
        transitions = _items(data, "transitions")
        index = _index(transitions, key)
        if index is None:
            raise NotFound()
        changed = dict(transitions[index])
        new = values.get("key") or key
        if new != key:
            _new_key(transitions, key, new, _("There is already a step with this key."))
            changed["key"] = new
        _texts(changed, values, ("label_de", "label_en", "guard", "guard_label_de", "guard_label_en"))
        changed["roles"] = list(values.get("roles") or [])
        changed["requires"] = list(values.get("requires") or [])
        for name, rows in (("checklist", checklist), ("effects", effects)):
            if rows is None:
                continue
            if rows:
                changed[name] = rows
            else:
                changed.pop(name, None)
        transitions[index] = changed
        return data

    return change


def escalation_save(levels: list[dict[str, Any]], escalate_on: list[str]) -> Change:
    """The escalation levels (ordered by number) and the thresholds that raise the level."""

    def change(data: dict[str, Any]) -> dict[str, Any]:
        data["escalation_levels"] = sorted(levels, key=lambda level: level["level"])
        data["escalate_on"] = [threshold for threshold in ("warning", "breach") if threshold in escalate_on]
        return data

    return change
