"""What a user may do on a case, and what a step does.

`available_transitions` lists every transition out of the current state with whether it
is available and, if not, why (each reason with its labels in both languages);
`apply` checks the same and returns the new state with the effects to execute, or raises
TransitionRefused with the reasons. The context is flat (``{"case.priority": 3}``);
required fields are read from it as ``case.<name>``, so a caller who lets the user fill
them in merges the entered values first. Nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .expr import truthy
from .model import Effect, FieldSpec, Process, State, Transition

ROLE, GUARD, REQUIRES, CHECKLIST, UNKNOWN, NOT_FROM_HERE = (
    "role",
    "guard",
    "requires",
    "checklist",
    "unknown_transition",
    "not_from_here",
)


@dataclass(frozen=True)
class Reason:
    """Why a transition is not available. `code`: role, guard, requires, checklist;
    `subject`: the field, checklist item or roles concerned."""

    code: str
    subject: str
    label_de: str
    label_en: str

    @property
    def fixable(self) -> bool:
        """The user can meet it by entering something (a field, a checklist tick)."""
        return self.code in (REQUIRES, CHECKLIST)

    def text(self, language: str) -> str:
        label = self.label_de if language == "de" else self.label_en
        if language == "de":
            prefix = {ROLE: "nur für", GUARD: "Bedingung", REQUIRES: "erfordert", CHECKLIST: "zu bestätigen"}
        else:
            prefix = {ROLE: "only for", GUARD: "condition", REQUIRES: "requires", CHECKLIST: "to confirm"}
        return f"{prefix.get(self.code, self.code)}: {label}"


@dataclass(frozen=True)
class Availability:
    transition: Transition
    target: State
    reasons: tuple[Reason, ...]

    @property
    def available(self) -> bool:
        return not self.reasons

    @property
    def blocked(self) -> bool:
        """Not available for a reason the user cannot fix here (role, guard)."""
        return any(not reason.fixable for reason in self.reasons)

    @property
    def missing_fields(self) -> tuple[str, ...]:
        return tuple(r.subject for r in self.reasons if r.code == REQUIRES)


@dataclass(frozen=True)
class Outcome:
    transition: Transition
    source: State
    target: State
    effects: tuple[Effect, ...]


class TransitionRefused(Exception):
    def __init__(self, code: str, reasons: tuple[Reason, ...] = ()):
        super().__init__(code, ", ".join(r.text("en") for r in reasons))
        self.code = code
        self.reasons = reasons


def _field_path(name: str) -> str:
    return name if name.startswith(("case.", "customer.")) else f"case.{name}"


def _reasons(
    process: Process,
    transition: Transition,
    context: Mapping[str, Any],
    roles: Collection[str],
    confirmed: Collection[str],
    fields: Mapping[str, FieldSpec],
) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    if transition.roles and not any(role in roles for role in transition.roles):
        names = ", ".join(transition.roles)
        reasons.append(Reason(ROLE, names, names, names))
    if transition.guard is not None and not transition.guard(context):
        reasons.append(
            Reason(
                GUARD,
                transition.guard.source,
                transition.guard_label_de or transition.guard.source,
                transition.guard_label_en or transition.guard.source,
            )
        )
    for name in transition.requires:
        path = _field_path(name)
        if not truthy(context.get(path)):
            spec = fields.get(path)
            reasons.append(Reason(REQUIRES, name, spec.label_de if spec else name, spec.label_en if spec else name))
    for item in transition.checklist:
        if item.key not in confirmed:
            reasons.append(Reason(CHECKLIST, item.key, item.label_de, item.label_en))
    return tuple(reasons)


def available_transitions(
    process: Process,
    state: str,
    context: Mapping[str, Any],
    roles: Collection[str],
    *,
    confirmed: Collection[str] = (),
    fields: Mapping[str, FieldSpec] | None = None,
) -> list[Availability]:
    """Every transition out of `state`, in definition order, with its reasons (none when available)."""
    fields = fields or {}
    out = []
    for transition in process.transitions_from(state):
        target = process.state(transition.target)
        assert target is not None  # validated
        out.append(Availability(transition, target, _reasons(process, transition, context, roles, confirmed, fields)))
    return out


def apply(
    process: Process,
    state: str,
    transition_key: str,
    context: Mapping[str, Any],
    roles: Collection[str],
    *,
    confirmed: Collection[str] = (),
    fields: Mapping[str, FieldSpec] | None = None,
) -> Outcome:
    """The new state and the effects of taking `transition_key` from `state`.

    Escalation effects come back resolved: ``{"type": "escalation", "action": "raise",
    "level": 2}`` carries the level the case ends at (from ``case.escalation_level``,
    kept within 0 and the highest level the process defines)."""
    transition = process.transition(transition_key)
    if transition is None:
        raise TransitionRefused(UNKNOWN)
    source = process.state(state)
    if source is None or state not in transition.sources:
        raise TransitionRefused(NOT_FROM_HERE)
    reasons = _reasons(process, transition, context, roles, confirmed, fields or {})
    if reasons:
        raise TransitionRefused("not_available", reasons)
    target = process.state(transition.target)
    assert target is not None  # validated
    effects = []
    level = context.get("case.escalation_level") or 0
    level = level if isinstance(level, int) else 0
    top = max(process.max_escalation_level, level)
    for effect in transition.effects:
        if effect.type == "escalation":
            action = effect.params.get("action")
            if action == "raise":
                level = min(level + 1, top)
            elif action == "lower":
                level = max(level - 1, 0)
            else:
                level = int(effect.params.get("level") or 0)
            effect = Effect("escalation", {**effect.params, "level": level})
        effects.append(effect)
    return Outcome(transition, source, target, tuple(effects))
