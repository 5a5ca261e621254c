"""The process engine: definitions as data, validated, and evaluated per case.

Pure Python (an import-linter contract keeps Django and the rest of the app out), so it
runs in the API, the editor's live validation, the migration command and benchmarks alike.
"""

from .expr import Guard, GuardSyntaxError, compile_guard
from .model import (
    ASSIGN_TO,
    EFFECT_TYPES,
    KINDS,
    ChecklistItem,
    Effect,
    EscalationLevel,
    FieldSpec,
    InvalidDefinition,
    Process,
    State,
    Transition,
    build,
)
from .runtime import Availability, Outcome, Reason, TransitionRefused, apply, available_transitions
from .validate import Problem, compile_process, validate

__all__ = [
    "ASSIGN_TO",
    "EFFECT_TYPES",
    "KINDS",
    "Availability",
    "ChecklistItem",
    "Effect",
    "EscalationLevel",
    "FieldSpec",
    "Guard",
    "GuardSyntaxError",
    "InvalidDefinition",
    "Outcome",
    "Problem",
    "Process",
    "Reason",
    "State",
    "Transition",
    "TransitionRefused",
    "apply",
    "available_transitions",
    "build",
    "compile_guard",
    "compile_process",
    "validate",
]
