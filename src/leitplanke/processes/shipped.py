"""The process definitions every organisation starts with (version 1 of each).

Pure data. The data migration `processes/0001` stores them as published version 1; the
case types complaint → `complaint`, inquiry and feedback → `inquiry`, data-protection
request → `data_protection`. The state keys of today's lifecycle (new, in_progress,
waiting_customer, resolved, closed) are kept in every definition with their kind, so the
cases that exist move over with their status as it is (docs/processes.md).

Clock keys and clock effects are left to the deadline rules (issue 20 items 4–6): a state
names the clocks it pauses, a transition's `clock` effect starts or stops one by its key.
"""

from __future__ import annotations

from typing import Any


def _state(key: str, kind: str, de: str, en: str, pauses: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"key": key, "kind": kind, "label_de": de, "label_en": en, "pauses": list(pauses)}


def _step(key: str, sources: list[str], target: str, de: str, en: str, **more: Any) -> dict[str, Any]:
    return {"key": key, "from": sources, "to": target, "label_de": de, "label_en": en, **more}


# The guard of the complaint's closing step (shipped since decisions came; installs that had
# version 1 without it get version 2 from the data migration processes/0002).
CLOSE_GUARD = {
    "guard": "not case.decision_pending",
    "guard_label_de": "keine Entscheidung wartet auf Freigabe",
    "guard_label_en": "no decision awaiting approval",
}

ESCALATION_LEVELS = [
    {"level": 1, "label_de": "Teamleitung", "label_en": "Team lead", "handled_by": "team_lead"},
    {"level": 2, "label_de": "Qualitätsmanagement", "label_en": "Quality management", "handled_by": "quality_manager"},
]

# ISO 10002:2018 clause 8: receipt and acknowledgement (8.2, 8.3), initial assessment (8.4),
# investigation (8.5), response and communicating the decision (8.6, 8.7), closing (8.8).
COMPLAINT: dict[str, Any] = {
    "key": "complaint",
    "initial": "new",
    "states": [
        _state("new", "open", "Eingegangen", "Received"),
        _state("acknowledged", "open", "Eingang bestätigt", "Acknowledged"),
        _state("assessment", "open", "Erstbewertung", "Initial assessment"),
        _state("in_progress", "open", "Untersuchung", "Investigation"),
        _state("waiting_customer", "waiting", "Wartet auf Kunde", "Waiting for customer"),
        _state("resolved", "resolved", "Antwort erteilt", "Response given"),
        _state("closed", "closed", "Abgeschlossen", "Closed"),
    ],
    "transitions": [
        _step("acknowledge", ["new"], "acknowledged", "Eingang bestätigen", "Acknowledge receipt"),
        _step("assess", ["new", "acknowledged"], "assessment", "Erstbewertung beginnen", "Start initial assessment"),
        _step("start", ["new", "acknowledged", "assessment"], "in_progress", "Untersuchung beginnen", "Start investigation"),
        _step(
            "wait",
            ["new", "acknowledged", "assessment", "in_progress"],
            "waiting_customer",
            "Auf Kunde warten",
            "Wait for customer",
        ),
        _step("resume", ["waiting_customer"], "in_progress", "Weiter bearbeiten", "Resume"),
        _step(
            "resolve",
            ["new", "acknowledged", "assessment", "in_progress", "waiting_customer"],
            "resolved",
            "Antwort erteilen",
            "Give the response",
        ),
        _step(
            "close",
            ["resolved"],
            "closed",
            "Abschließen",
            "Close",
            requires=["outcome", "root_cause", "resolution_summary"],
            # Not closed while a redress or goodwill decision waits for four-eyes approval: the
            # closing fields would not yet say what the customer gets (docs/processes.md).
            **CLOSE_GUARD,
        ),
        _step("reopen", ["resolved", "closed"], "in_progress", "Wieder öffnen", "Reopen"),
        _step(
            "escalate",
            ["new", "acknowledged", "assessment", "in_progress", "waiting_customer"],
            "in_progress",
            "Eskalieren",
            "Escalate",
            effects=[{"type": "escalation", "action": "raise"}],
        ),
    ],
    "escalation_levels": ESCALATION_LEVELS,
}

INQUIRY: dict[str, Any] = {
    "key": "inquiry",
    "initial": "new",
    "states": [
        _state("new", "open", "Neu", "New"),
        _state("in_progress", "open", "In Bearbeitung", "In progress"),
        _state("waiting_customer", "waiting", "Wartet auf Kunde", "Waiting for customer"),
        _state("resolved", "resolved", "Gelöst", "Resolved"),
        _state("closed", "closed", "Abgeschlossen", "Closed"),
    ],
    "transitions": [
        _step("start", ["new"], "in_progress", "Bearbeitung beginnen", "Start work"),
        _step("wait", ["new", "in_progress"], "waiting_customer", "Auf Kunde warten", "Wait for customer"),
        _step("resume", ["waiting_customer"], "in_progress", "Weiter bearbeiten", "Resume"),
        _step("resolve", ["new", "in_progress", "waiting_customer"], "resolved", "Lösen", "Resolve"),
        _step("close", ["resolved"], "closed", "Abschließen", "Close"),
        _step("reopen", ["resolved", "closed"], "in_progress", "Wieder öffnen", "Reopen"),
    ],
    "escalation_levels": ESCALATION_LEVELS[:1],
}

# GDPR Art. 12 (answer within a month, extendable), Art. 15–22 requests; Art. 12(6): the
# controller may ask for information to confirm the identity of the person.
DATA_PROTECTION: dict[str, Any] = {
    "key": "data_protection",
    "initial": "new",
    "states": [
        _state("new", "open", "Eingegangen", "Received"),
        _state("identity_check", "waiting", "Identitätsprüfung", "Identity check"),
        _state("in_progress", "open", "In Bearbeitung", "In progress"),
        _state("waiting_customer", "waiting", "Wartet auf Kunde", "Waiting for customer"),
        _state("resolved", "resolved", "Beantwortet", "Answered"),
        _state("closed", "closed", "Abgeschlossen", "Closed"),
    ],
    "transitions": [
        _step("check_identity", ["new"], "identity_check", "Identität prüfen", "Check identity"),
        _step(
            "identity_confirmed",
            ["identity_check"],
            "in_progress",
            "Identität bestätigt",
            "Identity confirmed",
            checklist=[
                {
                    "key": "identity_verified",
                    "label_de": "Identität der betroffenen Person geprüft",
                    "label_en": "Identity of the data subject verified",
                }
            ],
        ),
        _step("start", ["new"], "in_progress", "Bearbeitung beginnen", "Start work"),
        _step("wait", ["new", "in_progress"], "waiting_customer", "Auf Kunde warten", "Wait for customer"),
        _step("resume", ["waiting_customer"], "in_progress", "Weiter bearbeiten", "Resume"),
        _step(
            "resolve",
            ["new", "in_progress", "waiting_customer"],
            "resolved",
            "Beantworten",
            "Answer",
            requires=["resolution_summary"],
        ),
        _step("close", ["resolved"], "closed", "Abschließen", "Close"),
        _step("reopen", ["resolved", "closed"], "in_progress", "Wieder öffnen", "Reopen"),
    ],
    "escalation_levels": ESCALATION_LEVELS[:1],
}

SHIPPED: dict[str, dict[str, Any]] = {d["key"]: d for d in (COMPLAINT, INQUIRY, DATA_PROTECTION)}
NAMES = {
    "complaint": ("Beschwerdebearbeitung (ISO 10002)", "Complaint handling (ISO 10002)"),
    "inquiry": ("Anfragen", "Inquiries"),
    "data_protection": ("Datenschutzanfragen (DSGVO)", "Data-protection requests (GDPR)"),
}
# Which shipped process each shipped case type follows.
CASE_TYPE_PROCESS = {
    "complaint": "complaint",
    "inquiry": "inquiry",
    "feedback": "inquiry",
    "data_protection": "data_protection",
}
# Today's statuses (cases/lifecycle.py) → the state in each shipped process: the keys are
# kept, so the mapping is the identity; statuses nothing knows fall back by their kind.
STATUS_MAP = {
    "new": "new",
    "in_progress": "in_progress",
    "waiting_customer": "waiting_customer",
    "resolved": "resolved",
    "closed": "closed",
}
KIND_FALLBACK = {"open": "in_progress", "waiting": "waiting_customer", "resolved": "resolved", "closed": "closed"}
