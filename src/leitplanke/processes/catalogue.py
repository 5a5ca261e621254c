"""The fields a process definition may name, and the closing vocabulary.

Pure data (no Django), shared by the engine's callers: the validation of a definition,
the context built for a case, the forms asking for required fields, the benchmark.
Custom fields of a case type join as ``case.custom.<key>`` (`custom_field_specs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .engine import FieldSpec

OUTCOMES: tuple[tuple[str, str, str], ...] = (
    ("upheld", "Berechtigt", "Upheld"),
    ("partly_upheld", "Teilweise berechtigt", "Partly upheld"),
    ("not_upheld", "Unberechtigt", "Not upheld"),
)

# Root-cause categories for complaint analysis (ISO 10002 clause 8.4 asks to classify and
# analyse complaints to find systemic and recurring problems).
ROOT_CAUSES: tuple[tuple[str, str, str], ...] = (
    ("product", "Produkt oder Leistung mangelhaft", "Product or service defect"),
    ("process", "Prozessfehler", "Process error"),
    ("billing", "Abrechnungsfehler", "Billing error"),
    ("communication", "Kommunikation oder Information", "Communication or information"),
    ("staff", "Verhalten von Mitarbeitenden", "Staff conduct"),
    ("system", "IT-Störung", "System failure"),
    ("third_party", "Dritte (Partner, Dienstleister)", "Third party"),
    ("policy", "Geschäftsbedingungen oder Richtlinie", "Terms or policy"),
    ("customer", "Missverständnis auf Kundenseite", "Customer misunderstanding"),
    ("none", "Kein Fehler festgestellt", "No fault found"),
)

CURRENCIES = ("EUR", "GBP", "CHF", "USD")


def _spec(path: str, de: str, en: str, kind: str = "text", *, settable: bool = False, choices: Iterable[Any] = ()) -> FieldSpec:
    return FieldSpec(path=path, label_de=de, label_en=en, kind=kind, settable=settable, choices=tuple(choices))


STANDARD_FIELDS: dict[str, FieldSpec] = {
    spec.path: spec
    for spec in (
        _spec("case.priority", "Priorität", "Priority", "number", settable=True, choices=(1, 2, 3, 4)),
        _spec(
            "case.severity",
            "Schweregrad",
            "Severity",
            "choice",
            settable=True,
            choices=("minor", "moderate", "major", "critical"),
        ),
        _spec("case.channel", "Eingangskanal", "Channel", "choice"),
        _spec("case.language", "Sprache", "Language", "choice"),
        _spec("case.case_type", "Vorgangsart", "Case type", "choice"),
        _spec("case.category", "Kategorie", "Category", "choice"),
        _spec("case.status", "Status", "Status", "choice"),
        _spec("case.has_responsible", "Verantwortliche Person gesetzt", "Responsible person set", "boolean"),
        _spec("case.has_team", "Team gesetzt", "Team set", "boolean"),
        _spec("case.escalation_level", "Eskalationsstufe", "Escalation level", "number"),
        # True while a decision on the case awaits four-eyes approval (the decisions app
        # provides it, read only when a guard of the case's current state asks).
        _spec(
            "case.decision_pending",
            "Entscheidung wartet auf Freigabe",
            "Decision awaiting approval",
            "boolean",
        ),
        # True once a person's decision on the case is in force (final or approved; decision
        # steps of the process do not count): the decisions app provides it, like the above.
        _spec("case.has_decision", "Entscheidung erfasst", "Decision recorded", "boolean"),
        _spec("case.outcome", "Ergebnis", "Outcome", "choice", settable=True, choices=[o[0] for o in OUTCOMES]),
        _spec(
            "case.root_cause",
            "Ursachenkategorie",
            "Root cause",
            "choice",
            settable=True,
            choices=[r[0] for r in ROOT_CAUSES],
        ),
        _spec("case.resolution_summary", "Zusammenfassung der Lösung", "Resolution summary", "text", settable=True),
        _spec("case.redress_amount", "Entschädigung (Wiedergutmachung)", "Redress amount", "money", settable=True),
        _spec("case.goodwill_amount", "Kulanzbetrag", "Goodwill amount", "money", settable=True),
        _spec("case.currency", "Währung", "Currency", "choice", settable=True, choices=CURRENCIES),
        _spec("customer.segment", "Kundensegment", "Customer segment", "choice"),
        _spec("customer.kind", "Kundenart", "Customer kind", "choice"),
        _spec("customer.is_vulnerable", "Schutzbedürftige Kundschaft", "Vulnerable customer", "boolean"),
        _spec("customer.country", "Land", "Country", "choice"),
        _spec("customer.region", "Bundesland oder Landesteil", "State or nation", "choice"),
        _spec("customer.preferred_language", "Bevorzugte Sprache", "Preferred language", "choice"),
    )
}

# The closing fields a transition may ask for, with the form field each needs.
CLOSING_FIELDS = ("outcome", "root_cause", "resolution_summary", "redress_amount", "goodwill_amount", "currency")
# Fields that a transition may require or set (case fields the service can write).
SETTABLE = tuple(path[len("case.") :] for path, spec in STANDARD_FIELDS.items() if spec.settable)


def custom_field_specs(definitions: Iterable[Mapping[str, Any]]) -> dict[str, FieldSpec]:
    """Specs for a case type's custom fields (key, label_de, label_en, kind, choices)."""
    out = {}
    for definition in definitions:
        path = f"case.custom.{definition['key']}"
        choices = tuple(str(c.get("value")) for c in definition.get("choices") or [] if isinstance(c, Mapping))
        out[path] = FieldSpec(
            path=path,
            label_de=str(definition.get("label_de") or definition["key"]),
            label_en=str(definition.get("label_en") or definition["key"]),
            kind=str(definition.get("kind") or "text"),
            settable=True,  # a step may require it (effects cannot set custom fields)
            choices=choices,
        )
    return out


def known_fields(custom: Iterable[Mapping[str, Any]] = ()) -> dict[str, FieldSpec]:
    return {**STANDARD_FIELDS, **custom_field_specs(custom)}
