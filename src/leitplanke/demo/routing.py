"""Demo routing (issue 21, decisions as steps of processes): the demo's process owner publishes a
routing table that names the demo teams ("Zuweisung an die Demo-Teams") and a new version of the
complaint process whose step "acknowledge" decides with it. A complaint acknowledged in the demo
then moves to the team its category belongs to, with the record of why on the case.

Everything goes through the table and process services (audited like real work). Cases created
before keep their process version (they do not route); the demo's bulk cases are among them.
Idempotent: nothing is done once the published complaint process has a decision step."""

from __future__ import annotations

import copy
from typing import Any

from django.db import transaction

from leitplanke.accounts.models import User
from leitplanke.decisions import table_services
from leitplanke.decisions.models import DecisionTable, TableStatus
from leitplanke.processes import services as process_services
from leitplanke.processes.models import ProcessDefinition, ProcessStatus

OWNER = "process@demo.leitplanke.example"
TABLE = "demo_routing"
STEP = "acknowledge"
# (rule id, categories, team, German rule, English rule, German rationale, English rationale)
RULES = [
    (
        "energy",
        ["billing", "billing-meter-reading", "billing-instalment"],
        "Energie-Service",
        "Abrechnung, Zählerstand, Abschlag",
        "Billing, meter reading, instalments",
        "Abrechnung und Zählerstände bearbeitet der Energie-Service.",
        "Billing and meter readings go to the energy service team.",
    ),
    (
        "payments",
        ["payments", "payments-transfers", "payments-card-fees", "payments-chargeback"],
        "Zahlungsdienste",
        "Zahlungen, Überweisungen, Karten",
        "Payments, transfers, cards",
        "Zahlungen und Karten bearbeiten die Zahlungsdienste.",
        "Payments and cards go to the payment services team.",
    ),
    (
        "default",
        [],
        "Beschwerdemanagement",
        "Alles andere",
        "Everything else",
        "Alle übrigen Beschwerden: Beschwerdemanagement.",
        "All other complaints: complaint management.",
    ),
]


def _quoted(text: str) -> str:
    return '"' + text.replace('"', "") + '"'


def routing_jdm() -> dict[str, Any]:
    outputs = [("team", "Team"), ("rationale_de", "Rationale (German)"), ("rationale_en", "Rationale (English)")]
    rules = []
    for rule_id, categories, team, rule_de, rule_en, why_de, why_en in RULES:
        rules.append(
            {
                "_id": rule_id,
                "_description": rule_en,
                "_description_de": rule_de,
                "in-category": ", ".join(_quoted(c) for c in categories),
                "out-team": _quoted(team),
                "out-rationale_de": _quoted(why_de),
                "out-rationale_en": _quoted(why_en),
            }
        )
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Request", "position": {"x": 80, "y": 200}},
            {
                "id": "routing",
                "type": "decisionTableNode",
                "name": "Demo routing by category",
                "position": {"x": 380, "y": 200},
                "content": {
                    "hitPolicy": "first",
                    "inputs": [{"id": "in-category", "name": "Category", "field": "category"}],
                    "outputs": [{"id": f"out-{field}", "name": name, "field": field} for field, name in outputs],
                    "rules": rules,
                },
            },
            {"id": "response", "type": "outputNode", "name": "Response", "position": {"x": 680, "y": 200}},
        ],
        "edges": [
            {"id": "e1", "sourceId": "request", "targetId": "routing", "type": "edge"},
            {"id": "e2", "sourceId": "routing", "targetId": "response", "type": "edge"},
        ],
    }


def routing_tests() -> list[dict[str, Any]]:
    return [
        {"name": "meter reading", "inputs": {"category": "billing-meter-reading"}, "expected": {"team": "Energie-Service"}},
        {"name": "card fees", "inputs": {"category": "payments-card-fees"}, "expected": {"team": "Zahlungsdienste"}},
        {"name": "anything else", "inputs": {"category": "service"}, "expected": {"team": "Beschwerdemanagement"}},
    ]


def _has_step(definition: ProcessDefinition) -> bool:
    return any(
        isinstance(effect, dict) and effect.get("type") == "decide"
        for transition in definition.definition.get("transitions", [])
        for effect in transition.get("effects") or []
    )


@transaction.atomic
def seed_routing_step() -> bool:
    """Publishes the demo routing table and the complaint version that decides with it; False
    when there is nothing to do (no demo process owner, or done before)."""
    owner = User.objects.filter(email=OWNER).first()
    complaint = ProcessDefinition.objects.filter(key="complaint", status=ProcessStatus.PUBLISHED).first()
    if owner is None or complaint is None or _has_step(complaint):
        return False
    if ProcessDefinition.objects.filter(key="complaint", status=ProcessStatus.DRAFT).exists():
        return False  # a draft of the owner's own is not overwritten
    if not DecisionTable.objects.filter(key=TABLE, status=TableStatus.PUBLISHED).exists():
        draft = DecisionTable.objects.filter(key=TABLE, status=TableStatus.DRAFT).first()
        if draft is None:
            draft = table_services.table_create(
                actor=owner,
                key=TABLE,
                name_de="Zuweisung an die Demo-Teams",
                name_en="Routing to the demo teams",
                description="Which demo team handles a complaint, by its category (a decision step of the complaint process).",
                jdm=routing_jdm(),
                tests=routing_tests(),
                strict=True,
            )
        table_services.table_publish(actor=owner, table=draft, revision=draft.revision)
    data = copy.deepcopy(complaint.definition)
    step = next(t for t in data["transitions"] if t["key"] == STEP)
    step["effects"] = [*(step.get("effects") or []), {"type": "decide", "table": TABLE}]
    created = process_services.definition_create(
        actor=owner, key="complaint", name_de=complaint.name_de, name_en=complaint.name_en, definition=data
    )
    process_services.definition_publish(actor=owner, definition=created)
    return True
