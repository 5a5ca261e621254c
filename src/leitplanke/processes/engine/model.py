"""A process definition as plain data, and its compiled form.

The stored form is JSON (a dict); `validate` (validate.py) checks it and `compile_process`
turns a valid one into the frozen objects below, which the runtime (runtime.py) uses.
Texts are data in both languages (`label_de`, `label_en`), like the maturity model's.

Shape of the JSON::

    {
      "key": "complaint", "initial": "received",
      "states": [{"key": "received", "kind": "open", "label_de": "…", "label_en": "…",
                  "pauses": ["internal_response"]}],
      "transitions": [{"key": "close", "from": ["resolved"], "to": "closed",
                       "label_de": "…", "label_en": "…", "roles": ["agent"],
                       "guard": "case.priority >= 3", "guard_label_de": "…", "guard_label_en": "…",
                       "requires": ["outcome", "root_cause"],
                       "checklist": [{"key": "informed", "label_de": "…", "label_en": "…"}],
                       "effects": [{"type": "clock", "action": "stop", "clock": "fca_final"}]}],
      "escalation_levels": [{"level": 1, "label_de": "…", "label_en": "…", "handled_by": "team_lead",
                             "assign_to": "team_lead"}],
      "escalate_on": ["breach"]
    }

`escalate_on`: which thresholds of a deadline clock raise the case's escalation level by
one (the escalation job, docs/deadlines.md): "breach" (the default), "warning", both, or
none (an empty list).

`assign_to` (optional, per level): who becomes the case's responsible person when the case
is raised to the level (by the escalation job or by hand): "" or absent keeps the
responsible person; "team_lead" the lead of the case's team; "handler" the first of the
level's handlers (the holders of `handled_by`, as the cases app resolves them). Nobody of
those: the responsible person stays.

Effects: `set_field` (field, value), `send_template` (template), `clock` (action start /
stop / pause / resume, clock: a deadline rule key), `escalation` (action raise / lower /
set, level for set), `webhook` (endpoint: its name), `decide` (table: a decision table's key — the case
service evaluates the table's published version for the case when the step is taken, records
the result on the case and applies the outputs that name case fields; docs/processes.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .expr import Guard, compile_guard

KINDS = ("open", "waiting", "resolved", "closed")
EFFECT_TYPES = ("set_field", "send_template", "clock", "escalation", "webhook", "decide")
CLOCK_ACTIONS = ("start", "stop", "pause", "resume")
ESCALATION_ACTIONS = ("raise", "lower", "set")
THRESHOLDS = ("warning", "breach")
ASSIGN_TO = ("", "team_lead", "handler")  # an escalation level's `assign_to`; "" keeps the responsible person


@dataclass(frozen=True)
class FieldSpec:
    """A field a definition may name: `path` as guards read it (case.outcome,
    customer.segment, case.custom.amount); `settable` if a transition may ask for it or
    an effect may set it; `choices` for coded values."""

    path: str
    label_de: str
    label_en: str
    kind: str = "text"
    settable: bool = False
    choices: tuple[str, ...] = ()

    def label(self, language: str) -> str:
        return self.label_de if language == "de" else self.label_en


@dataclass(frozen=True)
class State:
    key: str
    kind: str
    label_de: str
    label_en: str
    pauses: tuple[str, ...] = ()

    def label(self, language: str) -> str:
        return self.label_de if language == "de" else self.label_en


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label_de: str
    label_en: str

    def label(self, language: str) -> str:
        return self.label_de if language == "de" else self.label_en


@dataclass(frozen=True)
class Effect:
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, **dict(self.params)}


@dataclass(frozen=True)
class Transition:
    key: str
    sources: tuple[str, ...]
    target: str
    label_de: str
    label_en: str
    roles: tuple[str, ...] = ()
    guard: Guard | None = None
    guard_label_de: str = ""
    guard_label_en: str = ""
    requires: tuple[str, ...] = ()
    checklist: tuple[ChecklistItem, ...] = ()
    effects: tuple[Effect, ...] = ()

    def label(self, language: str) -> str:
        return self.label_de if language == "de" else self.label_en


@dataclass(frozen=True)
class EscalationLevel:
    level: int
    label_de: str
    label_en: str
    handled_by: str = ""
    assign_to: str = ""


@dataclass(frozen=True)
class Process:
    key: str
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    escalation_levels: tuple[EscalationLevel, ...] = ()
    escalate_on: tuple[str, ...] = ("breach",)
    _states: Mapping[str, State] = field(default_factory=dict, repr=False, compare=False)
    _transitions: Mapping[str, Transition] = field(default_factory=dict, repr=False, compare=False)
    _outgoing: Mapping[str, tuple[Transition, ...]] = field(default_factory=dict, repr=False, compare=False)

    def state(self, key: str) -> State | None:
        return self._states.get(key)

    def transition(self, key: str) -> Transition | None:
        return self._transitions.get(key)

    def transitions_from(self, state: str) -> tuple[Transition, ...]:
        return self._outgoing.get(state, ())

    @property
    def max_escalation_level(self) -> int:
        return max((level.level for level in self.escalation_levels), default=0)

    def next_escalation_level(self, current: int) -> EscalationLevel | None:
        """The level above `current` (the lowest defined one), or None at the top."""
        return min((lv for lv in self.escalation_levels if lv.level > current), key=lambda lv: lv.level, default=None)


class InvalidDefinition(ValueError):
    """Raised by compile_process for a definition that validate() does not accept."""

    def __init__(self, problems: list[Any]):
        super().__init__("; ".join(f"{p.place}: {p.message}" for p in problems[:5]))
        self.problems = problems


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(str(item) for item in value)
    return ()


def build(data: Mapping[str, Any]) -> Process:
    """Builds the compiled objects from a definition already validated (no checks here)."""
    states = tuple(
        State(
            key=str(s["key"]),
            kind=str(s["kind"]),
            label_de=str(s.get("label_de", "")),
            label_en=str(s.get("label_en", "")),
            pauses=_strings(s.get("pauses")),
        )
        for s in data["states"]
    )
    transitions = []
    for t in data.get("transitions", []):
        guard_text = str(t.get("guard") or "").strip()
        transitions.append(
            Transition(
                key=str(t["key"]),
                sources=_strings(t.get("from")),
                target=str(t["to"]),
                label_de=str(t.get("label_de", "")),
                label_en=str(t.get("label_en", "")),
                roles=_strings(t.get("roles")),
                guard=compile_guard(guard_text) if guard_text else None,
                guard_label_de=str(t.get("guard_label_de") or ""),
                guard_label_en=str(t.get("guard_label_en") or ""),
                requires=_strings(t.get("requires")),
                checklist=tuple(
                    ChecklistItem(str(c["key"]), str(c.get("label_de", "")), str(c.get("label_en", "")))
                    for c in t.get("checklist") or []
                ),
                effects=tuple(
                    Effect(str(e["type"]), {k: v for k, v in e.items() if k != "type"}) for e in t.get("effects") or []
                ),
            )
        )
    levels = tuple(
        EscalationLevel(
            int(e["level"]),
            str(e.get("label_de", "")),
            str(e.get("label_en", "")),
            str(e.get("handled_by") or ""),
            str(e.get("assign_to") or ""),
        )
        for e in data.get("escalation_levels") or []
    )
    outgoing: dict[str, list[Transition]] = {}
    for transition in transitions:
        for source in transition.sources:
            outgoing.setdefault(source, []).append(transition)
    return Process(
        key=str(data.get("key", "")),
        initial=str(data["initial"]),
        states=states,
        transitions=tuple(transitions),
        escalation_levels=levels,
        escalate_on=_strings(data["escalate_on"]) if "escalate_on" in data else ("breach",),
        _states={s.key: s for s in states},
        _transitions={t.key: t for t in transitions},
        _outgoing={key: tuple(items) for key, items in outgoing.items()},
    )
