"""The process a case runs on, and what the engine needs to know about the case.

A case keeps the process version it started with (`Case.process_version`); a case
without one (created before the processes existed and not migrated) follows the
published version of its case type's process. Only reads here: services and views call
these, the engine decides (processes/engine).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from leitplanke.accounts.actors import Actor, is_user
from leitplanke.core import refcache
from leitplanke.processes import catalogue
from leitplanke.processes import selectors as process_selectors
from leitplanke.processes.engine import Availability, FieldSpec, Process, available_transitions, build
from leitplanke.processes.models import ProcessDefinition
from leitplanke.processes.shipped import CASE_TYPE_PROCESS, SHIPPED

from .models import Case, CaseType, CustomFieldDefinition


def process_key_of(case_type: CaseType) -> str:
    if case_type.process_key:
        return case_type.process_key
    return CASE_TYPE_PROCESS.get(case_type.key) or ("complaint" if case_type.is_complaint else "inquiry")


def _fallback(key: str) -> Process:
    """Only when no version of the process exists at all (the migration ships them)."""
    return refcache.cached(("process_fallback", key), lambda: build(SHIPPED.get(key, SHIPPED["inquiry"])))


def current_definition(case_type: CaseType) -> ProcessDefinition | None:
    """The published version new cases of this type start on."""
    return process_selectors.published(process_key_of(case_type))


@dataclass(frozen=True)
class CaseProcess:
    definition: ProcessDefinition | None
    process: Process


def process_of_definition(definition: ProcessDefinition | None, case_type: CaseType) -> Process:
    if definition is None:
        return _fallback(process_key_of(case_type))
    return process_selectors.compiled(definition)


def process_of(case: Case) -> CaseProcess:
    definition = None
    if case.process_version_id:
        definition = process_selectors.definition_by_id(case.process_version_id)
    if definition is None:
        definition = current_definition(case.case_type)
    if definition is None:
        return CaseProcess(None, _fallback(process_key_of(case.case_type)))
    return CaseProcess(definition, process_selectors.compiled(definition))


def state_label(case: Case, language: str) -> str:
    state = process_of(case).process.state(case.status)
    if state is None:
        return str(process_selectors.state_labels(language).get(case.status, case.status))
    return state.label(language)


def _custom_definitions(process_key: str) -> list[dict[str, Any]]:
    types = [t.pk for t in CaseType.objects.all() if process_key_of(t) == process_key]
    definitions = refcache.cached(
        "process_custom_fields",
        lambda: tuple(CustomFieldDefinition.objects.filter(is_active=True).order_by("case_type_id", "order", "key")),
    )
    return [
        {"key": d.key, "label_de": d.label_de, "label_en": d.label_en, "kind": d.kind, "choices": d.choices}
        for d in definitions
        if d.case_type_id in types
    ]


def known_fields(case_type: CaseType) -> dict[str, FieldSpec]:
    definitions = [
        {"key": d.key, "label_de": d.label_de, "label_en": d.label_en, "kind": d.kind, "choices": d.choices}
        for d in refcache.cached(
            "process_custom_fields",
            lambda: tuple(CustomFieldDefinition.objects.filter(is_active=True).order_by("case_type_id", "order", "key")),
        )
        if d.case_type_id == case_type.pk
    ]
    return catalogue.known_fields(definitions)


def register() -> None:
    """Tells the processes app which custom fields a process may name and which clocks (the
    deadline rules' keys) its effects may start, stop, pause and resume (cases.apps.ready)."""
    from leitplanke.deadlines.selectors import rule_keys

    process_selectors.register_custom_fields(_custom_definitions)
    process_selectors.register_clock_keys(rule_keys)
    process_selectors.register_editor_choices("clocks", _clock_choices)


def _clock_choices(process_key: str) -> list[tuple[str, str]]:
    """The deadline rules the case types of a process start (the editor's clock choices);
    every rule when none of them names one."""
    from leitplanke.deadlines.selectors import rule_choices

    choices = rule_choices()
    used = {str(key) for t in CaseType.objects.all() if process_key_of(t) == process_key for key in t.deadline_rules or []}
    return [(key, label) for key, label in choices if key in used] or choices


# Fields other apps derive from their own data (`case.decision_pending`, `case.has_decision`
# from the decisions app), registered in their `ready()`; each costs a query, so `context` reads only those a
# guard asks for.
_DERIVED: dict[str, Callable[[Case], Any]] = {}


def register_derived_field(path: str, provide: Callable[[Case], Any]) -> None:
    """`provide(case)` gives the value of `path` (a field of `catalogue.STANDARD_FIELDS`)."""
    _DERIVED[path] = provide


# Effects other apps carry out (`decide` by the decisions app), registered in their `ready()`.
# `handler(case, params, actor=, now=, transition=)` runs inside `case_transition`, with the case
# row locked, after the step's entered values and `set_field` effects and before the case is
# saved; it returns an `EffectStep`. Refusing (a typed error) rolls the whole step back.
@dataclass
class EffectStep:
    """`changes`: case fields (team, priority, severity) to set with the step; `finish(case)`
    writes the app's own rows once the case is saved and returns what the step's audit event
    records of it."""

    changes: dict[str, Any]
    finish: Callable[[Case], dict[str, Any]]


EffectHandler = Callable[..., EffectStep]
_EFFECTS: dict[str, EffectHandler] = {}


def register_effect(effect_type: str, handler: EffectHandler) -> None:
    _EFFECTS[effect_type] = handler


def effect_handler(effect_type: str) -> EffectHandler | None:
    return _EFFECTS.get(effect_type)


def guard_reads(process: Process, state: str) -> frozenset[str]:
    """The fields the guards of the transitions out of `state` read."""
    return frozenset(
        path for transition in process.transitions_from(state) if transition.guard is not None for path in transition.guard.fields
    )


def context(case: Case, entered: Mapping[str, Any] | None = None, *, reads: Iterable[str] | None = None) -> dict[str, Any]:
    """The flat context guards and requirements read; `entered`: values the user gives with
    the transition (field name → value), which count as the case's. `reads`: the fields the
    guards in play read (`guard_reads`); derived fields outside it are left out (a guard
    reading an absent field sees null), None derives them all."""
    out: dict[str, Any] = {
        "case.priority": case.priority,
        "case.severity": case.severity,
        "case.channel": case.channel,
        "case.language": case.language,
        "case.case_type": case.case_type.key,
        "case.category": case.category.key if case.category_id and case.category else None,
        "case.status": case.status,
        "case.has_responsible": case.responsible_user_id is not None,
        "case.has_team": case.team_id is not None,
        "case.escalation_level": case.escalation_level,
        "case.outcome": case.outcome,
        "case.root_cause": case.root_cause,
        "case.resolution_summary": case.resolution_summary,
        "case.redress_amount": case.redress_amount,
        "case.goodwill_amount": case.goodwill_amount,
        "case.currency": case.currency,
    }
    for key, value in (case.custom_fields or {}).items():
        out[f"case.custom.{key}"] = value
    customer = case.customer if case.customer_id else None
    if customer is not None:
        out.update(
            {
                "customer.segment": customer.segment,
                "customer.kind": customer.kind,
                "customer.is_vulnerable": customer.is_vulnerable,
                "customer.country": customer.country,
                "customer.region": customer.region,
                "customer.preferred_language": customer.preferred_language,
            }
        )
    wanted = _DERIVED.keys() if reads is None else [path for path in reads if path in _DERIVED]
    for path in wanted:
        out[path] = _DERIVED[path](case)
    for name, value in (entered or {}).items():
        out[f"case.{name}"] = value
    return out


def role_keys(actor: Actor) -> frozenset[str]:
    if not is_user(actor):
        return frozenset()
    cached = getattr(actor, "_role_keys", None)
    if cached is None:
        cached = refcache.cached(("role_keys", actor.pk), lambda: frozenset(actor.roles.values_list("key", flat=True)))
        actor._role_keys = cached
    return cached


def all_roles(process: Process) -> frozenset[str]:
    """The system (intake, scheduled jobs) acts in every role."""
    return frozenset(role for transition in process.transitions for role in transition.roles)


def offered(*, actor: Actor, case: Case) -> list[Availability]:
    """Every transition out of the case's state with its availability and reasons."""
    running = process_of(case)
    roles = role_keys(actor) if actor is not None else all_roles(running.process)
    reads = guard_reads(running.process, case.status)
    return available_transitions(
        running.process, case.status, context(case, reads=reads), roles, fields=known_fields(case.case_type)
    )
