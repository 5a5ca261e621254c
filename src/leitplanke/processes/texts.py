"""The engine's validation problems and refusal reasons in the user's language.

The engine (pure Python) names each problem by a stable code with parameters and keeps
English for logs; these are the translated texts, looked up by code.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .engine import Problem, Reason

PROBLEMS: dict[str, Any] = {
    "not_an_object": _("must be an object"),
    "not_a_list": _("must be a list"),
    "missing": _("is missing"),
    "empty_text": _("the %(language)s text is missing"),
    "duplicate_key": _("the key %(key)s is used twice"),
    "bad_key": _("a key is made of letters, digits, '_' and '-' (at most 50)"),
    "unknown_kind": _("the kind must be one of open, waiting, resolved, closed"),
    "unknown_state": _("there is no state %(state)s"),
    "no_states": _("a process needs at least one state"),
    "unreachable": _("the state %(state)s cannot be reached from the initial state"),
    "dead_end": _("the state %(state)s has no way out and is not a closed state"),
    "no_closed_state": _("a process needs a closed state"),
    "guard_syntax": _("the guard does not parse: %(error)s"),
    "unknown_field": _("there is no field %(field)s"),
    "not_settable": _("the field %(field)s cannot be set by a transition"),
    "unknown_effect": _("unknown effect type %(type)s"),
    "unknown_action": _("unknown action %(action)s"),
    "unknown_role": _("there is no role %(role)s"),
    "unknown_clock": _("there is no clock (deadline rule) %(clock)s"),
    "unknown_table": _("there is no published decision table %(table)s"),
    "bad_level": _("the level must be a whole number from 1 to 9"),
    "bad_threshold": _('escalate_on lists "warning" and "breach" only'),
    "bad_choice": _("%(value)s is not one of the field's values"),
    "bad_assign_to": _('assign_to is "team_lead", "handler" or empty (keep the responsible person)'),
    "assign_to_without_handler": _('assign_to "handler" needs a role in handled_by'),
}
LANGUAGES = {"German": _("German"), "English": _("English")}

REASONS: dict[str, Any] = {
    "role": _("only for: %(label)s"),
    "guard": _("condition not met: %(label)s"),
    "requires": _("requires: %(label)s"),
    "checklist": _("to confirm: %(label)s"),
}


def problem_text(problem: Problem) -> str:
    template = PROBLEMS.get(problem.code)
    if template is None:
        return problem.message
    params = {key: str(value) for key, value in problem.params.items()}
    if "language" in params:
        params["language"] = str(LANGUAGES.get(params["language"], params["language"]))
    try:
        return str(template) % params
    except (KeyError, ValueError, TypeError):
        return problem.message


def reason_text(reason: Reason, language: str) -> str:
    label = reason.label_de if language == "de" else reason.label_en
    template = REASONS.get(reason.code)
    return str(template) % {"label": label} if template is not None else label


def language_of_request() -> str:
    from django.utils.translation import get_language

    return (get_language() or "de")[:2]


__all__ = ["gettext", "language_of_request", "problem_text", "reason_text"]
